"""Reads of budget data: the ledger (budget of a line and month at a date), what is allocated,
committed and spent against it, and what is available. Every sum is one GROUP BY query."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from budgets.models import Allocation, BudgetEntry, BudgetLine, Commitment, CommitmentStatus
from campaigns.models import SpendEntry
from mops.models import Currency, FxRate
from mops.money import CENT

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


def _split(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``amount`` over ``weights`` (all positive) in whole cents that add up to ``amount``
    exactly: each part rounded towards zero, the cents left over to the largest remainders (the
    first on ties). A negative amount (a refund) splits like its absolute value, negated."""
    sign = -1 if amount < 0 else 1
    amount = abs(amount)
    weight_sum = sum(weights, ZERO)
    exact = [amount * w / weight_sum for w in weights]
    parts = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    leftover = int((amount - sum(parts, ZERO)) / CENT)
    for i in sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))[:leftover]:
        parts[i] += CENT
    return [sign * part for part in parts]


def _year_shares(budget) -> dict[int, list[tuple[int, Decimal]]]:
    """{campaign id: [(line id, allocated over the whole fiscal year)…]} over every line of
    ``budget``: how a campaign's spend is spread over the lines that fund it (one query)."""
    shares: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    rows = (
        Allocation.objects.filter(line__budget=budget, campaign__isnull=False)
        .values_list("campaign_id", "line_id")
        .annotate(t=Sum("amount_base"))
        .order_by("campaign_id", "line_id")
    )
    for campaign, line, amount in rows:
        if amount > 0:
            shares[campaign].append((line, amount))
    return shares


def _month_spend(campaigns, periods) -> dict[tuple[int, int], Decimal]:
    """{(campaign id, period id): spend in base currency} for ``periods`` (months), one query."""
    period_by_month = {(p.start_date.year, p.start_date.month): p.pk for p in periods}
    if not period_by_month:
        return {}
    spend = (
        SpendEntry.objects.filter(
            campaign_id__in=campaigns,
            date__gte=min(p.start_date for p in periods),
            date__lte=max(p.end_date for p in periods),
        )
        .annotate(month=TruncMonth("date"))
        .values_list("campaign_id", "month")
        .annotate(t=Sum("amount_base"))
    )
    cells = {}
    for campaign, month, amount in spend:
        period = period_by_month.get((month.year, month.month))
        if period is not None and amount:
            cells[(campaign, period)] = amount
    return cells


def actual_cells(budget, periods, *, line_ids=None, by_campaign: bool = False) -> dict:
    """Spend attributed to the lines of ``budget``: a campaign's spend in a month counts against the
    lines it has allocations from, in proportion to what each line allocated to it over the WHOLE
    fiscal year (so a campaign funded in March and spending in April counts in April), split to the
    cent so the parts add up to the spend exactly. Spend of a campaign with no allocation from the
    budget counts against no line: see ``outside_spend_cells``."""
    shares = _year_shares(budget)
    wanted = None if line_ids is None else set(line_ids)
    if wanted is not None:
        shares = {c: s for c, s in shares.items() if any(line in wanted for line, _ in s)}
    if not shares:
        return {}
    cells: dict = defaultdict(lambda: ZERO)
    for (campaign, period), amount in _month_spend(list(shares), periods).items():
        lines = shares[campaign]
        for (line, _), part in zip(lines, _split(amount, [a for _, a in lines]), strict=True):
            if wanted is None or line in wanted:
                key = (line, period, campaign) if by_campaign else (line, period)
                cells[key] += part
    return dict(cells)


def outside_spend_cells(budget, periods, *, user=None) -> dict[tuple[int, int], Decimal]:
    """{(campaign id, period id): spend} of the campaigns no line of ``budget`` funds (no campaign
    allocation from any of its lines): the spend budget vs actual shows as "Spend outside any budget
    line", so its actual total is all the spend of the year. ``user``: only campaigns they see."""
    from campaigns.models import Campaign
    from campaigns.permissions import campaigns_visible_to

    funded = Allocation.objects.filter(line__budget=budget, campaign__isnull=False).values("campaign_id")
    campaigns = (campaigns_visible_to(user) if user is not None else Campaign.objects.all()).exclude(pk__in=funded)
    return _month_spend(campaigns.values("pk"), periods)


