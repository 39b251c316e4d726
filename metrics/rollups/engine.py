"""The rollup engine: summed base measures by grain and dimension, computed set-based in SQL.

Two tables (metrics.models):

- **cells** — one campaign on one channel, or one budget line, per bucket of each grain, carrying
  the campaign's or line's dimensions. Day cells come from the facts in one ``INSERT … SELECT …
  GROUP BY``; weeks, months, fiscal quarters and years come from the day cells in one more (budget
  lines: months from the ledger, quarters and years from the months). A budget line's cells hold its
  *own* budget — its ledger less its children's — so that summing lines counts each dollar once.
- **rollups** — per dimension (campaign, program, channel, channel group, team, region, objective,
  budget line, organisation), one ``INSERT … SELECT … GROUP BY`` over the cells each.

A refresh deletes and re-inserts exactly the rows of the changed sources and buckets (and the
dimension members they belong to, before and after the change) in one transaction; a full rebuild is
the same statements without the ``WHERE``. Nothing here loops over facts in Python. The SQL is
plain enough for PostgreSQL and SQLite (the embedded default) alike.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from budgets.models import Allocation, Budget, BudgetEntry, BudgetLine, Commitment, CommitmentStatus
from campaigns.models import Campaign, Program, ResultFact, SpendEntry, Tactic
from metrics.rollups import calendar
from metrics.rollups.models import (
    MEASURE_FIELDS,
    MONEY_MEASURES,
    CalendarBucket,
    Cell,
    CellSource,
    Dimension,
    Grain,
    Rollup,
)
from planning.models import Channel, Period

T = {
    "bucket": CalendarBucket._meta.db_table,
    "cell": Cell._meta.db_table,
    "rollup": Rollup._meta.db_table,
    "spend": SpendEntry._meta.db_table,
    "result": ResultFact._meta.db_table,
    "campaign": Campaign._meta.db_table,
    "program": Program._meta.db_table,
    "tactic": Tactic._meta.db_table,
    "channel": Channel._meta.db_table,
    "entry": BudgetEntry._meta.db_table,
    "allocation": Allocation._meta.db_table,
    "commitment": Commitment._meta.db_table,
    "line": BudgetLine._meta.db_table,
    "budget": Budget._meta.db_table,
    "period": Period._meta.db_table,
}
ATTRIBUTES = ("channel_id", "channel_group", "team_id", "program_id", "region_id", "objective_id")
MEASURES = ", ".join(MEASURE_FIELDS)
CELL_COLUMNS = f"grain, period_start, source, source_id, {', '.join(ATTRIBUTES)}, {MEASURES}"
CELL_KEY = ("grain", "period_start", "source", "source_id", "channel_id")
ROLLUP_COLUMNS = f"grain, period_start, dimension, member, {MEASURES}, cell_count"
ROLLUP_KEY = ("dimension", "grain", "member", "period_start")
SUMS = ", ".join(f"SUM({m})" for m in MEASURE_FIELDS)
CAMPAIGN_GRAINS = tuple(Grain)  # campaign facts are daily
BUDGET_GRAINS = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)  # budgets are monthly
FINEST = {CellSource.CAMPAIGN: Grain.DAY, CellSource.BUDGET_LINE: Grain.MONTH}
# Coarser cells come from finer ones, each step from the nearest grain that tiles it: weeks and months
# from days; fiscal quarters and years (whole months) from months.
DERIVATIONS = ((Grain.DAY, (Grain.WEEK, Grain.MONTH)), (Grain.MONTH, (Grain.QUARTER, Grain.YEAR)))

# The dimensions kept in the rollup table, and each one's member, as text, from a cell. (Campaign and
# budget line need no rollup rows: cells are per campaign and per line already.)
MEMBER_SQL = {
    Dimension.ORGANISATION: "''",
    Dimension.PROGRAM: "COALESCE(CAST(program_id AS VARCHAR(32)), 'none')",
    Dimension.CHANNEL: "COALESCE(CAST(channel_id AS VARCHAR(32)), 'none')",
    Dimension.CHANNEL_GROUP: "COALESCE(channel_group, 'none')",
    Dimension.TEAM: "COALESCE(CAST(team_id AS VARCHAR(32)), 'none')",
    Dimension.REGION: "COALESCE(CAST(region_id AS VARCHAR(32)), 'none')",
    Dimension.OBJECTIVE: "COALESCE(CAST(objective_id AS VARCHAR(32)), 'none')",
}
# The dimension each cell column is the member of.
ATTRIBUTE_OF = {
    Dimension.PROGRAM: "program_id",
    Dimension.CHANNEL: "channel_id",
    Dimension.CHANNEL_GROUP: "channel_group",
    Dimension.TEAM: "team_id",
    Dimension.REGION: "region_id",
    Dimension.OBJECTIVE: "objective_id",
}
REBUILD_WORK_MEM = "1GB"  # a nightly job on a machine with memory to spare; sorts stay off disk
# Past this many ids a refresh works on every source in its range instead of listing them.
MAX_LISTED = 2000

Range = tuple[datetime.date, datetime.date] | None  # None: all dates
Ranges = dict[str, Range]  # grain -> the first and last bucket start to refresh


@dataclass
class Written:
    cells: int = 0
    rollups: int = 0
    campaigns: int = 0
    budget_lines: int = 0
    changed: int = 0  # a full rebuild: rows of the kept tables it had to replace


# --- ranges -----------------------------------------------------------------------------------


def ranges_for(start: datetime.date | None, end: datetime.date | None, grains=CAMPAIGN_GRAINS) -> Ranges:
    """The buckets of each grain that a change between ``start`` and ``end`` touches."""
    if start is None or end is None:
        return {grain: None for grain in grains}
    return {grain: (calendar.bucket_start(grain, start), calendar.bucket_start(grain, end)) for grain in grains}


def widen(a: tuple, b: tuple) -> tuple:
    return (min(a[0], b[0]), max(a[1], b[1]))


def _in_ranges(ranges: Ranges, column: str = "period_start", grain_column: str = "grain") -> tuple[str, list]:
    """``(grain = 'd' AND period_start BETWEEN … ) OR …`` for the grains in ``ranges``."""
    clauses, params = [], []
    for grain, span in ranges.items():
        if span is None:
            clauses.append(f"{grain_column} = %s")
            params.append(grain)
        else:
            clauses.append(f"({grain_column} = %s AND {column} BETWEEN %s AND %s)")
            params.extend([grain, *span])
    return "(" + " OR ".join(clauses) + ")", params


def _days_of(ranges: Ranges, grain: str) -> Range:
    """The first and last day of the buckets of ``grain`` in ``ranges`` (None: all days)."""
    span = ranges.get(grain)
    return None if span is None else (span[0], calendar.bucket_end(grain, span[1]))


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


# --- cells ------------------------------------------------------------------------------------


def _campaign_day_cells(cursor, ids: list[int] | None, days: Range, *, table: str = T["cell"]) -> int:
    """Day cells of campaigns from spend (on the tactic's channel when it has one), results and the
    planned cost spread evenly over the campaign's days (rounded cumulatively, so the days of a
    campaign add up to its planned cost to the cent)."""
    where_spend, where_result, where_plan, params_spend, params_result, params_plan = "", "", "", [], [], []
    if ids is not None:
        where_spend = where_result = where_plan = f" AND c.id IN ({_placeholders(ids)})"
        params_spend, params_result, params_plan = list(ids), list(ids), list(ids)
    if days is not None:
        where_spend += " AND s.date BETWEEN %s AND %s"
        where_result += " AND r.date BETWEEN %s AND %s"
        where_plan += " AND d.date BETWEEN %s AND %s"
        params_spend += list(days)
        params_result += list(days)
        params_plan += list(days)
    zeros = "0, 0, 0, 0, 0, 0, 0, 0, 0"
    cursor.execute(
        f"""
        INSERT INTO {table} ({CELL_COLUMNS})
        SELECT %s, g.day, %s, g.campaign_id, g.channel_id, ch."group", c.team_id, c.program_id, c.region_id,
               COALESCE(c.objective_id, p.objective_id), g.spend, g.planned_cost, 0, 0, 0, g.impressions, g.clicks,
               g.leads, g.mqls, g.sqls, g.opportunities, g.pipeline, g.new_customers, g.revenue
        FROM (
          SELECT f.campaign_id, f.day, f.channel_id, SUM(f.spend) AS spend, SUM(f.planned_cost) AS planned_cost,
                 SUM(f.impressions) AS impressions, SUM(f.clicks) AS clicks, SUM(f.leads) AS leads,
                 SUM(f.mqls) AS mqls, SUM(f.sqls) AS sqls, SUM(f.opportunities) AS opportunities,
                 SUM(f.pipeline) AS pipeline, SUM(f.new_customers) AS new_customers, SUM(f.revenue) AS revenue
        FROM (
            SELECT s.campaign_id, s.date AS day, COALESCE(t.channel_id, c.channel_id) AS channel_id,
                   s.amount_base AS spend, 0 AS planned_cost, 0 AS impressions, 0 AS clicks, 0 AS leads, 0 AS mqls,
                   0 AS sqls, 0 AS opportunities, 0 AS pipeline, 0 AS new_customers, 0 AS revenue
            FROM {T["spend"]} s JOIN {T["campaign"]} c ON c.id = s.campaign_id
            LEFT JOIN {T["tactic"]} t ON t.id = s.tactic_id
            WHERE 1 = 1 {where_spend}
            UNION ALL
            SELECT r.campaign_id, r.date, c.channel_id, 0, 0, r.impressions, r.clicks, r.leads, r.mqls, r.sqls,
                   r.opportunities, r.pipeline, r.new_customers, r.revenue
            FROM {T["result"]} r JOIN {T["campaign"]} c ON c.id = r.campaign_id
            WHERE 1 = 1 {where_result}
            UNION ALL
            SELECT c.id, d.date, c.channel_id, 0,
                   ROUND(c.planned_cost_base * 1.0 * (d.ordinal - first.ordinal + 1)
                         / (last.ordinal - first.ordinal + 1),
                         2)
                   - ROUND(c.planned_cost_base * 1.0 * (d.ordinal - first.ordinal) / (last.ordinal - first.ordinal + 1),
                           2),
                   {zeros}
            FROM {T["campaign"]} c
            JOIN {T["bucket"]} first ON first.grain = 'd' AND first.date = c.start_date
            JOIN {T["bucket"]} last ON last.grain = 'd' AND last.date = c.end_date
            JOIN {T["bucket"]} d ON d.grain = 'd' AND d.date BETWEEN c.start_date AND c.end_date
            WHERE c.planned_cost_base <> 0 {where_plan}
        ) f
          GROUP BY f.campaign_id, f.day, f.channel_id
        ) g
        JOIN {T["campaign"]} c ON c.id = g.campaign_id
        LEFT JOIN {T["program"]} p ON p.id = c.program_id
        JOIN {T["channel"]} ch ON ch.id = g.channel_id
        """,
        [Grain.DAY, CellSource.CAMPAIGN, *params_spend, *params_result, *params_plan],
    )
    return cursor.rowcount


def _budget_month_cells(cursor, ids: list[int] | None, *, table: str = T["cell"]) -> int:
    """Month cells of the current budgets' lines: the line's *own* budget (ARCHITECTURE.md "Words we
    use": a parent's money contains its children's, so a line keeps its ledger less its children's
    ledger — each dollar sits on the deepest line that holds it, the organisation's total is the
    root lines', and a line under a soft parent may leave it negative), allocations and open
    commitments less what their invoices (spend quoting the PO) already cover. Allocations and
    commitments name one line each: they count there and nowhere else.

    The children's entries come in negated onto their parent in the same ``UNION ALL``, so a
    line's cell depends on its children's ledger too: ``refresh`` widens the lines it is given to
    their parents."""
    entries, children, allocations, commitments = "", "", "", ""
    params_entries, params_children, params_allocations, params_commitments = [], [], [], []
    if ids is not None:
        listed = f" IN ({_placeholders(ids)})"
        entries, children = f" AND e.line_id{listed}", f" AND c.parent_id{listed}"
        allocations, commitments = f" WHERE a.line_id{listed}", f" AND m.line_id{listed}"
        params_entries, params_children, params_allocations, params_commitments = (list(ids) for _ in range(4))
    now = timezone.now()
    cursor.execute(
        f"""
        INSERT INTO {table} ({CELL_COLUMNS})
        SELECT %s, per.start_date, %s, l.id, l.channel_id, ch."group", l.team_id, l.program_id, NULL, NULL,
               0, 0, SUM(v.budget), SUM(v.allocated), SUM(v.committed), 0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM (
            SELECT e.line_id, e.period_id, e.amount AS budget, 0 AS allocated, 0 AS committed
            FROM {T["entry"]} e WHERE e.effective_at <= %s {entries}
            UNION ALL
            SELECT c.parent_id, e.period_id, 0 - e.amount, 0, 0
            FROM {T["entry"]} e JOIN {T["line"]} c ON c.id = e.line_id
            WHERE c.parent_id IS NOT NULL AND e.effective_at <= %s {children}
            UNION ALL
            SELECT a.line_id, a.period_id, 0, a.amount_base, 0 FROM {T["allocation"]} a {allocations}
            UNION ALL
            SELECT m.line_id, m.period_id, 0, 0,
                   CASE WHEN m.amount_base > x.invoiced THEN m.amount_base - x.invoiced ELSE 0 END
            FROM (
                SELECT m.id, COALESCE((
                    SELECT SUM(s.amount_base) FROM {T["spend"]} s
                    WHERE s.campaign_id = m.campaign_id AND s.reference = m.reference
                ), 0) AS invoiced
                FROM {T["commitment"]} m WHERE m.status = %s {commitments}
            ) x JOIN {T["commitment"]} m ON m.id = x.id
        ) v
        JOIN {T["line"]} l ON l.id = v.line_id
        JOIN {T["budget"]} b ON b.id = l.budget_id AND b.is_current = %s
        JOIN {T["period"]} per ON per.id = v.period_id
        LEFT JOIN {T["channel"]} ch ON ch.id = l.channel_id
        GROUP BY per.start_date, l.id, l.channel_id, ch."group", l.team_id, l.program_id
        """,
        [
            Grain.MONTH,
            CellSource.BUDGET_LINE,
            now,
            *params_entries,
            now,
            *params_children,
            *params_allocations,
            CommitmentStatus.OPEN,
            *params_commitments,
            True,
        ],
    )
    return cursor.rowcount


def _derived_cells(cursor, source: str, ids: list[int] | None, ranges: Ranges, *, table: str = T["cell"]) -> int:
    """Coarser cells from finer ones (see DERIVATIONS): the buckets in ``ranges`` are rebuilt whole
    from every finer cell inside them."""
    written = 0
    # A cell's dimensions follow from its source and channel: group by those, carry the rest.
    attributes = ", ".join(f"MIN(x.{a})" for a in ATTRIBUTES if a != "channel_id")
    for finer, grains in DERIVATIONS:
        clauses, params = [], []
        for grain in grains:
            if grain not in ranges:
                continue
            days = _days_of(ranges, grain)
            if days is None:
                clauses.append("b.grain = %s")
                params.append(grain)
            else:
                clauses.append("(b.grain = %s AND x.period_start BETWEEN %s AND %s)")
                params.extend([grain, *days])
        if not clauses:
            continue
        where_ids = ""
        if ids is not None:
            where_ids = f" AND x.source_id IN ({_placeholders(ids)})"
            params = list(ids) + params
        cursor.execute(
            f"""
            INSERT INTO {table} ({CELL_COLUMNS})
            SELECT b.grain, b.period_start, x.source, x.source_id, x.channel_id, {attributes}, {SUMS}
            FROM {table} x JOIN {T["bucket"]} b ON b.date = x.period_start
            WHERE x.grain = %s AND x.source = %s {where_ids} AND ({" OR ".join(clauses)})
            GROUP BY b.grain, b.period_start, x.source, x.source_id, x.channel_id
            """,
            [finer, source, *params],
        )
        written += cursor.rowcount
    return written


def _source_filter(source: str, ids: list[int] | None, ranges: Ranges) -> tuple[str, list]:
    in_ranges, params = _in_ranges(ranges)
    where = f"source = %s AND {in_ranges}"
    params = [source, *params]
    if ids is not None:
        where += f" AND source_id IN ({_placeholders(ids)})"
        params += list(ids)
    return where, params


def _delete_cells(cursor, source: str, ids: list[int] | None, ranges: Ranges) -> None:
    where, params = _source_filter(source, ids, ranges)
    cursor.execute(f"DELETE FROM {T['cell']} WHERE {where}", params)


def group_by_member(member_sql: str) -> str:
    """The member's part of a GROUP BY (none for the organisation's constant member)."""
    return "" if member_sql == MEMBER_SQL[Dimension.ORGANISATION] else f", {member_sql}"


def _group_cells_by_dimension(where: str, sign: int, table: str = T["cell"]) -> str:
    """One SELECT per rollup dimension over the cells matching ``where``, signed (+1 adds the cells'
    contribution, -1 takes it away), as a UNION ALL."""
    sums = ", ".join(f"{sign} * SUM({m})" for m in MEASURE_FIELDS)
    return " UNION ALL ".join(
        f"SELECT grain, period_start, '{dimension}', {member}, {sums}, {sign} * COUNT(*) "
        f"FROM {table} WHERE {where} GROUP BY grain, period_start{group_by_member(member)}"
        for dimension, member in MEMBER_SQL.items()
    )


def _apply_to_rollups(cursor, where: str, params: list, sign: int) -> int:
    """Add (or take away) the contribution of the cells matching ``where`` to every dimension's
    rollup rows: one ``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE``."""
    updates = ", ".join(f"{m} = {T['rollup']}.{m} + excluded.{m}" for m in (*MEASURE_FIELDS, "cell_count"))
    cursor.execute(
        f"""
        INSERT INTO {T["rollup"]} (grain, period_start, dimension, member, {MEASURES}, cell_count)
        SELECT * FROM ({_group_cells_by_dimension(where, sign)}) contributions WHERE 1 = 1
        ON CONFLICT (dimension, grain, member, period_start) DO UPDATE SET {updates}
        """,
        params * len(MEMBER_SQL),
    )
    return cursor.rowcount


def _refresh_source(cursor, source: str, ids: list[int] | None, ranges: Ranges) -> Written:
    """Rebuild a source's cells in ``ranges`` and move the rollups by the difference: take the old
    cells' contribution away, rewrite the cells, add the new cells' contribution."""
    where, params = _source_filter(source, ids, ranges)
    written = Written()
    _apply_to_rollups(cursor, where, params, -1)
    _delete_cells(cursor, source, ids, ranges)
    if FINEST[source] in ranges:
        if source == CellSource.CAMPAIGN:
            written.cells += _campaign_day_cells(cursor, ids, _days_of(ranges, Grain.DAY))
        else:
            written.cells += _budget_month_cells(cursor, ids)
    written.cells += _derived_cells(cursor, source, ids, ranges)
    written.rollups += _apply_to_rollups(cursor, where, params, +1)
    cursor.execute(f"DELETE FROM {T['rollup']} WHERE cell_count = 0")  # partial index: only emptied rows
    return written


# --- entry points -----------------------------------------------------------------------------


def lock(cursor) -> None:
    """One refresh at a time, until the transaction ends (PostgreSQL; SQLite serialises writers by
    itself). Taking it again in the same transaction is harmless."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x6D6F7073])  # "mops"


