"""The buckets of each grain, fiscal-aware: weeks start on Monday, months are calendar months,
quarters and years start from ``settings.FISCAL_YEAR_START_MONTH`` (planning.fiscal).

These functions are the one definition of a bucket. They fill the ``CalendarBucket`` table that
the rollup SQL joins facts to, and they turn a changed date range into the buckets to refresh.
"""

import datetime

from django.conf import settings
from django.db import connection

from metrics.rollups.models import CalendarBucket, Grain
from planning.fiscal import fiscal_year_bounds, fiscal_year_of

ONE_DAY = datetime.timedelta(days=1)


def bucket_start(grain: str, day: datetime.date) -> datetime.date:
    if grain == Grain.DAY:
        return day
    if grain == Grain.WEEK:
        return day - datetime.timedelta(days=day.weekday())
    if grain == Grain.MONTH:
        return day.replace(day=1)
    year_start, _ = fiscal_year_bounds(fiscal_year_of(day))
    if grain == Grain.YEAR:
        return year_start
    if grain == Grain.QUARTER:
        months_in = (day.year - year_start.year) * 12 + day.month - year_start.month
        return add_months(year_start, months_in // 3 * 3)
    raise ValueError(f"Unknown grain {grain!r}")


def bucket_end(grain: str, day: datetime.date) -> datetime.date:
    """The last day of the bucket holding ``day``."""
    start = bucket_start(grain, day)
    if grain == Grain.DAY:
        return start
    if grain == Grain.WEEK:
        return start + datetime.timedelta(days=6)
    months = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    return add_months(start, months) - ONE_DAY


def bucket_label(grain: str, start: datetime.date) -> str:
    """How a bucket reads on a chart axis or in a table: 2026-03-09, W11 2026, Mar 2026, Q2 FY2026, FY2026."""
    if grain == Grain.DAY:
        return start.isoformat()
    if grain == Grain.WEEK:
        iso_year, week, _ = start.isocalendar()
        return f"W{week:02d} {iso_year}"
    if grain == Grain.MONTH:
        return start.strftime("%b %Y")
    fiscal_year = fiscal_year_of(start)
    if grain == Grain.YEAR:
        return f"FY{fiscal_year}"
    year_start, _ = fiscal_year_bounds(fiscal_year)
    quarter = ((start.year - year_start.year) * 12 + start.month - year_start.month) // 3 + 1
    return f"Q{quarter} FY{fiscal_year}"


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1, day=1)


def ensure_calendar(first: datetime.date, last: datetime.date) -> int:
    """Make sure every day of the fiscal years from ``first`` to ``last`` has its buckets; returns
    the number of days added. Whole fiscal years at a time, so a quarter or year is never half-known."""
    first = fiscal_year_bounds(fiscal_year_of(first))[0]
    last = fiscal_year_bounds(fiscal_year_of(last))[1]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(date), MAX(date), COUNT(*) FROM {CalendarBucket._meta.db_table} WHERE grain = %s",
            [Grain.DAY],
        )
        known_first, known_last, count = cursor.fetchone()
    if known_first is not None:
        known_first, known_last = _as_date(known_first), _as_date(known_last)
        if count != (known_last - known_first).days + 1 or _start_month_changed():
            CalendarBucket.objects.all().delete()  # the fiscal start moved or rows are missing: start over
        elif known_first <= first and last <= known_last:
            return 0
        else:
            first, last = min(first, known_first), max(last, known_last)
            CalendarBucket.objects.all().delete()
    rows = []
    day = first
    while day <= last:
        rows.extend(
            CalendarBucket(date=day, grain=grain, period_start=bucket_start(grain, day), ordinal=day.toordinal())
            for grain in Grain
        )
        day += ONE_DAY
    CalendarBucket.objects.bulk_create(rows, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {CalendarBucket._meta.db_table}")  # the rollup joins plan on its size
    return (last - first).days + 1


def _start_month_changed() -> bool:
    """True when the stored year buckets were made for another fiscal start month."""
    row = CalendarBucket.objects.filter(grain=Grain.YEAR).values_list("period_start", flat=True).first()
    return row is not None and row.month != settings.FISCAL_YEAR_START_MONTH


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
