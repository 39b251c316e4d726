"""Reads of budget vs actual: the grid of budget, allocated, committed, actual and available per
group (line, team, channel, program, campaign or month) and month, its table for the page and the
downloads, and what lies behind a cell. Every line-month is ``budgets.selectors.ledger_cells``' (the
figures approvals check); the spend no line funds is the row ``OUTSIDE``."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.db.models import Q, Sum
from django.utils import timezone

from budgets.models import Allocation, BudgetEntry, BudgetLine, Commitment
from budgets.permissions import lines_visible_to
from budgets.selectors import (
    MEASURES,
    OUTSIDE,
    OUTSIDE_LABEL,
    ZERO,
    Measures,
    ledger_detail,
    outside_spend_cells,
)
from campaigns.models import Campaign, SpendEntry
from campaigns.permissions import campaigns_visible_to

GROUPINGS = ("line", "team", "channel", "program", "campaign", "month")
NONE_LABEL = "—"


def outside_spend_campaigns(*, budget, period=None, user=None) -> list:
    """The campaigns behind "Spend outside any budget line" (of ``period``, or the whole year),
    each with ``spent`` (base currency), most spent first — finance's way from the row to them."""
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
    cells, detail = ledger_detail(budget, parent_of, list(lines), periods, by_campaign=by_campaign)

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