def covered_span() -> tuple[datetime.date, datetime.date]:
    """The first and last day any fact, campaign or budget period reaches (today when there are none)."""
    days = [timezone.localdate()]
    for model, first, last in (
        (SpendEntry, "date", "date"),
        (ResultFact, "date", "date"),
        (Campaign, "start_date", "end_date"),
        (Period, "start_date", "end_date"),
    ):
        span = model.objects.aggregate(first=Min(first), last=Max(last))
        days += [day for day in span.values() if day is not None]
    return min(days), max(days)


def refresh(*, campaigns: dict[int, Range] | None = None, budget_lines: set[int] | None = None) -> Written:
    """Bring the cells and rollups of these campaigns (each over its changed date range; None: all
    dates) and budget lines up to date, in one transaction."""
    campaigns = campaigns or {}
    budget_lines = set(budget_lines or ())
    written = Written(campaigns=len(campaigns))
    if not campaigns and not budget_lines:
        return written
    spans = [day for span in campaigns.values() if span for day in span]
    if not spans or None in campaigns.values() or budget_lines:
        calendar.ensure_calendar(*covered_span())
    else:
        calendar.ensure_calendar(min(spans), max(spans))
    with transaction.atomic(), connection.cursor() as cursor:
        lock(cursor)
        if campaigns:
            # Open commitments shrink as invoices (spend quoting their PO) arrive.
            budget_lines |= set(
                Commitment.objects.filter(campaign_id__in=list(campaigns), status=CommitmentStatus.OPEN).values_list(
                    "line_id", flat=True
                )
            )
            for ids, ranges in _passes(campaigns):
                _add(written, _refresh_source(cursor, CellSource.CAMPAIGN, ids, ranges))
        if budget_lines:
            # A line's own budget is its ledger less its children's: a child's change moves its parent.
            parents = parents_of(budget_lines)
            budget_lines |= parents or set()
            ids = sorted(budget_lines) if parents is not None and len(budget_lines) <= MAX_LISTED else None
            _add(written, _refresh_source(cursor, CellSource.BUDGET_LINE, ids, ranges_for(None, None, BUDGET_GRAINS)))
            written.budget_lines = len(budget_lines)
    return written


