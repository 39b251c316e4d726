"""Demo budget: this fiscal year's "FY<year> marketing" with a line per demo team and a sub-line per
channel the team runs, phased by month with a seasonal shape; a few allocation requests for demo
campaigns (approved by ``finance``, and ``cmo`` where the template asks; one pending so finance has
a queue; one rejected with a comment), two commitments with a PO that a demo invoice quotes, and
one reallocation between two na-demand sub-lines (asked by ``nadia``, approved through the "Budget
transfer" workflow by ``finance`` and ``felix``).

Consistent by construction on any day and for a fiscal year starting in any month: before a line is
created, the demo works out what it will ask of it — the requests (approved, pending or rejected), the
year's spend of the campaigns they fund (a funded campaign's spend in every month counts against its
line), the commitments and the transfer — and sizes each month of each line to its seasonal plan plus
that need with headroom; a team line holds its sub-lines, its reserve and what is asked of it
directly. Requests ask only for open months that still have the money (``budgets.selectors.available``
is checked before asking), and the transfer leaves from an open month that has it.

Everything goes through the services (as the campaign owner, finance or the CMO), so the demo also
exercises workflows and audit. Idempotent: what exists is found by its natural key and skipped.
Runs after ``workflows.demo`` (the allocation template) and ``campaigns.demo`` (INSTALLED_APPS order).
"""

import datetime
from collections import defaultdict
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from budgets import selectors, services
from budgets.models import AllocationRequest, Budget, BudgetLine, Commitment, RequestStatus, Transfer
from budgets.requests import services as request_services
from budgets.transfers import services as transfer_services
from campaigns.demo import TEAMS as CAMPAIGN_TEAMS
from campaigns.facts.services import spend_upsert
from campaigns.models import Campaign, CampaignStatus, SpendEntry
from mops.models import Team
from planning.fiscal import fiscal_year_of
from planning.models import Channel, Period
from planning.services import fiscal_year_ensure
from workflows import selectors as workflow_selectors
from workflows import services as workflow_services

# Monthly budget of each team line before the seasonal shape (base currency).
TEAM_MONTHLY = {"na-demand": 120_000, "emea-field": 90_000, "apac-growth": 70_000, "brand-content": 60_000}
# Share of the year's money by fiscal month: quiet summer, strong autumn (sums to 12).
SEASON = [
    Decimal(x) for x in ("0.85", "0.95", "1.05", "1.00", "1.00", "0.90", "0.70", "0.80", "1.15", "1.25", "1.25", "1.10")
]
SUB_LINE_SHARE = Decimal("0.90")  # the channel sub-lines take 90% of the team's money; 10% is reserve
JUSTIFICATION = "Demo: media and production for the flight"
REJECTED_COMMENT = "Not this quarter: the line is needed for the Q4 events."
TRANSFER_REASON = "Demo: shift budget to the channel that converts better"
TRANSFER_AMOUNT = Decimal("2000")
COMMITMENT_AMOUNT = Decimal("3000")
HEADROOM = Decimal("1.10")  # a line holds 10% more than what the demo asks of it, on top of its plan


def seed(log=print) -> int:
    created = 0
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["finance", "cmo"])}
    if len(users) < 2 or not Campaign.objects.exists():
        log("budgets: demo users or campaigns missing — run the whole seed_demo.")
        return created
    finance, cmo = users["finance"], users["cmo"]
    today = timezone.localdate()
    fiscal_year = fiscal_year_ensure(year=fiscal_year_of(today))
    periods = list(Period.objects.filter(fiscal_year=fiscal_year).order_by("start_date"))
    teams = {t.slug: t for t in Team.objects.filter(slug__in=TEAM_MONTHLY)}
    channels = {c.slug: c for c in Channel.objects.all()}
    requests = _request_plan(_line_codes(teams, channels), periods, today)

    budget = Budget.objects.filter(fiscal_year=fiscal_year, is_current=True).first()
    plan = _phasing_plan(teams, channels, periods, today, requests)
    if budget is None:
        total = sum((sum(amounts.values()) for code, amounts in plan.items() if code in TEAM_MONTHLY), Decimal(0))
        budget = services.budget_create(
            actor=finance, fiscal_year=fiscal_year, name=f"FY{fiscal_year.year} marketing", target=total
        )
        created += 1
    lines, new_lines = _seed_lines(finance, budget, teams, channels, plan)
    created += new_lines
    created += _seed_requests(lines, requests, finance, cmo, log)
    created += _seed_commitments(lines, periods, today, finance)
    created += _seed_transfer(lines, periods, log)
    log(f"budgets: {budget} with {len(lines)} lines ({created} new rows).")
    return created


