"""Service-level agreements in business days (Monday–Friday)."""

import datetime


def add_business_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """``start`` moved forward by ``days`` business days, keeping the time of day.

    A start on a weekend counts from the next Monday; 0 days means "by the end of the next
    business moment", i.e. the start itself moved onto a business day.
    """
    current = start
    while current.weekday() >= 5:
        current += datetime.timedelta(days=1)
    remaining = days
    while remaining > 0:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current