def parents_of(line_ids: set[int]) -> set[int] | None:
    """The parents of these budget lines (whose own budget their ledgers are taken from). None when
    one of the lines is gone: its former parent is unknown, so every line is refreshed."""
    if len(line_ids) > MAX_LISTED:
        return set()  # every line is refreshed anyway
    found = dict(BudgetLine.objects.filter(pk__in=sorted(line_ids)).values_list("pk", "parent_id"))
    if len(found) < len(line_ids):
        return None
    return {parent for parent in found.values() if parent is not None}


def _add(total: Written, part: Written) -> None:
    total.cells += part.cells
    total.rollups += part.rollups


def _passes(campaigns: dict[int, Range]) -> list[tuple[list[int] | None, Ranges]]:
    """Group campaigns by changed range: one pass per distinct range while there are few, else one
    pass over their combined range (recomputing more than needed is correct, only slower)."""
    by_range: dict[Range, list[int]] = {}
    for campaign_id, span in campaigns.items():
        by_range.setdefault(span, []).append(campaign_id)
    if len(by_range) > 4:
        spans = list(by_range)
        whole = None if None in spans else (min(s[0] for s in spans), max(s[1] for s in spans))
        by_range = {whole: list(campaigns)}
    return [
        (sorted(ids) if len(ids) <= MAX_LISTED else None, ranges_for(*(span or (None, None))))
        for span, ids in by_range.items()
    ]