# --- the plan: what the demo will ask of each line, before any line exists --------------------


def _line_codes(teams, channels) -> dict[str, tuple[str, str | None]]:
    """{line code: (team slug, channel slug or None for the team line)} of every line the demo has."""
    codes = {}
    for slug in TEAM_MONTHLY:
        if slug not in teams:
            continue
        codes[slug] = (slug, None)
        for channel_slug, _ in CAMPAIGN_TEAMS[slug][4]:
            if channel_slug in channels:
                codes[f"{slug}-{channel_slug}"] = (slug, channel_slug)
    return codes


# What happens to each chosen campaign's request, in order: (amount over its months, outcome, on the
# team line?). The amounts are totals, spread evenly over the months asked for.
PLAN = [
    ("12000", "approved", False),
    ("60000", "approved", True),  # at or above 50,000: the CMO approves too
    ("9000", "approved", False),
    ("7500", "approved", False),
    ("15000", "rejected", False),
    ("10500", "approved", False),
    ("18000", "pending", False),  # finance's queue
    ("6000", "approved", False),
]
MONTHS_PER_REQUEST = 3


def _request_plan(codes, periods, today) -> list[dict]:
    """The requests the demo makes: [{campaign, code (of the line), outcome, months {period: amount}}]."""
    planned = []
    for campaign, (total, outcome, on_team_line) in zip(_demo_campaigns(codes), PLAN, strict=False):
        months = _months_for(campaign, periods, today)
        if not months:
            continue
        slug = campaign.team.slug
        planned.append(
            {
                "campaign": campaign,
                "code": slug if on_team_line else f"{slug}-{campaign.channel.slug}",
                "outcome": outcome,
                "months": _spread(Decimal(total), months),
            }
        )
    return planned