def outside_spend_campaigns(*, budget, period=None, user=None) -> list:
    """The campaigns behind "Spend outside any budget line" (of ``period``, or the whole year),
    each with ``spent`` (base currency), most spent first — finance's way from the row to them."""
    from campaigns.models import Campaign
    from campaigns.permissions import campaigns_visible_to

    periods = [period] if period is not None else list(budget.fiscal_year.periods.all())
    funded = Allocation.objects.filter(line__budget=budget, campaign__isnull=False).values("campaign_id")
    in_range = Q(spend__date__gte=min(p.start_date for p in periods), spend__date__lte=max(p.end_date for p in periods))
    campaigns = (campaigns_visible_to(user) if user is not None else Campaign.objects.all()).exclude(pk__in=funded)
    return list(
        campaigns.annotate(spent=Sum("spend__amount_base", filter=in_range))
        .filter(spent__isnull=False)
        .exclude(spent=0)
        .select_related("team")
        .order_by("-spent", "name")
    )


def _line_tree(budget) -> dict[int, int | None]:
    return dict(BudgetLine.objects.filter(budget=budget).values_list("pk", "parent_id"))


def ledger_cells(*, budget, line_ids=None, period_ids=None, at=None) -> dict[tuple[int, int], "Measures"]:
    """THE rule for a line's money, used by every check and report (approvals, transfers,
    carry-forward, budget vs actual, the finance dashboard, the scenarios' current plan).

    For each (line id, period id) of ``budget`` (every line and month unless narrowed):
    - budget: the line's OWN budget — its ledger (entries effective by ``at``, default now) minus
      its children's: a parent keeps only what it has not passed down to its sub-lines;
    - allocated: approved allocations from the line in the month (campaigns and programs);
    - committed: open commitments less what their invoices (spend quoting the PO) cover;
    - actual: the month's spend of the campaigns the line funds, spread by their allocations over
      the whole fiscal year (``actual_cells``);
    - available: budget − max(allocated, committed + actual), so no dollar counts twice.
    A constant number of queries whatever the number of lines."""
    parent_of = _line_tree(budget)
    targets = list(parent_of) if line_ids is None else [pk for pk in line_ids if pk in parent_of]
    periods = list(budget.fiscal_year.periods.order_by("start_date"))
    if period_ids is not None:
        chosen = set(period_ids)
        periods = [p for p in periods if p.pk in chosen]
    return _ledger(budget, parent_of, targets, periods, at=at)[0]


def _ledger(budget, parent_of, targets, periods, *, at=None, by_campaign=False):
    """ledger_cells' engine: (cells, campaign detail) where the detail (``by_campaign``) holds the
    allocated, committed and actual per (line, period, campaign id or None) budget vs actual needs."""
    target_set = set(targets)
    period_ids = [p.pk for p in periods]
    if not targets or not periods:
        return {}, {"allocated": {}, "committed": {}, "actual": {}}
    # The whole budget: subqueries the database joins, rather than lists of thousands of ids.
    everything = len(target_set) == len(parent_of)
    all_lines = BudgetLine.objects.filter(budget=budget).values("pk")
    children = {pk for pk, parent in parent_of.items() if parent in target_set}
    ledger = budget_cells(all_lines if everything else list(target_set | children), at=at, period_ids=period_ids)
    own: dict = defaultdict(lambda: ZERO)
    for (line, period), amount in ledger.items():
        if line in target_set:
            own[(line, period)] += amount
        parent = parent_of.get(line)
        if parent in target_set:
            own[(parent, period)] -= amount
    scope = all_lines if everything else targets
    detail = {
        "allocated": allocated_cells(scope, period_ids=period_ids, by_campaign=by_campaign),
        "committed": open_commitment_cells(scope, period_ids=period_ids, by_campaign=by_campaign),
        "actual": actual_cells(budget, periods, line_ids=None if everything else targets, by_campaign=by_campaign),
    }
    summed = {}
    for name, values in detail.items():
        if by_campaign:
            per_line: dict = defaultdict(lambda: ZERO)
            for (line, period, _), amount in values.items():
                per_line[(line, period)] += amount
            summed[name] = per_line
        else:
            summed[name] = values
    cells = {}
    for line in targets:
        for period in period_ids:
            key = (line, period)
            cell = Measures(
                budget=own.get(key, ZERO),
                allocated=summed["allocated"].get(key, ZERO),
                committed=summed["committed"].get(key, ZERO),
                actual=summed["actual"].get(key, ZERO),
            )
            cell.available = cell.budget - max(cell.allocated, cell.committed + cell.actual)
            cells[key] = cell
    return cells, detail


