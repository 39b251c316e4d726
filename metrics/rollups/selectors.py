"""Reads for dashboards and the KPI API. They read rollups only, never the facts (ARCHITECTURE.md
"Dashboards"): the per-dimension rollup rows when nothing narrows the view, the cells (one GROUP BY
with the filters in its WHERE) when a filter or the user's scope does. Every read is one query for
the numbers plus at most one per dimension for the labels, whatever the size of the data.

A KPI is computed from the summed measures of its row (``metrics.kpis.selectors.with_kpis``), never
averaged.
"""

import datetime
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import connection
from django.db.models import Max

from budgets.models import BudgetLine
from budgets.permissions import sees_all_budgets
from campaigns.models import Campaign, Program
from campaigns.permissions import sees_all_campaigns, team_ids_of
from metrics.rollups import calendar
from metrics.rollups.engine import MEMBER_SQL, T
from metrics.rollups.models import (
    MEASURE_FIELDS,
    MONEY_MEASURES,
    CellSource,
    Dimension,
    DirtyMark,
    Grain,
    RefreshKind,
    RefreshRun,
)
from mops.models import Team
from mops.money import money
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import Channel, ChannelGroup, FiscalYear, Objective, Region

ZERO = Decimal("0.00")
TIME_GROUPS = {"day": Grain.DAY, "week": Grain.WEEK, "month": Grain.MONTH, "quarter": Grain.QUARTER, "year": Grain.YEAR}
MEMBER_GROUPS = {
    "organisation": Dimension.ORGANISATION,
    "campaign": Dimension.CAMPAIGN,
    "program": Dimension.PROGRAM,
    "channel": Dimension.CHANNEL,
    "channel_group": Dimension.CHANNEL_GROUP,
    "team": Dimension.TEAM,
    "region": Dimension.REGION,
    "objective": Dimension.OBJECTIVE,
    "budget_line": Dimension.BUDGET_LINE,
}
GROUPS = (*MEMBER_GROUPS, *TIME_GROUPS)
FILTER_COLUMNS = {"team": "team_id", "channel": "channel_id", "program": "program_id", "region": "region_id"}
# Cells columns per grouping (campaign and budget line are the cells' own source).
CELL_GROUP_SQL = {
    Dimension.CAMPAIGN: "source_id",
    Dimension.BUDGET_LINE: "source_id",
    **{dimension: sql for dimension, sql in MEMBER_SQL.items()},
}
# A campaign cell's campaign has an allocation from the current budget of the fiscal year the cell's
# bucket starts in: its spend counts against a budget line (budget vs actual's "actual").
FUNDED = (
    f"SELECT 1 FROM {T['allocation']} fa JOIN {T['line']} fl ON fl.id = fa.line_id "
    f"JOIN {T['budget']} fb ON fb.id = fl.budget_id AND fb.is_current = %s "
    f"JOIN {FiscalYear._meta.db_table} fy ON fy.id = fb.fiscal_year_id "
    "WHERE fa.campaign_id = x.source_id AND x.period_start BETWEEN fy.start_date AND fy.end_date"
)
GRAINS_COARSE_FIRST = (Grain.YEAR, Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY)
# A range that whole buckets of these grains tile is also whole buckets of the key grain.
_TILING = {
    Grain.DAY: (Grain.YEAR, Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY),
    Grain.WEEK: (Grain.WEEK,),
    Grain.MONTH: (Grain.YEAR, Grain.QUARTER, Grain.MONTH),
    Grain.QUARTER: (Grain.YEAR, Grain.QUARTER),
    Grain.YEAR: (Grain.YEAR,),
}


@dataclass(frozen=True)
class Scope:
    """What a user may see: None is everything; else the team ids whose campaigns (and lines) count.
    Budget lines with no team are visible to every marketer (budgets.permissions)."""

    team_ids: frozenset | None
    budgets: bool  # False: budget measures are not the user's to see (they read as zero)


def scope_of(user) -> Scope:
    if sees_all_campaigns(user):
        return Scope(team_ids=None, budgets=sees_all_budgets(user))
    return Scope(team_ids=frozenset(team_ids_of(user).values_list("team_id", flat=True)), budgets=True)