def _grouping_sets(table: str) -> str:
    """Every dimension's rollup in one pass over the cells (PostgreSQL's GROUPING SETS); the same
    rows as ``_group_cells_by_dimension`` gives with one scan per dimension."""
    columns = [ATTRIBUTE_OF[d] for d in MEMBER_SQL if d != Dimension.ORGANISATION]
    grouping = f"GROUPING({', '.join(columns)})"
    dimension_cases, member_cases = [], []
    for index, dimension in enumerate(d for d in MEMBER_SQL if d != Dimension.ORGANISATION):
        bits = (1 << len(columns)) - 1 - (1 << (len(columns) - 1 - index))  # only this column grouped
        dimension_cases.append(f"WHEN {bits} THEN '{dimension}'")
        member_cases.append(f"WHEN {bits} THEN {MEMBER_SQL[dimension]}")
    sets = ", ".join(["()", *(f"({column})" for column in columns)])
    return (
        f"SELECT grain, period_start, CASE {grouping} {' '.join(dimension_cases)} ELSE '{Dimension.ORGANISATION}' END, "
        f"CASE {grouping} {' '.join(member_cases)} ELSE '' END, {SUMS}, COUNT(*) "
        f"FROM {table} GROUP BY grain, period_start, GROUPING SETS ({sets})"
    )


