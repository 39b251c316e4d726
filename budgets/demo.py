"""Demo budget: this fiscal year's "FY<year> marketing" with a line per demo team and a sub-line per
channel the team runs, phased by month with a seasonal shape; a few allocation requests for demo
campaigns (approved by ``finance``, and ``cmo`` where the template asks; one pending so finance has
a queue; one rejected with a comment), two commitments with a PO that a demo invoice quotes, and
one reallocation between two na-demand sub-lines (asked by ``nadia``, approved through the "Budget
transfer" workflow by ``finance`` and ``felix``).

Everything goes through the services (as the campaign owner, finance or the CMO), so the demo also
exercises workflows and audit. Idempotent: what exists is found by its natural key and skipped.
Runs after ``workflows.demo`` (the allocation template) and ``campaigns.demo`` (INSTALLED_APPS order).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from budgets import services
from budgets.models import AllocationRequest, Budget, BudgetLine, Commitment, RequestStatus, Transfer
from campaigns.demo import TEAMS as CAMPAIGN_TEAMS
from campaigns.models import Campaign, CampaignStatus
from mops.models import Team
from planning.fiscal import fiscal_year_of
from planning.models import Channel, Period
from planning.services import fiscal_year_ensure

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

    budget = Budget.objects.filter(fiscal_year=fiscal_year, is_current=True).first()
    if budget is None:
        total = sum(TEAM_MONTHLY.values()) * 12
        budget = services.budget_create(
            actor=finance, fiscal_year=fiscal_year, name=f"FY{fiscal_year.year} marketing", target=Decimal(total)
        )
        created += 1
    lines, new_lines = _seed_lines(finance, budget, periods)
    created += new_lines
    created += _seed_requests(lines, periods, today, finance, cmo)
    created += _seed_commitments(lines, periods, today, finance)
    created += _seed_transfer(lines, periods, log)
    log(f"budgets: {budget} with {len(lines)} lines ({created} new rows).")
    return created


def _seed_lines(finance, budget, periods) -> tuple[dict[str, BudgetLine], int]:
    existing = {line.code: line for line in BudgetLine.objects.filter(budget=budget)}
    teams = {t.slug: t for t in Team.objects.filter(slug__in=TEAM_MONTHLY)}
    channels = {c.slug: c for c in Channel.objects.all()}
    created = 0
    for slug, monthly in TEAM_MONTHLY.items():
        if slug not in teams:
            continue
        parent = existing.get(slug)
        if parent is None:
            parent = services.line_create(
                actor=finance, budget=budget, name=teams[slug].name, code=slug, team=teams[slug]
            )
            amounts = {p: Decimal(monthly) * SEASON[i] for i, p in enumerate(periods)}
            services.phasing_set(actor=finance, line=parent, amounts=amounts, note="Demo plan")
            existing[slug], created = parent, created + 1 + len(amounts)
        weights = CAMPAIGN_TEAMS[slug][4]
        total_weight = sum(w for _, w in weights)
        for channel_slug, weight in weights:
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
            share = SUB_LINE_SHARE * weight / total_weight
            amounts = {p: (Decimal(monthly) * SEASON[i] * share).quantize(Decimal("1")) for i, p in enumerate(periods)}
            services.phasing_set(actor=finance, line=line, amounts=amounts, note="Demo plan")
            existing[code], created = line, created + 1 + len(amounts)
    return existing, created


def _months_for(campaign, periods, today, count=3) -> list[Period]:
    """Up to ``count`` open months of the year the campaign runs in (this month onward if none)."""
    running = [
        p
        for p in periods
        if not p.is_closed and p.start_date <= campaign.end_date and p.end_date >= campaign.start_date
    ]
    later = [p for p in periods if not p.is_closed and p.end_date >= today]
    return (running or later or [p for p in periods if not p.is_closed])[:count]


def _demo_campaigns(lines) -> list[Campaign]:
    """Two live or planned campaigns per team whose channel has a sub-line, in code order."""
    chosen = []
    for slug in TEAM_MONTHLY:
        qs = (
            Campaign.objects.filter(team__slug=slug, status__in=[CampaignStatus.LIVE, CampaignStatus.PLANNED])
            .select_related("owner", "channel", "team")
            .order_by("code")
        )
        chosen += [c for c in qs if c.channel and f"{slug}-{c.channel.slug}" in lines][:2]
    return chosen


# What happens to each chosen campaign's request, in order: (monthly amount, outcome, on the team line?)
PLAN = [
    ("4000", "approved", False),
    ("20000", "approved", True),  # 60,000 over three months: the CMO approves too
    ("3000", "approved", False),
    ("2500", "approved", False),
    ("5000", "rejected", False),
    ("3500", "approved", False),
    ("6000", "pending", False),  # finance's queue
    ("2000", "approved", False),
]


def _seed_requests(lines, periods, today, finance, cmo) -> int:
    from workflows import selectors as workflow_selectors
    from workflows import services as workflow_services

    created = 0
    for campaign, (monthly, outcome, on_team_line) in zip(_demo_campaigns(lines), PLAN, strict=False):
        if AllocationRequest.objects.filter(campaign=campaign, justification=JUSTIFICATION).exists():
            continue
        team_slug = campaign.team.slug
        line = lines[team_slug] if on_team_line else lines[f"{team_slug}-{campaign.channel.slug}"]
        months = _months_for(campaign, periods, today)
        request = services.allocation_request_create(
            actor=campaign.owner,
            line=line,
            months={p: Decimal(monthly) for p in months},
            currency=settings.BASE_CURRENCY,
            justification=JUSTIFICATION,
            campaign=campaign,
        )
        created += 1 + len(months)
        for approver in (finance, cmo):
            request.refresh_from_db()
            if outcome == "pending" or request.status != RequestStatus.PENDING:
                break
            task = (
                workflow_selectors.my_tasks(approver)
                .filter(instance=workflow_selectors.open_instance_of(request))
                .first()
            )
            if task is None:
                continue
            if outcome == "rejected":
                workflow_services.task_act(actor=approver, task=task, action="reject", comment=REJECTED_COMMENT)
            else:
                workflow_services.task_act(actor=approver, task=task, action="approve", comment="Demo: fits the plan.")
    return created


def _seed_commitments(lines, periods, today, finance) -> int:
    """A PO for two of the approved campaigns; the first one's vendor has invoiced part of it."""
    from campaigns.fact_services import spend_upsert

    created = 0
    approved = (
        AllocationRequest.objects.filter(justification=JUSTIFICATION, status=RequestStatus.APPROVED)
        .select_related("campaign__owner", "line")
        .order_by("campaign__code")[:2]
    )
    current = next((p for p in periods if p.start_date <= today <= p.end_date and not p.is_closed), None)
    for number, request in enumerate(approved, start=1):
        reference = f"PO-DEMO-{number:04d}"
        period = current or request.months.first().period
        if not Commitment.objects.filter(line=request.line, reference=reference).exists():
            services.commitment_create(
                actor=finance,
                line=request.line,
                campaign=request.campaign,
                vendor="Northwind Media" if number == 1 else "Contoso Events",
                reference=reference,
                amount=Decimal("3000"),
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
    """One approved reallocation between two na-demand sub-lines, in the year's last open month."""
    from workflows import selectors as workflow_selectors
    from workflows import services as workflow_services

    if Transfer.objects.filter(reason=TRANSFER_REASON).exists():
        return 0
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["nadia", "finance", "felix"])}
    sub_lines = sorted(code for code in lines if code.startswith("na-demand-"))
    month = next((p for p in reversed(periods) if not p.is_closed), None)
    if len(users) < 3 or len(sub_lines) < 2 or month is None:
        log("budgets: demo transfer skipped (users, na-demand sub-lines or an open month missing).")
        return 0
    source, target = lines[sub_lines[0]], lines[sub_lines[1]]
    transfer = services.transfer_request_create(
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
