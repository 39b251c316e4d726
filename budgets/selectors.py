"""Reads of budget data: the ledger (budget of a line and month at a date), what is allocated,
committed and spent against it, and what is available. Every sum is one GROUP BY query.

``ledger_cells`` is THE rule for a line-month's money; budget vs actual (``budgets.reports.selectors``),
the request and transfer pages and metrics read it. Nothing here imports a budgets subsystem."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from budgets.models import Allocation, Budget, BudgetEntry, BudgetLine, Commitment, CommitmentStatus
from campaigns.models import Campaign, SpendEntry
from campaigns.permissions import campaigns_visible_to
from mops.models import Currency, FxRate
from mops.money import CENT
from planning.fiscal import fiscal_year_of
from planning.models import Period

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
    funded = Allocation.objects.filter(line__budget=budget, campaign__isnull=False).values("campaign_id")
    campaigns = (campaigns_visible_to(user) if user is not None else Campaign.objects.all()).exclude(pk__in=funded)
    return _month_spend(campaigns.values("pk"), periods)


def line_tree(budget) -> dict[int, int | None]:
    """{line id: parent id or None} of every line of ``budget``."""
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
    parent_of = line_tree(budget)
    targets = list(parent_of) if line_ids is None else [pk for pk in line_ids if pk in parent_of]
    periods = list(budget.fiscal_year.periods.order_by("start_date"))
    if period_ids is not None:
        chosen = set(period_ids)
        periods = [p for p in periods if p.pk in chosen]
    return ledger_detail(budget, parent_of, targets, periods, at=at)[0]


def ledger_detail(budget, parent_of, targets, periods, *, at=None, by_campaign=False):
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


# --- the cells' measures, and the rows budget vs actual adds to them ------------------------

MEASURES = ("budget", "allocated", "committed", "actual", "available")
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


# --- what requests and transfers are made against -------------------------------------------


def request_budget() -> Budget | None:
    """The budget requests and transfers are made against (and budget vs actual's API default): the
    current version for this fiscal year, else the latest."""
    current = Budget.objects.filter(is_current=True).select_related("fiscal_year")
    return (
        current.filter(fiscal_year__year=fiscal_year_of(timezone.localdate())).first()
        or current.order_by("-fiscal_year__year").first()
    )


def periods_of(budget: Budget) -> list[Period]:
    return list(Period.objects.filter(fiscal_year_id=budget.fiscal_year_id).order_by("start_date"))


@dataclass
class Figures:
    """A line-month's figures on the request and transfer pages and in the approval queue."""

    budget: Decimal = ZERO
    allocated: Decimal = ZERO
    committed: Decimal = ZERO
    actual: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.budget - max(self.allocated, self.committed + self.actual)

    def add(self, other: "Figures") -> None:
        self.budget += other.budget
        self.allocated += other.allocated
        self.committed += other.committed
        self.actual += other.actual


def line_figures(line_ids, periods) -> dict[tuple[int, int], Figures]:
    """Own budget, allocated, committed and actual of each (line, month) — ``ledger_cells``,
    the figures the approval checks: a constant number of queries per budget of the lines."""
    line_ids = set(line_ids)
    period_ids = [p.pk for p in periods]
    cells: dict[tuple[int, int], Figures] = {}
    by_budget: dict[int, list[int]] = {}
    for line, budget_id in BudgetLine.objects.filter(pk__in=line_ids).values_list("pk", "budget_id"):
        by_budget.setdefault(budget_id, []).append(line)
    for budget in Budget.objects.filter(pk__in=list(by_budget)).select_related("fiscal_year"):
        ledger = ledger_cells(budget=budget, line_ids=by_budget[budget.pk], period_ids=period_ids)
        for key, measures in ledger.items():
            cells[key] = Figures(
                budget=measures.budget,
                allocated=measures.allocated,
                committed=measures.committed,
                actual=measures.actual,
            )
    for line in line_ids:
        for period in periods:
            cells.setdefault((line, period.pk), Figures())
    return cells


def line_year_available(line_ids, periods) -> dict[int, Decimal]:
    """What each line can still promise over the given months (sum of its months' availability)."""
    cells = line_figures(line_ids, periods)
    totals: dict[int, Decimal] = {line: ZERO for line in line_ids}
    for (line, _), figures in cells.items():
        totals[line] += max(figures.available, ZERO)
    return totals
