"""The fiscal calendar: the year starts on ``settings.FISCAL_YEAR_START_MONTH``; periods are months."""

import datetime

from django.conf import settings


def fiscal_year_of(day: datetime.date, start_month: int | None = None) -> int:
    """The fiscal year containing ``day``, named by the calendar year in which it ends
    (a year starting 1 July 2026 is FY2027; with a January start, FY = calendar year)."""
    start_month = start_month or settings.FISCAL_YEAR_START_MONTH
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_year_bounds(year: int, start_month: int | None = None) -> tuple[datetime.date, datetime.date]:
    """First and last day of fiscal year ``year``."""
    start_month = start_month or settings.FISCAL_YEAR_START_MONTH
    start = datetime.date(year if start_month == 1 else year - 1, start_month, 1)
    next_start = datetime.date(start.year + 1, start_month, 1)
    return start, next_start - datetime.timedelta(days=1)


def fiscal_months(year: int, start_month: int | None = None) -> list[datetime.date]:
    """The first day of each of the twelve months of fiscal year ``year``, in order."""
    start, _ = fiscal_year_bounds(year, start_month)
    months = []
    for offset in range(12):
        month_index = start.month - 1 + offset
        months.append(datetime.date(start.year + month_index // 12, month_index % 12 + 1, 1))
    return months
