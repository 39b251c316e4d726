"""Campaigns' part of the demo organisation: eight programs, about sixty campaigns across the four
demo teams, and a year of daily spend and results that behave like a B2B business. Demo data only.

Deterministic (``random.Random(2026)``, dates relative to today) and idempotent: programs and
campaigns are found by code, facts are keyed (spend: source "generic", external key "demo";
results: one row per campaign, day and source), so a second run on the same day creates nothing
and changes nothing. A run on a later day adds the days that passed meanwhile.

The shape of the numbers: channel-typical cost per click, click-through and cost per lead; a lead →
MQL → SQL → opportunity → won funnel with the usual B2B rates and lags; pipeline per opportunity by
channel and segment; weekday rhythm, a Q4 peak, an August and a late-December dip; a few campaigns
spending over plan. Here: the plan, programs and campaigns; the numbers (channel profiles, funnel,
seasons) and the facts are ``campaigns.demo_facts``.
"""

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from campaigns import hooks, services
from campaigns.demo_facts import (
    FUNNEL,
    PROFILES,
    RESULT_COLUMNS,
    SEGMENT_DEAL_SIZE,
    SPEND_COLUMNS,
    WINDOW_DAYS,
    Profile,
    facts,
    insert_new,
)
from campaigns.models import Campaign, CampaignStatus, Program, ResultFact, SpendEntry
from mops.models import Team
from mops.money import money
from mops.selectors import FxRateMissing, fx_rate_on, to_base_currency
from mops.services import audit
from planning.demo import OBJECTIVES
from planning.models import Channel, Objective, Region, Segment

SEED = 2026
AHEAD_DAYS = 110  # campaigns planned up to a few months ahead (facts: ``demo_facts.WINDOW_DAYS`` back)


THEMES = {
    "paid-search": ("High-intent search", "Competitor conquest", "Brand terms always-on", "Data platform search"),
    "paid-social": ("LinkedIn lead gen", "Executive thought leadership ads", "Retargeting social"),
    "display": ("Programmatic ABM display", "Retargeting display"),
    "video": ("Customer story video", "Product launch video"),
    "affiliate": ("Review-site listings", "Affiliate partners"),
    "email": ("Nurture track", "Newsletter", "Win-back sequence"),
    "content": ("State of data report", "Buyer's guide", "Benchmark study"),
    "website-and-seo": ("Website conversion program", "SEO content hub"),
    "direct-mail": ("Executive gift box", "ABM direct mail"),
    "pr": ("Analyst relations push", "Launch press tour"),
    "organic-social": ("Employee advocacy", "Community series"),
    "events": ("Trade show", "Customer summit", "Executive dinner series"),
    "webinars": ("Webinar series", "Product demo webinar", "Partner webinar"),
    "partner": ("Co-marketing with resellers", "Cloud marketplace program"),
}

# (name, code, team slug, objective index in planning.demo.OBJECTIVES, description)
PROGRAMS = [
    ("Always-on Demand Gen", "always-on-demand-gen", "na-demand", 1, "Search, social and display that never stop."),
    ("Enterprise ABM", "enterprise-abm", "na-demand", 0, "Named accounts in North America, all channels."),
    ("EMEA Field Events", "emea-field-events", "emea-field", 0, "Trade shows, summits and dinners across EMEA."),
    ("EMEA Partner Accelerate", "emea-partner-accelerate", "emea-field", 2, "Co-marketing with EMEA resellers."),
    ("APAC Market Entry", "apac-market-entry", "apac-growth", 2, "New-logo programs in ANZ, Japan and Singapore."),
    ("APAC Digital Growth", "apac-digital-growth", "apac-growth", 1, "Paid and affiliate growth in APAC."),
    ("Brand Awareness", "brand-awareness", "brand-content", None, "Reach and consideration: video, PR, social."),
    ("Thought Leadership Content", "thought-leadership", "brand-content", 1, "Reports, guides and the SEO hub."),
]