def _spread(total: Decimal, months: list[Period]) -> dict[Period, Decimal]:
    """``total`` over ``months`` in cents, the rounding left on the last month."""
    each = (total / len(months)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amounts = dict.fromkeys(months, each)
    amounts[months[-1]] += total - each * len(months)
    return amounts


def _months_for(campaign, periods, today, count=MONTHS_PER_REQUEST) -> list[Period]:
    """Up to ``count`` open months of the year the campaign runs in (this month onward if none)."""
    running = [
        p
        for p in periods
        if not p.is_closed and p.start_date <= campaign.end_date and p.end_date >= campaign.start_date
    ]
    later = [p for p in periods if not p.is_closed and p.end_date >= today]
    return (running or later or [p for p in periods if not p.is_closed])[:count]


def _demo_campaigns(codes) -> list[Campaign]:
    """Two campaigns per team whose channel has a sub-line, in code order: live or planned ones, else
    (on a day few are) the most recently ended."""
    chosen = []
    for slug in TEAM_MONTHLY:
        qs = (
            Campaign.objects.filter(team__slug=slug, channel__isnull=False)
            .exclude(status__in=[CampaignStatus.DRAFT, CampaignStatus.CANCELLED])
            .select_related("owner", "channel", "team")
        )
        candidates = [c for c in qs if f"{slug}-{c.channel.slug}" in codes]
        current = sorted(
            (c for c in candidates if c.status in (CampaignStatus.LIVE, CampaignStatus.PLANNED)), key=lambda c: c.code
        )
        ended = sorted((c for c in candidates if c not in current), key=lambda c: (-c.end_date.toordinal(), c.code))
        chosen += (current + ended)[:2]
    return chosen


def _phasing_plan(teams, channels, periods, today, requests) -> dict[str, dict[Period, Decimal]]:
    """{line code: {period: budget}}: each line's seasonal plan plus what the demo will ask of it, with
    headroom. What a line is asked for in a month: the requests from it (every outcome, so the pending
    one can still be approved), the spend that month of the campaigns it funds (all of it counts against
    the line that funds a campaign), the commitments of its first two approved requests (in this
    month and the request's first) and, for the transfer's source, the transfer."""
    need: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    spend = _spend_by_month({r["campaign"].pk for r in requests}, periods)
    for request in requests:
        for period, amount in request["months"].items():
            need[(request["code"], period.pk)] += amount
        for period in periods:
            need[(request["code"], period.pk)] += spend.get((request["campaign"].pk, period.pk), Decimal(0))
    current = next((p for p in periods if p.start_date <= today <= p.end_date), None)
    approved = sorted((r for r in requests if r["outcome"] == "approved"), key=lambda r: r["campaign"].code)[:2]
    for request in approved:
        for period in {current or next(iter(request["months"])), next(iter(request["months"]))}:
            need[(request["code"], period.pk)] += COMMITMENT_AMOUNT
    source, month = _transfer_source(_line_codes(teams, channels), periods)
    if source is not None:
        need[(source, month.pk)] += TRANSFER_AMOUNT

    plan: dict[str, dict[Period, Decimal]] = {}
    for slug, monthly in TEAM_MONTHLY.items():
        if slug not in teams:
            continue
        weights = [(c, w) for c, w in CAMPAIGN_TEAMS[slug][4] if c in channels]
        total_weight = sum(w for _, w in CAMPAIGN_TEAMS[slug][4])
        team = {}
        for i, period in enumerate(periods):
            seasonal = Decimal(monthly) * SEASON[i % 12]
            subs = Decimal(0)
            for channel_slug, weight in weights:
                code = f"{slug}-{channel_slug}"
                share = SUB_LINE_SHARE * weight / total_weight
                amount = _ceil(seasonal * share + need[(code, period.pk)] * HEADROOM)
                plan.setdefault(code, {})[period] = amount
                subs += amount
            reserve = seasonal * (1 - SUB_LINE_SHARE)
            team[period] = _ceil(subs + reserve + need[(slug, period.pk)] * HEADROOM)
        plan[slug] = team
    return plan


def _ceil(amount: Decimal, step: Decimal = Decimal("100")) -> Decimal:
    """Rounded up to a whole ``step`` (plans are round numbers)."""
    return (amount / step).quantize(Decimal("1"), rounding=ROUND_CEILING) * step


def _spend_by_month(campaign_ids, periods) -> dict[tuple[int, int], Decimal]:
    """{(campaign id, period id): spend in base currency} over the fiscal year, one query."""
    if not periods or not campaign_ids:
        return {}
    by_month = {(p.start_date.year, p.start_date.month): p.pk for p in periods}
    rows = (
        SpendEntry.objects.filter(
            campaign_id__in=campaign_ids, date__gte=periods[0].start_date, date__lte=periods[-1].end_date
        )
        .annotate(month=TruncMonth("date"))
        .values_list("campaign_id", "month")
        .annotate(total=Sum("amount_base"))
    )
    return {(c, by_month[(m.year, m.month)]): total for c, m, total in rows if (m.year, m.month) in by_month}


def _transfer_source(codes, periods) -> tuple[str | None, Period | None]:
    """The transfer moves money between the first two na-demand sub-lines, in the year's last open month."""
    sub_lines = sorted(code for code in codes if code.startswith("na-demand-"))
    month = next((p for p in reversed(periods) if not p.is_closed), None)
    if len(sub_lines) < 2 or month is None:
        return None, None
    return sub_lines[0], month


# --- writing it -------------------------------------------------------------------------------


def _seed_lines(finance, budget, teams, channels, plan) -> tuple[dict[str, BudgetLine], int]:
    existing = {line.code: line for line in BudgetLine.objects.filter(budget=budget)}
    created = 0
    for slug in TEAM_MONTHLY:
        if slug not in teams:
            continue
        parent = existing.get(slug)
        if parent is None:
            parent = services.line_create(
                actor=finance, budget=budget, name=teams[slug].name, code=slug, team=teams[slug]
            )
            services.phasing_set(actor=finance, line=parent, amounts=plan[slug], note="Demo plan")
            existing[slug], created = parent, created + 1 + len(plan[slug])
        for channel_slug, _ in CAMPAIGN_TEAMS[slug][4]:
            code = f"{slug}-{channel_slug}"
            if code in existing or channel_slug not in channels:
                continue
            line = services.line_create(
                actor=finance,
                budget=budget,
                name=f"{teams[slug].name} · {channels[channel_slug].name}",
                code=code,
                parent=parent,
                team=teams[slug],
                channel=channels[channel_slug],
            )
            services.phasing_set(actor=finance, line=line, amounts=plan[code], note="Demo plan")
            existing[code], created = line, created + 1 + len(plan[code])
    return existing, created


def _seed_requests(lines, requests, finance, cmo, log) -> int:
    created = 0
    for planned in requests:
        campaign = planned["campaign"]
        if AllocationRequest.objects.filter(campaign=campaign, justification=JUSTIFICATION).exists():
            continue
        line = lines.get(planned["code"])
        if line is None:
            continue
        # Only where money is left: a month the line cannot fund is not asked for.
        months = {p: a for p, a in planned["months"].items() if selectors.available(line=line, period=p) >= a}
        if not months:
            log(f"budgets: no money left on {line} for {campaign}; its demo request is skipped.")
            continue
        request = request_services.allocation_request_create(
            actor=campaign.owner,
            line=line,
            months=months,
            currency=settings.BASE_CURRENCY,
            justification=JUSTIFICATION,
            campaign=campaign,
        )
        created += 1 + len(months)
        for approver in (finance, cmo):
            request.refresh_from_db()
            if planned["outcome"] == "pending" or request.status != RequestStatus.PENDING:
                break
            task = (
                workflow_selectors.my_tasks(approver)
                .filter(instance=workflow_selectors.open_instance_of(request))
                .first()
            )
            if task is None:
                continue
            if planned["outcome"] == "rejected":
                workflow_services.task_act(actor=approver, task=task, action="reject", comment=REJECTED_COMMENT)
            else:
                workflow_services.task_act(actor=approver, task=task, action="approve", comment="Demo: fits the plan.")
    return created


def _seed_commitments(lines, periods, today, finance) -> int:
    """A PO for two of the approved campaigns; the first one's vendor has invoiced part of it."""
    created = 0
    approved = (
        AllocationRequest.objects.filter(justification=JUSTIFICATION, status=RequestStatus.APPROVED)
        .select_related("campaign__owner", "line")
        .order_by("campaign__code")[:2]
    )
    current = next((p for p in periods if p.start_date <= today <= p.end_date and not p.is_closed), None)
    for number, request in enumerate(approved, start=1):
        reference = f"PO-DEMO-{number:04d}"
        period = current or request.months.order_by("period__start_date").first().period
        if not Commitment.objects.filter(line=request.line, reference=reference).exists():
            services.commitment_create(
                actor=finance,
                line=request.line,
                campaign=request.campaign,
                vendor="Northwind Media" if number == 1 else "Contoso Events",
                reference=reference,
                amount=COMMITMENT_AMOUNT,
                currency=settings.BASE_CURRENCY,
                period=period,
            )
            created += 1
        if number == 1 and current is not None:
            # The first invoice against the PO: spend quoting its reference releases that much.
            outcome = spend_upsert(
                actor=request.campaign.owner,
                campaign=request.campaign,
                date=_invoice_day(current, today),
                external_key=f"demo-invoice-{reference}",
                amount=Decimal("1200"),
                currency=settings.BASE_CURRENCY,
                vendor="Northwind Media",
                reference=reference,
                note="Demo invoice",
            )
            created += outcome.outcome == "created"
    return created


def _invoice_day(period, today) -> datetime.date:
    return min(today, period.end_date)


def _seed_transfer(lines, periods, log) -> int:
    """One approved reallocation between two na-demand sub-lines, in the year's last open month (its
    source line was sized for it)."""
    if Transfer.objects.filter(reason=TRANSFER_REASON).exists():
        return 0
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["nadia", "finance", "felix"])}
    source_code, month = _transfer_source(lines, periods)
    sub_lines = sorted(code for code in lines if code.startswith("na-demand-"))
    if len(users) < 3 or source_code is None:
        log("budgets: demo transfer skipped (users, na-demand sub-lines or an open month missing).")
        return 0
    source, target = lines[source_code], lines[sub_lines[1]]
    if selectors.available(line=source, period=month) < TRANSFER_AMOUNT:
        log(f"budgets: demo transfer skipped ({source} has not {TRANSFER_AMOUNT} left in {month}).")
        return 0
    transfer = transfer_services.transfer_request_create(
        actor=users["nadia"],
        from_line=source,
        from_period=month,
        to_line=target,
        to_period=month,
        amount=TRANSFER_AMOUNT,
        reason=TRANSFER_REASON,
    )
    for approver in (users["finance"], users["felix"]):
        instance = workflow_selectors.open_instance_of(transfer)
        task = workflow_selectors.my_tasks(approver).filter(instance=instance).first() if instance else None
        if task is not None:
            workflow_services.task_act(actor=approver, task=task, action="approve", comment="Demo: agreed.")
    transfer.refresh_from_db()
    return 1 + (2 if transfer.status == RequestStatus.APPROVED else 0)
