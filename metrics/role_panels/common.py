"""What the three boards share: their inputs, tiles, formatting and the reads over the rollup cells
that metrics.selectors does not offer (yet)."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.html import format_html

from metrics import kpis
from metrics.models import MEASURE_FIELDS, MONEY_MEASURES, CellSource, DirtyMark, Grain, RefreshRun
from metrics.rollups import T
from metrics.selectors import Filters, Scope, cell_where
from mops.money import money

NO_VALUE = kpis.NO_VALUE
CATALOGUE = kpis.catalogue()  # built-ins only: these boards use no custom KPI
MAX_LIST = 100  # lists of steps, tasks and warnings on the page (downloads hold every row)


@dataclass(frozen=True)
class Inputs:
    filters: Filters
    scope: Scope
    user: object
    today: datetime.date
    currency: str


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    help: str = ""
    tone: str = ""  # a Bootstrap colour for the value: "danger", "warning", "success" or none


# --- formatting -------------------------------------------------------------------------------


def money_text(value) -> str:
    return NO_VALUE if value is None else f"{money(value):,.2f}"


def count_text(value) -> str:
    return NO_VALUE if value is None else f"{value:,}"


def as_percent(fraction) -> Decimal | None:
    """A fraction (0.8523) as a percentage for downloads (85.2); None stays no value."""
    return None if fraction is None else (Decimal(fraction) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


def share(numerator, denominator) -> Decimal | None:
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


def percent_text(percent) -> str:
    return NO_VALUE if percent is None else f"{percent:,.1f} %"


def local_time(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def link(url: str, text: str) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


def formatted(rows: list[list], formats: list[Callable]) -> list[list]:
    return [[fmt(value) for fmt, value in zip(formats, row, strict=True)] for row in rows]


def or_dash(value) -> str:
    return NO_VALUE if value in (None, "") else str(value)


def day_bounds(filters: Filters) -> tuple[datetime.datetime, datetime.datetime]:
    """The filter's days as an aware [start, end) range of datetimes in the local time zone."""
    start = timezone.make_aware(datetime.datetime.combine(filters.start, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(filters.end + datetime.timedelta(days=1), datetime.time.min))
    return start, end


def freshness(last_refresh: datetime.datetime | None, pending_marks: int) -> str:
    """The filter bar's note on how fresh the numbers are (the CMO dashboard's wording)."""
    if last_refresh is None:
        when = "rollups not built yet"
    else:
        local = timezone.localtime(last_refresh)
        when = f"rollups refreshed {local.day} {local:%b %Y %H:%M %Z}"
    if pending_marks:
        pending = f"{pending_marks} change{'s' if pending_marks != 1 else ''} waiting to be rolled up"
    else:
        pending = "no changes waiting"
    return f"{when}, {pending}"


def read_freshness() -> str:
    """``freshness`` from the last refresh and the pending marks (two queries, not rollup_status's six)."""
    last = RefreshRun.objects.aggregate(at=Max("finished_at"))["at"]
    return freshness(last, DirtyMark.objects.count())


def filters_label(form, filters: Filters) -> str:
    """The filters in words, as the CMO dashboard says them: "FY2026: 1 Jan – 31 Dec 2026 · Team: EMEA"."""
    data = form.cleaned_data if form.is_valid() else {}
    period = data.get("period") or form.default_period
    label = "Custom dates" if period == "custom" else dict(form.fields["period"].choices).get(period, period)
    if filters.start.year == filters.end.year:
        days = f"{filters.start.day} {filters.start:%b} – {filters.end.day} {filters.end:%b %Y}"
    else:
        days = f"{filters.start.day} {filters.start:%b %Y} – {filters.end.day} {filters.end:%b %Y}"
    parts = [f"{label}: {days}"]
    for name in ("team", "channel", "program", "region"):
        if data.get(name):
            parts.append(f"{form.fields[name].label or name.capitalize()}: {data[name]}")
    return " · ".join(parts)


# --- shared reads over the rollup cells (candidates for metrics.selectors) ---------------------


def measures_of(values) -> dict:
    return {
        m: (money(v or 0) if m in MONEY_MEASURES else int(v or 0)) for m, v in zip(MEASURE_FIELDS, values, strict=True)
    }


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
        return {source_id: measures_of(values) for source_id, *values in cursor.fetchall()}


def cells_where(filters: Filters, scope: Scope, grain: str, start, end) -> tuple[str, list]:
    """Campaign cells of ``grain`` from ``start`` to ``end`` (bucket starts), narrowed by the filters
    and the scope, as the shared selectors narrow them."""
    where, params = cell_where(filters, scope, grain, start, end)
    return f"{where} AND x.source = %s", [*params, CellSource.CAMPAIGN]