# team slug: (short code, owners, region code, currencies to pick from, [(channel slug, weight)], campaigns, programs)
TEAMS = {
    "na-demand": (
        "na",
        ["nadia", "marketer", "bianca"],
        "na",
        ["USD"],
        [
            ("paid-search", 4),
            ("paid-social", 3),
            ("display", 2),
            ("webinars", 3),
            ("email", 2),
            ("events", 2),
            ("direct-mail", 1),
            ("partner", 1),
        ],
        18,
        ["always-on-demand-gen", "enterprise-abm"],
    ),
    "emea-field": (
        "emea",
        ["elena", "emil"],
        "emea",
        ["EUR", "EUR", "GBP", "USD"],
        [("events", 4), ("webinars", 3), ("partner", 3), ("paid-social", 2), ("email", 2), ("direct-mail", 1)],
        16,
        ["emea-field-events", "emea-partner-accelerate"],
    ),
    "apac-growth": (
        "apac",
        ["aiko", "raj"],
        "apac",
        ["USD"],
        [
            ("paid-search", 3),
            ("paid-social", 3),
            ("affiliate", 2),
            ("partner", 2),
            ("webinars", 2),
            ("display", 1),
            ("video", 1),
        ],
        14,
        ["apac-market-entry", "apac-digital-growth"],
    ),
    "brand-content": (
        "brand",
        ["bianca"],
        None,
        ["USD"],
        [("video", 3), ("content", 3), ("website-and-seo", 2), ("pr", 2), ("organic-social", 2), ("display", 1)],
        12,
        ["brand-awareness", "thought-leadership"],
    ),
}
# Each team's always-on campaigns: running since about a year ago (the baseline of every month).
ALWAYS_ON = {
    "na-demand": ["paid-search", "paid-social"],
    "emea-field": ["paid-social"],
    "apac-growth": ["paid-search", "affiliate"],
    "brand-content": ["website-and-seo"],
}
SEGMENT_CODES = ["enterprise", "enterprise", "mid-market", "mid-market", "smb", "analytics", "data-platform"]


@dataclass
class Spec:
    """One demo campaign, fully decided before anything is written (so the RNG never depends on the DB)."""

    team: str
    code: str
    name: str
    owner: str
    channel: str
    program: str
    region: str | None
    segment: str
    currency: str
    start: datetime.date
    end: datetime.date
    status: str
    planned_cost: Decimal  # in ``currency``
    pace: float  # actual spend / planned (a few over plan)
    efficiency: float  # this campaign's leads per dollar relative to the channel's
    rates: dict = field(default_factory=dict)  # funnel rates
    cancelled_on: datetime.date | None = None


def seed(log=print) -> int:
    today = timezone.localdate()
    rng = random.Random(SEED)
    specs = _plan(rng, today)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=_owners())}
    missing = sorted(_owners() - set(users))
    if missing or Team.objects.filter(slug__in=TEAMS).count() != len(TEAMS):
        log(f"Campaign demo data skipped: demo users or teams missing ({', '.join(missing) or 'teams'}).")
        return 0
    programs, new_programs = _seed_programs(users)
    campaigns, new_campaigns = _seed_campaigns(specs, users, programs, today)
    spend_rows, result_rows = facts(rng, specs, campaigns, users, today)
    new_spend = insert_new(SpendEntry, SPEND_COLUMNS, spend_rows)
    new_results = insert_new(ResultFact, RESULT_COLUMNS, result_rows)
    if spend_rows or result_rows:  # bulk writes announce themselves (the rollups listen)
        rows = (*spend_rows, *result_rows)  # the campaign id and the day lead every row
        days = [row[1] for row in rows]
        hooks.facts_changed_on_commit({row[0] for row in rows}, min(days), max(days))
    log(
        f"Campaigns: {new_programs} programs, {new_campaigns} campaigns, {new_spend} spend entries and "
        f"{new_results} daily results created."
    )
    return new_programs + new_campaigns + new_spend + new_results


def _owners() -> set[str]:
    return {owner for team in TEAMS.values() for owner in team[1]}


# --- the plan -------------------------------------------------------------------------------


