import datetime

import pytest

from planning.fiscal import fiscal_months, fiscal_year_bounds, fiscal_year_of
from planning.services import fiscal_year_ensure


@pytest.mark.parametrize(
    ("day", "start_month", "expected"),
    [
        (datetime.date(2026, 1, 1), 1, 2026),
        (datetime.date(2026, 12, 31), 1, 2026),
        (datetime.date(2026, 6, 30), 7, 2026),  # July start: June is the last month of FY2026
        (datetime.date(2026, 7, 1), 7, 2027),
        (datetime.date(2026, 3, 31), 4, 2026),
        (datetime.date(2026, 4, 1), 4, 2027),
    ],
)
def test_fiscal_year_of(day, start_month, expected):
    assert fiscal_year_of(day, start_month) == expected


def test_fiscal_year_bounds_and_months_with_a_july_start():
    assert fiscal_year_bounds(2027, 7) == (datetime.date(2026, 7, 1), datetime.date(2027, 6, 30))
    months = fiscal_months(2027, 7)
    assert months[0] == datetime.date(2026, 7, 1)
    assert months[5] == datetime.date(2026, 12, 1)
    assert months[6] == datetime.date(2027, 1, 1)
    assert months[-1] == datetime.date(2027, 6, 1)
    assert len(months) == 12


def test_leap_years_end_on_the_right_day():
    assert fiscal_year_bounds(2028, 3) == (datetime.date(2027, 3, 1), datetime.date(2028, 2, 29))


@pytest.mark.django_db
def test_fiscal_year_ensure_uses_the_configured_start_and_is_idempotent(settings):
    settings.FISCAL_YEAR_START_MONTH = 4
    first = fiscal_year_ensure(year=2027)
    assert (first.start_date, first.end_date) == (datetime.date(2026, 4, 1), datetime.date(2027, 3, 31))
    assert fiscal_year_ensure(year=2027) == first