@dataclass(frozen=True)
class Filters:
    """The dashboard filter bar: a date range (whole days) and optional dimension members."""

    start: datetime.date
    end: datetime.date
    team: tuple[int, ...] = ()
    channel: tuple[int, ...] = ()
    program: tuple[int, ...] = ()
    region: tuple[int, ...] = ()

    @property
    def narrowed(self) -> bool:
        return bool(self.team or self.channel or self.program or self.region)

    def shifted_back(self) -> "Filters":
        """The same filters over the period just before (same length; whole years stay years)."""
        if (self.start, self.end) == fiscal_year_bounds(fiscal_year_of(self.start)):
            start, end = fiscal_year_bounds(fiscal_year_of(self.start) - 1)
        elif self.start.day == 1 and self.end == calendar.bucket_end(Grain.MONTH, self.end):
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            end = self.start - datetime.timedelta(days=1)
            index = end.month - months
            start = datetime.date(end.year + (index // 12), index % 12 + 1, 1)
        else:
            length = self.end - self.start
            end = self.start - datetime.timedelta(days=1)
            start = end - length
        return replace(self, start=start, end=end)


@dataclass
class Row:
    """One group's summed measures and, on demand, its KPI values."""

    key: object
    label: str
    measures: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    def __getitem__(self, code):
        return self.values[code] if code in self.values else self.measures[code]


def empty_measures() -> dict:
    return {m: (ZERO if m in MONEY_MEASURES else 0) for m in MEASURE_FIELDS}


# --- reading ----------------------------------------------------------------------------------


def grain_for(start: datetime.date, end: datetime.date) -> str:
    """The coarsest grain whose buckets tile [start, end] exactly."""
    for grain in GRAINS_COARSE_FIRST:
        if calendar.bucket_start(grain, start) == start and calendar.bucket_end(grain, end) == end:
            return grain
    return Grain.DAY


def measures_by(filters: Filters, group_by: str, *, scope: Scope, outside_budget_lines: bool = False) -> list[Row]:
    """Summed measures per group (a dimension's members, or buckets of a grain), ordered by label
    (time: chronologically). One query for the numbers, one for the labels.

    ``outside_budget_lines``: only the facts of campaigns that no line of their fiscal year's current
    budget funds (no campaign allocation from it) — the spend budget vs actual shows as "Spend
    outside any budget line" (``budgets.selectors.outside_spend_cells``), read from the cells."""
    if group_by not in GROUPS:
        raise ValueError(f"Unknown grouping {group_by!r}; use one of {', '.join(GROUPS)}.")
    bucket_join = ""
    if group_by in TIME_GROUPS:
        target = TIME_GROUPS[group_by]
        dimension = Dimension.ORGANISATION
        if grain_for(filters.start, filters.end) in _TILING[target]:
            grain, key = target, "x.period_start"  # the range is whole buckets of the grain: read them
        else:  # a range cutting through buckets: its days, bucketed on the way
            grain, key = Grain.DAY, "b.period_start"
            bucket_join = f" JOIN {T['bucket']} b ON b.date = x.period_start AND b.grain = '{target}'"
    else:
        grain = grain_for(filters.start, filters.end)
        dimension = MEMBER_GROUPS[group_by]
        key = None
    start, end = filters.start, calendar.bucket_start(grain, filters.end)
    use_rollups = (
        not outside_budget_lines
        and not filters.narrowed
        and scope.team_ids is None
        and scope.budgets
        and dimension not in (Dimension.CAMPAIGN, Dimension.BUDGET_LINE)
    )
    sums = ", ".join(f"SUM(x.{m})" for m in MEASURE_FIELDS)
    if use_rollups:
        key = key or "member"
        sql = (
            f"SELECT {key}, {sums} FROM {T['rollup']} x{bucket_join} WHERE x.dimension = %s AND x.grain = %s "
            f"AND x.period_start BETWEEN %s AND %s GROUP BY {key}"
        )
        params = [dimension, grain, start, end]
    else:
        key = key or CELL_GROUP_SQL[dimension]
        where, params = cell_where(filters, scope, grain, start, end)
        if dimension in (Dimension.CAMPAIGN, Dimension.BUDGET_LINE):
            where += " AND source = %s"
            params.append(CellSource.CAMPAIGN if dimension == Dimension.CAMPAIGN else CellSource.BUDGET_LINE)
        if outside_budget_lines:
            where += f" AND x.source = %s AND NOT EXISTS ({FUNDED})"
            params += [CellSource.CAMPAIGN, True]
        group_by_sql = f" GROUP BY {key}" if key != MEMBER_SQL[Dimension.ORGANISATION] else ""
        sql = f"SELECT {key}, {sums} FROM {T['cell']} x{bucket_join} WHERE {where}{group_by_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for key_value, *values in fetched:
        measures = row_measures(values)
        if not scope.budgets:
            measures.update(budget=ZERO, allocated=ZERO, committed=ZERO)
        rows.append(Row(key=_as_key(group_by, key_value), label="", measures=measures))
    _label(rows, group_by)
    if group_by in TIME_GROUPS:
        rows.sort(key=lambda row: row.key)
    else:
        rows.sort(key=lambda row: row.label.lower())
    return rows


def cell_where(filters: Filters, scope: Scope, grain: str, start, end) -> tuple[str, list]:
    where = "x.grain = %s AND x.period_start BETWEEN %s AND %s"
    params: list = [grain, start, end]
    for name, column in FILTER_COLUMNS.items():
        ids = getattr(filters, name)
        if ids:
            where += f" AND {column} IN ({', '.join(['%s'] * len(ids))})"
            params.extend(ids)
    if scope.team_ids is not None:
        teams = sorted(scope.team_ids) or [0]
        where += f" AND (team_id IN ({', '.join(['%s'] * len(teams))}) OR (source = %s AND team_id IS NULL))"
        params.extend([*teams, CellSource.BUDGET_LINE])
    if not scope.budgets:
        where += " AND source = %s"
        params.append(CellSource.CAMPAIGN)
    return where, params


def row_measures(values) -> dict:
    """One fetched row of ``SUM(<measure>)`` columns, in ``MEASURE_FIELDS`` order, as measures: money
    as Decimal to the cent, counts as int, NULL (no cell summed) as zero."""
    return {
        m: (money(v or 0) if m in MONEY_MEASURES else int(v or 0)) for m, v in zip(MEASURE_FIELDS, values, strict=True)
    }


def _as_key(group_by: str, value):
    if group_by in TIME_GROUPS:
        return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
    if group_by in ("organisation",):
        return ""
    if group_by == "channel_group":
        return value
    if value in (None, "none"):
        return None
    return int(value)


LABEL_MODELS = {
    "campaign": (Campaign, "name"),
    "program": (Program, "name"),
    "channel": (Channel, "name"),
    "team": (Team, "name"),
    "region": (Region, "name"),
    "objective": (Objective, "name"),
    "budget_line": (BudgetLine, "name"),
}


def _label(rows: list[Row], group_by: str) -> None:
    if group_by in TIME_GROUPS:
        for row in rows:
            row.label = calendar.bucket_label(TIME_GROUPS[group_by], row.key)
        return
    if group_by == "organisation":
        for row in rows:
            row.label = "All of marketing"
        return
    if group_by == "channel_group":
        names = dict(ChannelGroup.choices)
        for row in rows:
            row.label = names.get(row.key, "No channel")
        return
    model, field_name = LABEL_MODELS[group_by]
    names = dict(
        model.objects.filter(pk__in=[row.key for row in rows if row.key is not None]).values_list("pk", field_name)
    )
    for row in rows:
        row.label = names.get(row.key, "(none)") if row.key is not None else "(none)"


# --- totals -----------------------------------------------------------------------------------


def total(rows: list[Row], label: str = "Total") -> Row:
    """The sum of the rows' measures (ratios of the total are computed from these sums, not averaged)."""
    measures = empty_measures()
    for row in rows:
        for m in MEASURE_FIELDS:
            measures[m] += row.measures[m]
    return Row(key=None, label=label, measures=measures)


def series(filters: Filters, group_by: str, *, scope: Scope) -> list[Row]:
    """Measures per time bucket, one row per bucket of the range; buckets with no data are zero rows,
    so lines on a chart do not skip months."""
    grain = TIME_GROUPS[group_by]
    buckets = []
    day = calendar.bucket_start(grain, filters.start)
    while day <= filters.end:
        buckets.append(day)
        day = calendar.bucket_end(grain, day) + datetime.timedelta(days=1)
    found = {row.key: row for row in measures_by(filters, group_by, scope=scope)}
    return [found.get(b) or _zero_row(grain, b) for b in buckets]


def _zero_row(grain, start) -> Row:
    return Row(key=start, label=calendar.bucket_label(grain, start), measures=empty_measures())


# --- freshness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupStatus:
    last_refresh: datetime.datetime | None
    last_full_rebuild: datetime.datetime | None
    last_full_agreed: bool | None
    pending_marks: int
    pending_campaigns: int
    pending_budget_lines: int
    pending_ranges: list  # [(campaign id, start, end)] — a sample, oldest first


def rollup_status(limit: int = 20) -> RollupStatus:
    last = RefreshRun.objects.aggregate(at=Max("finished_at"))["at"]
    full = RefreshRun.objects.filter(kind=RefreshKind.FULL).order_by("-finished_at").first()
    marks = DirtyMark.objects.all()
    return RollupStatus(
        last_refresh=last,
        last_full_rebuild=full.finished_at if full else None,
        last_full_agreed=full.agreed if full else None,
        pending_marks=marks.count(),
        pending_campaigns=marks.filter(source=CellSource.CAMPAIGN).values("source_id").distinct().count(),
        pending_budget_lines=marks.filter(source=CellSource.BUDGET_LINE).values("source_id").distinct().count(),
        pending_ranges=list(
            marks.filter(source=CellSource.CAMPAIGN).order_by("id").values_list("source_id", "start", "end")[:limit]
        ),
    )
