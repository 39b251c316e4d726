"""What the finance, marketer and ops boards share beyond ``metrics.dashboards.panels``: the built-in KPI
catalogue, the length of lists on the page, and the reads over the rollup cells that
metrics.rollups.selectors does not offer (yet)."""

import datetime

from django.db import connection
from django.utils import timezone

from metrics.kpis import catalogue as kpis
from metrics.rollups.engine import T
from metrics.rollups.models import MEASURE_FIELDS, CellSource, Grain
from metrics.rollups.selectors import Filters, Scope, cell_where, row_measures

CATALOGUE = kpis.catalogue()  # built-ins only: these boards use no custom KPI
MAX_LIST = 100  # lists of steps, tasks and warnings on the page (downloads hold every row)


def list_note(rows: list) -> str:
    """The note of a list cut to ``MAX_LIST`` rows on the page."""
    return f"Showing {MAX_LIST} of {len(rows)}; the download holds all." if len(rows) > MAX_LIST else ""


def day_bounds(filters: Filters) -> tuple[datetime.datetime, datetime.datetime]:
    """The filter's days as an aware [start, end) range of datetimes in the local time zone."""
    start = timezone.make_aware(datetime.datetime.combine(filters.start, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(filters.end + datetime.timedelta(days=1), datetime.time.min))
    return start, end


# --- shared reads over the rollup cells (candidates for metrics.rollups.selectors) ---------------------


def campaign_measures_to_date(campaign_ids: list[int], today: datetime.date) -> dict[int, dict]:
    """Every measure of each campaign from its first fact up to and including ``today``, from the
    rollup cells: whole months before this one from month cells, this month's days from day cells.
    One query."""
    if not campaign_ids:
        return {}
    month_start = today.replace(day=1)
    sums = ", ".join(f"SUM({m})" for m in MEASURE_FIELDS)
    ids = ", ".join(["%s"] * len(campaign_ids))
    sql = (
        f"SELECT source_id, {sums} FROM {T['cell']} WHERE source = %s AND source_id IN ({ids}) "
        "AND ((grain = %s AND period_start < %s) OR (grain = %s AND period_start BETWEEN %s AND %s)) "
        "GROUP BY source_id"
    )
    params = [CellSource.CAMPAIGN, *campaign_ids, Grain.MONTH, month_start, Grain.DAY, month_start, today]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {source_id: row_measures(values) for source_id, *values in cursor.fetchall()}


def cells_where(filters: Filters, scope: Scope, grain: str, start, end) -> tuple[str, list]:
    """Campaign cells of ``grain`` from ``start`` to ``end`` (bucket starts), narrowed by the filters
    and the scope, as the shared selectors narrow them."""
    where, params = cell_where(filters, scope, grain, start, end)
    return f"{where} AND x.source = %s", [*params, CellSource.CAMPAIGN]