def available(*, line, period, at=None) -> Decimal:
    """What a line can still promise in a month: its own budget − (allocated not yet committed or
    spent + committed not yet invoiced + actual) — ``ledger_cells``' available, the figure budget vs
    actual shows for the same line and month."""
    cells = ledger_cells(budget=line.budget, line_ids=[line.pk], period_ids=[period.pk], at=at)
    return cells[(line.pk, period.pk)].available


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
# The row of spend on campaigns no line of the budget funds (its key in rows, pages and links).
OUTSIDE = "outside"
OUTSIDE_LABEL = "Spend outside any budget line"


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
    - Every line-month is ``ledger_cells``' (the figures approvals check), so a line's available here
      is what a transfer or allocation from it may take.
    - Spend of campaigns no line of the budget funds is the row "Spend outside any budget line" (key
      ``OUTSIDE``) in every grouping — actual only, no budget and nothing available — so the actual
      total is the year's spend, the facts' sum.
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

    by_campaign = group_by == "campaign"
    parent_of = {line["id"]: line["parent_id"] for line in all_lines}
    # One rule for every line-month (``ledger_cells``): the approvals check the same figures.
    cells, detail = _ledger(budget, parent_of, list(lines), periods, by_campaign=by_campaign)

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
            cell = replace(cells[(line_id, period.pk)])
            cell.forecast = cell.actual if period.pk in over else cell.budget
            totals.month(period.pk).add(cell)
            for key in [period.pk] if group_by == "month" else targets:
                row(key, label).month(period.pk).add(cell)

    if by_campaign:
        _campaign_rows(row, lines, periods, over, cells, detail)
        names = dict(Campaign.objects.filter(pk__in=[k for k in rows if k is not None]).values_list("pk", "name"))
        for key, campaign_row in rows.items():
            campaign_row.label = NONE_LABEL if key is None else names.get(key, str(key))

    # Spend no line funds: its own row in every grouping, so the actual total is all the spend.
    outside = row(OUTSIDE, OUTSIDE_LABEL)
    for (_, period_id), amount in outside_spend_cells(budget, periods, user=user).items():
        cell = Measures(actual=amount, forecast=amount if period_id in over else ZERO)
        outside.month(period_id).add(cell)
        totals.month(period_id).add(cell)

    for r in [*rows.values(), totals]:
        for period in periods:
            r.total.add(r.month(period.pk))
    ordered = list(rows.values())
    if group_by in ("team", "channel", "program", "campaign"):
        ordered.sort(key=lambda r: (r.key == OUTSIDE, r.key is None, r.label.lower()))
    else:
        ordered.sort(key=lambda r: r.key == OUTSIDE)  # stable: the tree or the months stay in order
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


def _campaign_rows(row, lines, periods, over, cells, detail) -> None:
    """Campaign grouping: per campaign, its allocation is its budget (see budget_vs_actual); the "—"
    row holds the lines' own budget not allocated to a campaign (program allocations stay in it
    once, as allocated), so the rows' budgets add up to the total."""
    for period in periods:
        per_campaign: dict = defaultdict(Measures)
        for name, source in detail.items():
            for (line_id, period_id, campaign_id), amount in source.items():
                if period_id == period.pk and line_id in lines:
                    cell = per_campaign[campaign_id]
                    setattr(cell, name, getattr(cell, name) + amount)
        unallocated = sum((cells[(line_id, period.pk)].budget for line_id in lines), ZERO)
        for campaign_id, cell in per_campaign.items():
            if campaign_id is not None:
                cell.budget = cell.allocated
                unallocated -= cell.allocated
        rest = per_campaign[None]
        rest.budget = unallocated
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
