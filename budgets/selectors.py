"""Reads of budget data: the ledger (budget of a line and month at a date), what is allocated,
committed and spent against it, and what is available. Every sum is one GROUP BY query."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import TruncMonth
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


def budget_cells(line_ids, *, at: datetime.datetime | None = None, period_ids=None) -> dict[Cell, Decimal]:
    """The budget of each (line, month): the sum of its ledger entries effective by ``at`` (now)."""
    entries = BudgetEntry.objects.filter(line_id__in=line_ids, effective_at__lte=at or timezone.now())
    if period_ids is not None:
        entries = entries.filter(period_id__in=period_ids)
    rows = entries.values_list("line_id", "period_id").annotate(total=Sum("amount"))
    return {(line, period): total for line, period, total in rows}


def allocated_cells(line_ids, *, period_ids=None, by_campaign: bool = False) -> dict:
    """Allocated per (line, month) — or per (line, month, campaign id or None) with ``by_campaign``."""
    allocations = Allocation.objects.filter(line_id__in=line_ids)
    if period_ids is not None:
        allocations = allocations.filter(period_id__in=period_ids)
    keys = ("line_id", "period_id", "campaign_id") if by_campaign else ("line_id", "period_id")
    rows = allocations.values_list(*keys).annotate(t=Sum("amount_base"))
    return {tuple(row[:-1]): row[-1] for row in rows}


def open_commitment_cells(line_ids, *, period_ids=None, by_campaign: bool = False) -> dict:
    """Committed but not yet invoiced, per line and expected month. A commitment's invoices are the
    spend entries of its campaign quoting its reference; what they cover is no longer "committed"."""
    commitments = Commitment.objects.filter(line_id__in=line_ids, status=CommitmentStatus.OPEN)
    if period_ids is not None:
        commitments = commitments.filter(period_id__in=period_ids)
    rows = list(commitments.values_list("line_id", "period_id", "campaign_id", "reference", "amount_base"))
    # The invoices of all these commitments in one GROUP BY (not a subquery per commitment): spend
    # quoting a reference, of the campaigns that have open commitments.
    invoiced = {}
    if rows:
        invoiced = {
            (campaign, reference): total
            for campaign, reference, total in SpendEntry.objects.filter(
                campaign_id__in=commitments.exclude(campaign__isnull=True).values("campaign_id"),
                reference__in={row[3] for row in rows},
            )
            .values_list("campaign_id", "reference")
            .annotate(total=Sum("amount_base"))
        }
    cells: dict = defaultdict(lambda: ZERO)
    for line, period, campaign, reference, amount in rows:
        key = (line, period, campaign) if by_campaign else (line, period)
        cells[key] += max(amount - invoiced.get((campaign, reference), ZERO), ZERO)
    return dict(cells)


def actual_cells(line_ids, periods, *, by_campaign: bool = False) -> dict:
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
    cells: dict = defaultdict(lambda: ZERO)
    for campaign, month, amount in spend:
        period = period_by_month.get((month.year, month.month))
        if period is None or not totals[campaign]:
            continue
        for line, allocated in shares[campaign]:
            key = (line, period, campaign) if by_campaign else (line, period)
            cells[key] += amount * allocated / totals[campaign]
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


# --- budget vs actual -----------------------------------------------------------------------

GROUPINGS = ("line", "team", "channel", "program", "campaign", "month")
MEASURES = ("budget", "allocated", "committed", "actual", "available")
NONE_LABEL = "—"


@dataclass
class Measures:
    """One cell of budget vs actual (base currency). ``available`` is summed from the finest cells
    (line × month), each budget − max(allocated, committed + actual), so no dollar counts twice."""

    budget: Decimal = ZERO
    allocated: Decimal = ZERO
    committed: Decimal = ZERO
    actual: Decimal = ZERO
    available: Decimal = ZERO
    forecast: Decimal = ZERO

    def add(self, other: "Measures") -> None:
        for name in (*MEASURES, "forecast"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def variance(self) -> Decimal:
        return self.budget - self.actual

    @property
    def utilisation(self) -> Decimal | None:
        """(actual + committed) / budget; None ("—") when there is no budget."""
        if not self.budget:
            return None
        return ((self.actual + self.committed) / self.budget).quantize(Decimal("0.0001"))


@dataclass
class BvaRow:
    key: object
    label: str
    total: Measures = field(default_factory=Measures)
    months: dict = field(default_factory=dict)  # period id → Measures
    depth: int = 0  # tree depth when grouped by line

    def month(self, period_id) -> Measures:
        return self.months.setdefault(period_id, Measures())


@dataclass
class BvaReport:
    budget: object
    group_by: str
    periods: list
    rows: list[BvaRow]
    totals: BvaRow
    as_of: datetime.date


def _month_start(value) -> datetime.date:
    day = value.start_date if hasattr(value, "start_date") else value
    return day.replace(day=1)


def budget_vs_actual(*, budget, group_by: str, start=None, end=None, user=None, as_of=None) -> BvaReport:
    """Budget, allocated, committed (open), actual and available per group and month of ``budget``
    between the months ``start`` and ``end`` (Periods or dates; default the whole year).

    Set-based: one GROUP BY query per measure over all the lines (plus a handful of lookups), then
    the cells are combined here — the query count does not grow with the number of lines.

    Rules:
    - Lines form a tree and a parent's budget includes its sub-lines', so each line contributes its
      *own* budget (its budget − its children's) to a group; grouped by line, a row is the line with
      its visible sub-lines rolled up (its full budget), and the totals count every line once.
    - Grouped by team, channel or program, a line goes to its own dimension ("—" when it has none).
    - Grouped by campaign, a campaign's budget is what was allocated to it and its available is what
      is left of that (allocated − committed − actual); the "—" row holds the budget not allocated to
      a campaign and the commitments without one. Totals stay the budget-wide figures.
    - Forecast (pacing) per row: the actual of months already over on ``as_of`` (today) plus the
      budget of the months still to come.
    """
    from budgets.permissions import lines_visible_to
    from campaigns.models import Campaign

    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}.")
    as_of = as_of or timezone.localdate()
    year_periods = list(budget.fiscal_year.periods.order_by("start_date"))
    first = _month_start(start) if start else year_periods[0].start_date
    last = _month_start(end) if end else year_periods[-1].start_date
    periods = [p for p in year_periods if first <= p.start_date <= last]
    period_ids = [p.pk for p in periods]
    over = {p.pk for p in periods if p.end_date < as_of}

    all_lines = list(
        BudgetLine.objects.filter(budget=budget)
        .order_by("code")
        .values(
            "id", "parent_id", "name", "code", "team_id", "team__name", "channel_id", "channel__name",
            "program_id", "program__name",
        )
    )  # fmt: skip
    visible_qs = BudgetLine.objects.filter(budget=budget)
    if user is not None:
        visible_qs = lines_visible_to(user).filter(budget=budget)
    visible = set(visible_qs.values_list("pk", flat=True))
    lines = {line["id"]: line for line in all_lines if line["id"] in visible}
    ids = list(lines)

    by_campaign = group_by == "campaign"
    # Subqueries rather than lists of thousands of ids: the database joins them.
    full_budget = budget_cells(BudgetLine.objects.filter(budget=budget).values("pk"), period_ids=period_ids)
    ids = visible_qs.values("pk")
    allocated = allocated_cells(ids, period_ids=period_ids, by_campaign=by_campaign)
    committed = open_commitment_cells(ids, period_ids=period_ids, by_campaign=by_campaign)
    actual = actual_cells(ids, year_periods, by_campaign=by_campaign)

    parent_of = {line["id"]: line["parent_id"] for line in all_lines}
    own_budget = dict(full_budget)
    for (line_id, period_id), amount in full_budget.items():
        parent = parent_of.get(line_id)
        if parent is not None:
            own_budget[(parent, period_id)] = own_budget.get((parent, period_id), ZERO) - amount

    def per_line(cells) -> dict:
        """(line, month, campaign) cells summed to (line, month)."""
        if not by_campaign:
            return cells
        summed: dict = defaultdict(lambda: ZERO)
        for (line_id, period_id, _), amount in cells.items():
            summed[(line_id, period_id)] += amount
        return summed

    line_allocated, line_committed, line_actual = per_line(allocated), per_line(committed), per_line(actual)

    def visible_ancestors(line_id) -> list:
        found, parent = [], parent_of.get(line_id)
        while parent is not None:
            if parent in lines:
                found.append(parent)
            parent = parent_of.get(parent)
        return found

    def groups_of(line) -> list:
        if group_by == "line":
            return [line["id"], *visible_ancestors(line["id"])]
        return [line[f"{group_by}_id"]]

    rows: dict = {}
    totals = BvaRow(key=None, label="Total")

    def row(key, label, depth=0) -> BvaRow:
        if key not in rows:
            rows[key] = BvaRow(key=key, label=label, depth=depth)
        return rows[key]

    if group_by == "line":
        for line in _tree_order(all_lines, lines):
            row(line["id"], line["name"], len(visible_ancestors(line["id"])))
    elif group_by == "month":
        for period in periods:
            row(period.pk, str(period))

    for line_id, line in lines.items():
        targets = [] if group_by in ("month", "campaign") else groups_of(line)
        label = NONE_LABEL if not targets or targets[0] is None else line.get(f"{group_by}__name") or line["name"]
        for period in periods:
            cell_key = (line_id, period.pk)
            cell = Measures(
                budget=own_budget.get(cell_key, ZERO),
                allocated=line_allocated.get(cell_key, ZERO),
                committed=line_committed.get(cell_key, ZERO),
                actual=line_actual.get(cell_key, ZERO),
            )
            cell.available = cell.budget - max(cell.allocated, cell.committed + cell.actual)
            cell.forecast = cell.actual if period.pk in over else cell.budget
            totals.month(period.pk).add(cell)
            for key in [period.pk] if group_by == "month" else targets:
                row(key, label).month(period.pk).add(cell)

    if by_campaign:
        _campaign_rows(rows, row, lines, periods, over, own_budget, allocated, committed, actual)
        names = dict(Campaign.objects.filter(pk__in=[k for k in rows if k is not None]).values_list("pk", "name"))
        for key, campaign_row in rows.items():
            campaign_row.label = NONE_LABEL if key is None else names.get(key, str(key))

    for r in [*rows.values(), totals]:
        for period in periods:
            r.total.add(r.month(period.pk))
    ordered = list(rows.values())
    if group_by in ("team", "channel", "program", "campaign"):
        ordered.sort(key=lambda r: (r.key is None, r.label.lower()))
    return BvaReport(budget=budget, group_by=group_by, periods=periods, rows=ordered, totals=totals, as_of=as_of)


def _tree_order(all_lines, visible) -> list:
    children = defaultdict(list)
    ids = {line["id"] for line in all_lines}
    for line in all_lines:
        parent = line["parent_id"] if line["parent_id"] in ids else None
        children[parent].append(line)
    ordered = []

    def walk(parent):
        for line in children[parent]:
            if line["id"] in visible:
                ordered.append(line)
            walk(line["id"])

    walk(None)
    return ordered


def _campaign_rows(rows, row, lines, periods, over, own_budget, allocated, committed, actual) -> None:
    """Campaign grouping: per campaign, its allocation is its budget (see budget_vs_actual)."""
    for period in periods:
        per_campaign: dict = defaultdict(Measures)
        for source, name in ((allocated, "allocated"), (committed, "committed"), (actual, "actual")):
            for (line_id, period_id, campaign_id), amount in source.items():
                if period_id == period.pk and line_id in lines:
                    cell = per_campaign[campaign_id]
                    setattr(cell, name, getattr(cell, name) + amount)
        unallocated = sum((own_budget.get((line_id, period.pk), ZERO) for line_id in lines), ZERO)
        for campaign_id, cell in per_campaign.items():
            if campaign_id is not None:
                cell.budget = cell.allocated
                unallocated -= cell.allocated
        rest = per_campaign[None]
        rest.budget = unallocated + rest.allocated
        for campaign_id, cell in per_campaign.items():
            if campaign_id is None:
                cell.available = cell.budget - max(cell.allocated, cell.committed + cell.actual)
            else:
                cell.available = cell.budget - (cell.committed + cell.actual)
            cell.forecast = cell.actual if period.pk in over else cell.budget
            row(campaign_id, "").month(period.pk).add(cell)


def bva_table(report: BvaReport, measure: str = "actual") -> tuple[list[str], list[list]]:
    """The grid the page shows and the downloads write: a row per group (then the totals) with the
    chosen measure by month and its range total, then every measure for the range side by side.
    Values are Decimals (utilisation a ratio, None when there is no budget) or the group's label."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}.")
    header = [
        report.group_by.capitalize(),
        *[str(p) for p in report.periods],
        f"Total {measure}",
        "Budget",
        "Allocated",
        "Committed",
        "Actual",
        "Available",
        "Variance",
        "Utilisation",
        "Forecast",
    ]
    rows = []
    for r in [*report.rows, report.totals]:
        t = r.total
        rows.append(
            [
                r.label,
                *[getattr(r.months.get(p.pk) or Measures(), measure) for p in report.periods],
                getattr(t, measure),
                t.budget,
                t.allocated,
                t.committed,
                t.actual,
                t.available,
                t.variance,
                t.utilisation,
                t.forecast,
            ]
        )
    return header, rows


def bva_group_lines(*, budget, group_by: str, key, user=None) -> list[int]:
    """The ids of the visible lines behind a budget-vs-actual row (for the drill-down)."""
    from budgets.permissions import lines_visible_to

    lines = (lines_visible_to(user) if user is not None else BudgetLine.objects.all()).filter(budget=budget)
    if group_by == "line":
        parent_of = dict(BudgetLine.objects.filter(budget=budget).values_list("pk", "parent_id"))
        wanted = []
        for line_id in lines.values_list("pk", flat=True):
            node = line_id
            while node is not None and node != key:
                node = parent_of.get(node)
            if node is not None:
                wanted.append(line_id)
        return wanted
    if group_by in ("team", "channel", "program"):
        lines = lines.filter(**{f"{group_by}__isnull": True} if key is None else {f"{group_by}_id": key})
    return list(lines.values_list("pk", flat=True))


def bva_cell_detail(*, budget, group_by: str, key, period, user=None, limit: int = 500) -> dict:
    """What lies behind a cell: ledger entries, allocations, open and closed commitments and the
    spend of the campaigns funded by the group's lines, in ``period`` (or the whole year)."""
    line_ids = bva_group_lines(budget=budget, group_by=group_by, key=key, user=user)
    periods = [period] if period is not None else list(budget.fiscal_year.periods.all())
    period_ids = [p.pk for p in periods]
    entries = BudgetEntry.objects.filter(line_id__in=line_ids, period_id__in=period_ids)
    allocations = Allocation.objects.filter(line_id__in=line_ids, period_id__in=period_ids)
    commitments = Commitment.objects.filter(line_id__in=line_ids, period_id__in=period_ids)
    campaigns = Allocation.objects.filter(line_id__in=line_ids, campaign__isnull=False).values("campaign_id")
    if group_by == "campaign":
        allocations = allocations.filter(campaign_id=key)
        commitments = commitments.filter(campaign_id=key)
        campaigns = campaigns.filter(campaign_id=key)
    spend = SpendEntry.objects.filter(
        campaign_id__in=campaigns,
        date__gte=min(p.start_date for p in periods),
        date__lte=max(p.end_date for p in periods),
    )
    return {
        "entries": entries.select_related("line", "period", "transfer").order_by("effective_at", "id")[:limit],
        "allocations": allocations.select_related("line", "period", "campaign", "program").order_by("period", "id")[
            :limit
        ],
        "commitments": commitments.select_related("line", "period", "campaign").order_by("period", "id")[:limit],
        "spend": spend.select_related("campaign").order_by("date", "id")[:limit],
    }