def _plan(rng: random.Random, today: datetime.date) -> list[Spec]:
    """Campaign specs per team: its always-on campaigns from about a year ago, the rest launching
    between a year ago and a few months ahead, more often in spring and autumn."""
    specs, codes = [], Counter()
    first_day = today - datetime.timedelta(days=WINDOW_DAYS)
    launch_days = [first_day + datetime.timedelta(days=n) for n in range(-45, WINDOW_DAYS + AHEAD_DAYS)]
    for team_slug, (short, owners, region, currencies, channels, count, program_codes) in TEAMS.items():
        slugs, weights = zip(*channels, strict=True)
        always_on = ALWAYS_ON[team_slug]
        for n in range(count):
            if n < len(always_on):
                channel = always_on[n]
                start = first_day - datetime.timedelta(days=rng.randint(0, 40))  # its facts start with the window
                duration = rng.randint(330, 450)
            else:
                channel = rng.choices(slugs, weights)[0]
                start, duration = first_day, 0
                # Some launched before the window, but each runs ten days into it at least; programs
                # with a date (events, webinars, mailings…) neither launch nor end in a quiet time.
                while start + datetime.timedelta(days=duration) < first_day + datetime.timedelta(days=10) or (
                    _quiet(start + datetime.timedelta(days=duration)) and not PROFILES[channel].daily
                ):
                    start = rng.choices(launch_days, _launch_weights(launch_days, PROFILES[channel]))[0]
                    duration = rng.randint(*PROFILES[channel].days)
            profile = PROFILES[channel]
            theme = rng.choice(THEMES[channel])
            end = start + datetime.timedelta(days=duration)
            cost = rng.randrange(profile.cost[0], profile.cost[1], 500)
            if profile.daily:  # bought by the day: the budget follows the duration
                cost = round(cost * duration / (sum(profile.days) / 2), -2)
            base = f"{short}-{slugify(theme)}"[:52]
            codes[base] += 1
            code = base if codes[base] == 1 else f"{base}-{codes[base]}"
            quarter = f"Q{(start.month - 1) // 3 + 1} {start.year}"
            specs.append(
                Spec(
                    team=team_slug,
                    code=code,
                    name=f"{short.upper()} {theme} ({quarter})",
                    owner=rng.choice(owners),
                    channel=channel,
                    program=program_codes[0] if profile.daily else rng.choice(program_codes),
                    region=region or rng.choice(["na", "emea", "apac", "latam"]),
                    segment=rng.choice(SEGMENT_CODES),
                    currency=rng.choice(currencies),
                    start=start,
                    end=end,
                    status=_status_on(today, start, end),
                    planned_cost=Decimal(cost),
                    pace=rng.uniform(1.15, 1.3) if rng.random() < 0.08 else rng.uniform(0.88, 1.02),
                    efficiency=rng.uniform(0.75, 1.25),
                    rates={
                        stage: min(high, max(low, rng.uniform(low, high) * profile.quality))
                        for stage, (low, high) in FUNNEL.items()
                    },
                )
            )
    _mark_exceptions(rng, specs, today)
    return specs


# How likely a campaign launches in each month: B2B plans around Q4 and spring, not August.
LAUNCHES = {1: 0.7, 2: 1.0, 3: 1.2, 4: 1.2, 5: 1.1, 6: 0.9, 7: 0.6, 8: 0.25, 9: 1.4, 10: 1.5, 11: 1.2, 12: 0.4}


def _quiet(day: datetime.date) -> bool:
    """August and the holidays: nobody runs an event or sends a mailing then."""
    return day.month == 8 or (day.month == 12 and day.day >= 15) or (day.month == 1 and day.day < 7)


def _launch_weights(days: list[datetime.date], profile: Profile) -> list[float]:
    return [0.0 if _quiet(day) and not profile.daily else LAUNCHES[day.month] for day in days]


def _status_on(today, start, end) -> str:
    if end < today:
        return CampaignStatus.COMPLETED
    if start < today:  # live campaigns have spent something by yesterday
        return CampaignStatus.LIVE
    return CampaignStatus.PLANNED


def _mark_exceptions(rng: random.Random, specs: list[Spec], today: datetime.date) -> None:
    """A couple of cancelled campaigns (one stopped midway, one never started) and a couple of drafts."""
    past = [s for s in specs if s.status == CampaignStatus.COMPLETED and s.end < today - datetime.timedelta(days=60)]
    future = [s for s in specs if s.status == CampaignStatus.PLANNED]
    stopped = rng.choice(past)
    stopped.status = CampaignStatus.CANCELLED
    stopped.cancelled_on = stopped.start + (stopped.end - stopped.start) * 2 // 5
    for spec, status in zip(
        rng.sample(future, 3), [CampaignStatus.CANCELLED, CampaignStatus.DRAFT, CampaignStatus.DRAFT], strict=True
    ):
        spec.status = status


