"""The numbers of the demo's campaigns (see ``campaigns.demo``): channel profiles (cost per click,
click-through, lead rate …), the B2B funnel and its lags, the seasons, and a year of daily spend and
results per campaign written in bulk. Demo data only.

Deterministic for a given ``random.Random`` and today; facts are keyed (spend: source "generic",
external key "demo"; results: one row per campaign, day and source), so a re-run conflict-skips.
"""

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from campaigns.models import RESULT_MEASURES, CampaignStatus, FactSource
from mops.money import money
from mops.selectors import to_base_currency

DEMO_KEY = "demo"  # the external key of every demo spend row: re-runs conflict-skip on it
WINDOW_DAYS = 365  # facts for the last twelve months (campaigns are planned ``demo.AHEAD_DAYS`` ahead)


@dataclass(frozen=True)
class Profile:
    """How a channel spends and converts. Costs in US dollars (demo figures, not benchmarks)."""

    daily: bool  # paid media bill by the day; the rest by invoice
    cost: tuple[int, int]  # planned cost of one campaign
    days: tuple[int, int]  # duration
    cpl: tuple[float, float]  # cost per lead (paid media: cost per click / click-to-lead rate)
    ctr: tuple[float, float]  # clicks per impression
    lead_rate: tuple[float, float]  # leads per click
    per_opp: tuple[int, int]  # pipeline per opportunity
    quality: float  # lead quality: scales the funnel rates a little (events and partners qualify better)


def _paid(cpc, ctr, lead_rate, cost, days, per_opp, quality) -> Profile:
    cpl = (cpc[0] / lead_rate[1], cpc[1] / lead_rate[0])
    return Profile(True, cost, days, cpl, ctr, lead_rate, per_opp, quality)


# channel: spend billed daily?, planned cost range, duration range (days), cost per click (paid media;
# cost per lead follows from the click-to-lead rate) or per lead, click-through rate, leads per click,
# pipeline per opportunity, lead quality.
_P = Profile
PROFILES = {
    "paid-search": _paid((4, 9), (0.03, 0.06), (0.03, 0.05), (45_000, 135_000), (120, 365), (11_000, 18_000), 1.0),
    "paid-social": _paid((6, 11), (0.005, 0.009), (0.02, 0.035), (37_500, 105_000), (90, 240), (13_500, 20_000), 0.95),
    "display": _paid((1.5, 3), (0.001, 0.0025), (0.006, 0.012), (22_500, 60_000), (90, 180), (9_000, 13_500), 0.85),
    "video": _paid((2, 4), (0.003, 0.006), (0.005, 0.01), (45_000, 120_000), (45, 120), (9_000, 16_000), 0.85),
    "affiliate": _P(True, (15_000, 37_500), (180, 365), (60, 100), (0.01, 0.02), (0.04, 0.07), (7_000, 11_000), 0.9),
    "email": _P(False, (3_000, 12_000), (60, 120), (20, 45), (0.02, 0.04), (0.08, 0.15), (9_000, 13_500), 0.95),
    "content": _P(False, (15_000, 45_000), (90, 180), (60, 120), (0.01, 0.03), (0.05, 0.1), (11_000, 18_000), 1.0),
    "website-and-seo": _P(
        False, (12_000, 37_500), (180, 365), (40, 90), (0.02, 0.05), (0.02, 0.04), (9_000, 16_000), 0.95
    ),
    "direct-mail": _P(False, (22_500, 60_000), (30, 60), (250, 450), (0.03, 0.06), (0.1, 0.2), (20_000, 31_500), 1.1),
    "pr": _P(False, (15_000, 45_000), (30, 90), (500, 900), (0.005, 0.01), (0.01, 0.02), (13_500, 22_500), 0.9),
    "organic-social": _P(
        False, (3_000, 9_000), (60, 120), (80, 160), (0.005, 0.015), (0.01, 0.03), (9_000, 13_500), 0.85
    ),
    "events": _P(False, (50_000, 160_000), (30, 60), (250, 600), (0.05, 0.1), (0.3, 0.5), (27_000, 40_500), 1.15),
    "webinars": _P(False, (7_500, 22_500), (21, 45), (70, 140), (0.02, 0.04), (0.2, 0.35), (16_000, 22_500), 1.05),
    "partner": _P(False, (30_000, 90_000), (90, 180), (120, 200), (0.01, 0.03), (0.1, 0.2), (22_500, 36_000), 1.1),
}