def _roomy(cursor) -> None:
    """Memory for the big GROUP BYs of a rebuild, for this transaction only (PostgreSQL)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'")


NEW_CELLS, NEW_ROLLUPS, GONE = "metrics_cell_rebuilt", "metrics_rollup_rebuilt", "metrics_rebuild_gone"


def rebuild() -> Written:
    """Every cell and rollup computed afresh into temporary tables (no index or log to keep up), then
    reconciled with the kept ones in one transaction: rows that differ are replaced, the rest are
    left alone. ``Written.changed`` counts the rows replaced: 0 means the incremental path agreed."""
    calendar.ensure_calendar(*covered_span())
    written = Written()
    with transaction.atomic(), connection.cursor() as cursor:
        lock(cursor)
        _roomy(cursor)
        for table, like, columns in ((NEW_CELLS, T["cell"], CELL_COLUMNS), (NEW_ROLLUPS, T["rollup"], ROLLUP_COLUMNS)):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {table} AS SELECT {columns} FROM {like} WHERE 1 = 0")
        written.cells += _campaign_day_cells(cursor, None, None, table=NEW_CELLS)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {NEW_CELLS}")  # temporary tables get no statistics by themselves
        written.cells += _derived_cells(cursor, CellSource.CAMPAIGN, None, ranges_for(None, None), table=NEW_CELLS)
        written.cells += _budget_month_cells(cursor, None, table=NEW_CELLS)
        written.cells += _derived_cells(
            cursor, CellSource.BUDGET_LINE, None, ranges_for(None, None, BUDGET_GRAINS), table=NEW_CELLS
        )
        cursor.execute(
            f"INSERT INTO {NEW_ROLLUPS} ({ROLLUP_COLUMNS}) "
            + (
                _grouping_sets(NEW_CELLS)
                if connection.vendor == "postgresql"
                else _group_cells_by_dimension("1 = 1", 1, NEW_CELLS)
            )
        )
        written.rollups = cursor.rowcount
        written.changed = _reconcile(cursor, T["cell"], NEW_CELLS, CELL_COLUMNS, CELL_KEY)
        written.changed += _reconcile(cursor, T["rollup"], NEW_ROLLUPS, ROLLUP_COLUMNS, ROLLUP_KEY)
        cursor.execute(f"DROP TABLE {NEW_CELLS}")
        cursor.execute(f"DROP TABLE {NEW_ROLLUPS}")
    return written


def _reconcile(cursor, target: str, fresh: str, columns: str, key: tuple[str, ...]) -> int:
    """Make ``target`` hold exactly the rows of ``fresh``: delete the rows (by key) that differ or
    are gone, insert the ones missing. Returns how many rows were deleted plus inserted."""
    # Money compared to the cent: SQLite keeps decimals as floats, whose sums drift in the last bits.
    values = ", ".join(f"ROUND({c}, 2) AS {c}" if c in MONEY_MEASURES else c for c in columns.split(", "))
    cursor.execute(f"DROP TABLE IF EXISTS {GONE}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {GONE} AS SELECT {values} FROM {target} EXCEPT SELECT {values} FROM {fresh}"
    )
    same_key = " AND ".join(
        f"COALESCE({GONE}.{k}, -1) = COALESCE({target}.{k}, -1)" if k == "channel_id" else f"{GONE}.{k} = {target}.{k}"
        for k in key
    )
    cursor.execute(f"DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM {GONE} WHERE {same_key})")
    deleted = cursor.rowcount
    cursor.execute(
        f"INSERT INTO {target} ({columns}) SELECT {values} FROM {fresh} EXCEPT SELECT {values} FROM {target}"
    )
    inserted = cursor.rowcount
    cursor.execute(f"DROP TABLE {GONE}")
    return deleted + inserted