# --- programs and campaigns -----------------------------------------------------------------


def _seed_programs(users) -> tuple[dict[str, Program], int]:
    """Through ``services.program_create`` (validated and audited), as the team's lead."""
    leads = {"na-demand": "nadia", "emea-field": "elena", "apac-growth": "aiko", "brand-content": "bianca"}
    objectives = {o.name: o for o in Objective.objects.filter(name__in=[name for name, _, _ in OBJECTIVES])}
    teams = {t.slug: t for t in Team.objects.filter(slug__in=TEAMS)}
    programs, created = {p.code: p for p in Program.objects.filter(code__in=[p[1] for p in PROGRAMS])}, 0
    for name, code, team_slug, objective_index, description in PROGRAMS:
        if code in programs:
            continue
        owner = users[leads[team_slug]]
        objective = objectives.get(OBJECTIVES[objective_index][0]) if objective_index is not None else None
        programs[code] = services.program_create(
            actor=owner,
            name=name,
            code=code,
            team=teams[team_slug],
            objective=objective,
            owner=owner,
            description=description,
        )
        created += 1
    return programs, created


def _seed_campaigns(specs, users, programs, today) -> tuple[dict[str, Campaign], int]:
    """Campaigns go through ``services.campaign_create`` — validated, converted at the start date's
    rate and audited like any other — as their owner. Their status is then set directly (with an
    audit event): the demo's history happened before the launch workflow existed, so replaying it
    through launch review (or refusing planned → live once a launch template is active) would be
    wrong."""
    existing = {c.code: c for c in Campaign.objects.filter(code__in=[s.code for s in specs])}
    teams = {t.slug: t for t in Team.objects.filter(slug__in=TEAMS)}
    channels = {c.slug: c for c in Channel.objects.filter(slug__in=PROFILES)}
    regions = {r.code: r for r in Region.objects.all()}
    segments = {s.code: s for s in Segment.objects.all()}
    created = 0
    for spec in specs:
        if spec.code in existing:
            continue
        profile = PROFILES[spec.channel]
        owner = users[spec.owner]
        program = programs[spec.program]
        # The objectives are this fiscal year's: only campaigns running in it serve them.
        objective = program.objective
        if objective is not None and spec.end < objective.fiscal_year.start_date:
            objective = None
        currency = spec.currency if _has_rate(spec.currency, spec.start) else settings.BASE_CURRENCY
        base_cost = float(to_base_currency(spec.planned_cost, currency, spec.start))
        leads = int(base_cost / (sum(profile.cpl) / 2))
        mqls = int(leads * sum(FUNNEL["mql"]) / 2)
        opps = mqls * 0.3 * 0.45
        deal = sum(profile.per_opp) / 2 * SEGMENT_DEAL_SIZE.get(spec.segment, 1.0)
        campaign = services.campaign_create(
            actor=owner,
            team=teams[spec.team],
            name=spec.name,
            code=spec.code,
            owner=owner,
            program=program,
            channel=channels[spec.channel],
            region=regions.get(spec.region),
            segment=segments.get(spec.segment),
            objective=objective,
            start_date=spec.start,
            end_date=spec.end,
            description=f"Demo campaign: {spec.name}, {channels[spec.channel].name.lower()} for {spec.segment}.",
            planned_cost=spec.planned_cost,
            currency=currency,
            expected_leads=leads,
            expected_mqls=mqls,
            expected_pipeline=money(opps * deal),
            expected_revenue=money(opps * deal * 0.25),
            landing_url=f"https://www.example.com/lp/{spec.code}",
            utm_source=spec.channel,
            utm_medium="cpc" if profile.daily else spec.channel,
        )
        if spec.status != CampaignStatus.DRAFT:
            with transaction.atomic():
                Campaign.objects.filter(pk=campaign.pk).update(status=spec.status)
                audit(
                    actor=owner,
                    action="campaign.status",
                    obj=campaign,
                    before={"status": CampaignStatus.DRAFT},
                    after={"status": spec.status},
                )
            campaign.status = spec.status
        existing[spec.code] = campaign
        created += 1
    return existing, created


def _has_rate(currency: str, on: datetime.date) -> bool:
    try:
        fx_rate_on(currency, on)
    except FxRateMissing:
        return False
    return True