# Funnel rates (per campaign, scaled a little by channel quality) and lags in days after the lead.
FUNNEL = {"mql": (0.30, 0.40), "sql": (0.25, 0.35), "opp": (0.40, 0.50), "won": (0.20, 0.30)}
LAGS = {"mql": (0, 3), "sql": (5, 15), "opp": (10, 30), "won": (30, 90)}
SEGMENT_DEAL_SIZE = {"enterprise": 1.4, "mid-market": 1.0, "smb": 0.55}
# Spend and lead rhythm by month (Q4 peak, summer and August dip); late December is its own dip.
SEASON = {1: 0.9, 2: 0.95, 3: 1.05, 4: 1.0, 5: 1.0, 6: 0.95, 7: 0.85, 8: 0.7, 9: 1.05, 10: 1.15, 11: 1.2, 12: 1.1}


def _factor(day: datetime.date) -> float:
    if day.month == 12 and day.day >= 20:
        return 0.45  # the holidays
    return SEASON[day.month]


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def _round(rng: random.Random, x: float) -> int:
    """Stochastic rounding: 2.3 is 2 seven times in ten and 3 three times."""
    whole = int(x)
    return whole + (rng.random() < x - whole)


# The columns the demo writes, in the order of the rows ``facts`` builds (campaign id and day first).
SPEND_COLUMNS = [
    "campaign",
    "date",
    "amount",
    "currency",
    "amount_base",
    "vendor",
    "reference",
    "note",
    "source",
    "external_key",
    "created_by",
    "created_at",
    "updated_at",
]
RESULT_COLUMNS = ["campaign", "date", "source", *RESULT_MEASURES, "updated_by", "updated_at"]
MONEY_MEASURES = {"pipeline", "revenue"}


