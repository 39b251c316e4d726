"""Reads of budget data: the ledger (budget of a line and month at a date), what is allocated,
committed and spent against it, and what is available. Every sum is one GROUP BY query."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from budgets.models import Allocation, BudgetEntry, BudgetLine, Commitment, CommitmentStatus
from campaigns.models import SpendEntry
from mops.models import Currency, FxRate

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES)


def latest_fx_rates():
    """Every active currency but the base one, with its latest rate and that rate's date."""
    latest = FxRate.objects.filter(currency=OuterRef("pk")).order_by("-date")
    return (
        Currency.objects.filter(is_active=True)
        .exclude(code=settings.BASE_CURRENCY)
        .annotate(latest_rate=Subquery(latest.values("rate")[:1]), latest_date=Subquery(latest.values("date")[:1]))
        .order_by("code")
    )


Cell = tuple[int, int]  # (line id, period id)


def budget_cells(line_ids, *, at: datetime.datetime | None = None) -> dict[Cell, Decimal]:
    """The budget of each (line, month): the sum of its ledger entries effective by ``at`` (now)."""
    rows = (
        BudgetEntry.objects.filter(line_id__in=line_ids, effective_at__lte=at or timezone.now())
        .values_list("line_id", "period_id")
        .annotate(total=Sum("amount"))
    )
    return {(line, period): total for line, period, total in rows}


def allocated_cells(line_ids) -> dict[Cell, Decimal]:
    rows = (
        Allocation.objects.filter(line_id__in=line_ids)
        .values_list("line_id", "period_id")
        .annotate(t=Sum("amount_base"))
    )
    return {(line, period): total for line, period, total in rows}


def open_commitment_cells(line_ids) -> dict[Cell, Decimal]:
    """Committed but not yet invoiced, per line and expected month. A commitment's invoices are the
    spend entries of its campaign quoting its reference; what they cover is no longer "committed"."""
    invoiced = (
        SpendEntry.objects.filter(campaign_id=OuterRef("campaign_id"), reference=OuterRef("reference"))
        .values("campaign_id")
        .annotate(total=Sum("amount_base"))
        .values("total")
    )
    rows = (
        Commitment.objects.filter(line_id__in=line_ids, status=CommitmentStatus.OPEN)
        .annotate(invoiced=Coalesce(Subquery(invoiced, output_field=_MONEY), Value(ZERO, output_field=_MONEY)))
        .values_list("line_id", "period_id", "amount_base", "invoiced")
    )
    cells: dict[Cell, Decimal] = defaultdict(lambda: ZERO)
    for line, period, amount, invoiced_total in rows:
        cells[(line, period)] += max(amount - invoiced_total, ZERO)
    return dict(cells)


def actual_cells(line_ids, periods) -> dict[Cell, Decimal]:
    """Spend attributed to lines: a campaign's spend in a month counts against the lines it has
    allocations from, in proportion to what each line allocated to it over the year. Spend of a
    campaign with no allocation counts against no line (it shows as unallocated)."""
    period_by_month = {(p.start_date.year, p.start_date.month): p.pk for p in periods}
    if not period_by_month:
        return {}
    first, last = min(p.start_date for p in periods), max(p.end_date for p in periods)
    shares: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line, campaign, amount in (
        Allocation.objects.filter(line_id__in=line_ids, campaign__isnull=False, period_id__in=period_by_month.values())
        .values_list("line_id", "campaign_id")
        .annotate(t=Sum("amount_base"))
    ):
        shares[campaign].append((line, amount))
    if not shares:
        return {}
    for campaign, amount in (
        Allocation.objects.filter(campaign_id__in=list(shares), period_id__in=period_by_month.values())
        .values_list("campaign_id")
        .annotate(t=Sum("amount_base"))
    ):
        totals[campaign] = amount
    spend = (
        SpendEntry.objects.filter(campaign_id__in=list(shares), date__gte=first, date__lte=last)
        .annotate(month=TruncMonth("date"))
        .values_list("campaign_id", "month")
        .annotate(t=Sum("amount_base"))
    )
    cells: dict[Cell, Decimal] = defaultdict(lambda: ZERO)
    for campaign, month, amount in spend:
        period = period_by_month.get((month.year, month.month))
        if period is None or not totals[campaign]:
            continue
        for line, allocated in shares[campaign]:
            cells[(line, period)] += amount * allocated / totals[campaign]
    return {cell: value.quantize(Decimal("0.01")) for cell, value in cells.items()}


def available(*, line, period, at=None) -> Decimal:
    """What a line can still promise in a month: budget − (allocated not yet committed or spent +
    committed not yet invoiced + actual) = budget − max(allocated, committed + actual)."""
    cell = (line.pk, period.pk)
    budget = budget_cells([line.pk], at=at).get(cell, ZERO)
    allocated = allocated_cells([line.pk]).get(cell, ZERO)
    committed = open_commitment_cells([line.pk]).get(cell, ZERO)
    actual = actual_cells([line.pk], [period]).get(cell, ZERO)
    return budget - max(allocated, committed + actual)


def children_cells(parent_id) -> dict[int, Decimal]:
    """Per period: the sum of a line's children's budgets (for the hierarchy limit)."""
    child_ids = list(BudgetLine.objects.filter(parent_id=parent_id).values_list("pk", flat=True))
    sums: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (_, period), amount in budget_cells(child_ids).items():
        sums[period] += amount
    return dict(sums)