def insert_new(model, columns: list[str], rows: list[tuple]) -> int:
    """Insert the rows whose key is not stored yet (``ON CONFLICT DO NOTHING``: a re-run keeps the
    facts it finds) and return how many were new. On PostgreSQL one statement per table, the rows
    travelling as one array per column (as ``campaigns.imports.upserts.Upsert`` sends them), with no
    model instance per row; elsewhere (SQLite, the embedded run) ``bulk_create``."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        before = model.objects.count()
        names = [model._meta.get_field(c).attname for c in columns]
        model.objects.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=2000, ignore_conflicts=True
        )
        return model.objects.count() - before
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(c) for c in columns]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING",
            [list(column) for column in zip(*rows, strict=True)],
        )
        return cursor.rowcount


def facts(rng, specs, campaigns, users, today):
    """Spend rows (daily for paid media, invoices for the rest) and daily result rows, in memory, as
    tuples in ``SPEND_COLUMNS`` and ``RESULT_COLUMNS`` order."""
    first_day = today - datetime.timedelta(days=WINDOW_DAYS)
    yesterday = today - datetime.timedelta(days=1)
    now = timezone.now()
    spend_rows, result_rows = [], []
    for spec in specs:
        campaign = campaigns[spec.code]
        # The campaign as stored (a later run finds the dates of the first), the spec for the rest.
        if campaign.status not in (CampaignStatus.LIVE, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
            continue
        start, end = campaign.start_date, campaign.end_date
        last = min(end, spec.cancelled_on or end, yesterday)
        if last < start:
            continue
        profile = PROFILES[spec.channel]
        owner = users[spec.owner]
        days = (end - start).days + 1
        per_day = float(campaign.planned_cost) / days * spec.pace  # in the campaign's currency
        rate = float(campaign.planned_cost_base / campaign.planned_cost) if campaign.planned_cost else 1.0
        if profile.daily:
            spend = _daily_spend(rng, start, last, per_day)
        else:
            spend = _invoices(rng, start, end, last, float(campaign.planned_cost) * spec.pace)
        vendor = _vendor(spec.channel)
        for day, amount in spend:
            if first_day <= day <= yesterday:
                base = to_base_currency(amount, campaign.currency, day)
                row = (campaign.pk, day, amount, campaign.currency, base, vendor, "", "", FactSource.GENERIC)
                spend_rows.append((*row, DEMO_KEY, owner.pk, now, now))
        results = _results(rng, spec, profile, start, last, per_day * rate)
        for day, measures in sorted(results.items()):
            if first_day <= day <= yesterday:
                values = (money(measures[k]) if k in MONEY_MEASURES else int(measures[k]) for k in RESULT_MEASURES)
                result_rows.append((campaign.pk, day, FactSource.GENERIC, *values, owner.pk, now))
    return spend_rows, result_rows


def _days(start, last):
    day = start
    while day <= last:
        yield day
        day += datetime.timedelta(days=1)


def _daily_spend(rng, start, last, per_day):
    for day in _days(start, last):
        weekday = 1.12 if day.weekday() < 5 else 0.6
        amount = per_day * weekday * _factor(day) * rng.uniform(0.85, 1.15)
        yield day, money(amount)


def _invoices(rng, start, end, last, total):
    """A deposit at the start, then roughly monthly invoices, the balance at the end."""
    days = (end - start).days
    count = max(2, days // 30 + 1)
    shares = [rng.uniform(0.6, 1.4) for _ in range(count)]
    for index, share in enumerate(shares):
        day = start + datetime.timedelta(days=days * index // (count - 1))
        if day <= last:
            yield day, money(total * share / sum(shares))


def _vendor(channel: str) -> str:
    return {
        "paid-search": "Google Ads",
        "paid-social": "LinkedIn",
        "display": "The Trade Desk",
        "video": "YouTube",
        "affiliate": "Impact",
        "email": "Mailhouse Ltd",
        "events": "Expo Services",
        "webinars": "ON24",
        "partner": "Partner MDF",
        "direct-mail": "Sendoso",
        "pr": "Brightline PR",
    }.get(channel, "Agency")


def _results(rng, spec, profile, start, last, per_day_base) -> dict[datetime.date, dict[str, float]]:
    """Leads on each active day from spend (cost per lead), then each cohort down the funnel with lags."""
    days: dict[datetime.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    cpl = rng.uniform(*profile.cpl) / spec.efficiency
    ctr, lead_rate = rng.uniform(*profile.ctr), rng.uniform(*profile.lead_rate)
    deal = rng.uniform(*profile.per_opp) * SEGMENT_DEAL_SIZE.get(spec.segment, 1.0)

    def later(day, stage):
        return day + datetime.timedelta(days=rng.randint(*LAGS[stage]))

    for day in _days(start, last):
        weekday = 1.15 if day.weekday() < 5 else 0.45
        season = _factor(day)
        leads = _round(rng, per_day_base * weekday * season * rng.uniform(0.7, 1.3) / cpl)
        clicks = _round(rng, max(leads, 1) / lead_rate * rng.uniform(0.8, 1.2))
        today_row = days[day]
        today_row["impressions"] += _round(rng, clicks / ctr)
        today_row["clicks"] += clicks
        today_row["leads"] += leads
        for _ in range(_binomial(rng, leads, spec.rates["mql"])):
            mql_day = later(day, "mql")
            days[mql_day]["mqls"] += 1
            if rng.random() >= spec.rates["sql"]:
                continue
            sql_day = later(mql_day, "sql")
            days[sql_day]["sqls"] += 1
            if rng.random() >= spec.rates["opp"]:
                continue
            opp_day = later(sql_day, "opp")
            value = deal * rng.uniform(0.6, 1.5)
            days[opp_day]["opportunities"] += 1
            days[opp_day]["pipeline"] += value
            if rng.random() < spec.rates["won"]:
                won_day = later(opp_day, "won")
                days[won_day]["new_customers"] += 1
                days[won_day]["revenue"] += value * rng.uniform(0.85, 1.0)
    return days
