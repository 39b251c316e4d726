"""Forecasts and spend pacing (metrics/dashboards/forecast.py): pure functions, no database.

The seasonal model is checked against a synthetic series whose truth is known (trend, a November
peak, a little noise from a fixed seed); the fallbacks against hand-computed values; pacing against
hand-computed days and amounts.
"""

import math
import time
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.dashboards.forecast import (
    DAMPED_TREND,
    HOLT_WINTERS,
    NOT_ENOUGH_HISTORY,
    NOTHING_TO_FORECAST,
    SEASONAL_NAIVE,
    Forecast,
    PacingStatus,
    forecast_monthly,
    spend_pacing,
)

D = Decimal
START = date(2021, 1, 1)


def month(offset: int, start: date = START) -> date:
    index = start.year * 12 + start.month - 1 + offset
    return date(index // 12, index % 12 + 1, 1)


def truth(t: int) -> float:
    """Pipeline without noise: growing 1,500 a month, low in spring, peaking every November."""
    calendar_month = month(t).month
    seasonal = 40_000 * math.cos(2 * math.pi * (calendar_month - 11) / 12) + (25_000 if calendar_month == 11 else 0)
    return 100_000 + 1_500 * t + seasonal


def observed(months: int, *, seed: int = 7, noise: float = 3_000) -> list[tuple[date, Decimal]]:
    """``months`` observations of ``truth`` from START with normal noise."""
    rng = np.random.default_rng(seed)
    return [(month(t), D(f"{truth(t) + rng.normal(0, noise):.2f}")) for t in range(months)]


def year_end(history) -> date:
    """The last day of the twelfth month after the history: the forecast then covers 12 months."""
    return month(13, start=history[-1][0]) - timedelta(days=1)


# --- The seasonal model --------------------------------------------------------------------------


def test_seasonal_model_follows_a_known_series():
    # given three years of history and the year that follows it (same noise stream)
    both = observed(48)
    history, future = both[:36], both[36:]

    forecast = forecast_monthly(history, year_end(history))

    assert forecast.method == HOLT_WINTERS
    assert forecast.note == ""
    assert [p.month for p in forecast.points] == [m for m, _ in future]
    # the peak lands in November, like every November of the history
    peak = max(forecast.points, key=lambda p: p.value)
    assert peak.month == date(2024, 11, 1)
    # close to the noise-free truth: mean absolute percentage error under 8 %
    errors = [abs(float(p.value) - truth(36 + h)) / truth(36 + h) for h, p in enumerate(forecast.points)]
    assert sum(errors) / len(errors) < 0.08
    # an 80 % band holds the actual month most of the time
    inside = sum(p.low <= actual <= p.high for p, (_, actual) in zip(forecast.points, future, strict=True))
    assert inside >= 9


@pytest.mark.parametrize("months", [6, 15, 36, 60])
def test_band_never_narrows_with_the_horizon(months):
    # from July: six months from January would be the spring slump, carried down to zero
    history = observed(6 + months)[6:]

    forecast = forecast_monthly(history, year_end(history))

    assert all(p.low > 0 for p in forecast.points), "precondition: no band is cut at zero"
    widths = [p.high - p.low for p in forecast.points]
    assert widths == sorted(widths)
    assert widths[-1] > widths[0]


def test_a_wider_coverage_gives_a_wider_band():
    history = observed(36)

    narrow = forecast_monthly(history, year_end(history), band=0.8)
    wide = forecast_monthly(history, year_end(history), band=0.95)

    assert narrow.band_label == "80 % prediction interval"
    assert wide.band_label == "95 % prediction interval"
    for n, w in zip(narrow.points, wide.points, strict=True):
        assert n.value == w.value
        assert w.low <= n.low and w.high >= n.high
    assert any(w.high - w.low > n.high - n.low for n, w in zip(narrow.points, wide.points, strict=True))


@pytest.mark.parametrize("months", [3, 6, 11, 12, 15, 23, 24, 36, 60])
def test_points_are_ordered_and_rounded_to_cents(months):
    forecast = forecast_monthly(observed(months), year_end(observed(months)))

    assert len(forecast.points) == 12
    for point in forecast.points:
        assert D(0) <= point.low <= point.value <= point.high
        assert {point.low.as_tuple().exponent, point.value.as_tuple().exponent, point.high.as_tuple().exponent} == {-2}


@pytest.mark.parametrize("months", [4, 8, 15, 30])
def test_nothing_negative_on_a_series_falling_to_zero(months):
    # given a small amount that has been falling and hits zero for good
    rng = np.random.default_rng(11)
    history = [(month(t), D(f"{max(0.0, 40 - 2.5 * t + rng.normal(0, 4)):.2f}")) for t in range(months)]

    forecast = forecast_monthly(history, date(2026, 12, 31))

    assert forecast.points
    for point in forecast.points:
        assert D(0) <= point.low <= point.value <= point.high


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=30).flatmap(
        lambda size: st.lists(st.decimals(min_value=0, max_value=10_000_000, places=2), min_size=size, max_size=size)
    )
)
def test_any_history_gives_an_ordered_non_negative_forecast(amounts):
    history = [(month(t), amount) for t, amount in enumerate(amounts)]

    forecast = forecast_monthly(history, date(2024, 12, 31))

    for point in forecast.points:
        assert D(0) <= point.low <= point.value <= point.high


# --- Thin histories --------------------------------------------------------------------------------


def test_fifteen_months_repeat_last_year_scaled_by_growth():
    # given a year, then three months that are 10 % above the same months a year earlier
    first_year = observed(12)
    growth = [(month(12 + t), amount * D("1.1")) for t, (_, amount) in enumerate(first_year[:3])]
    history = first_year + growth

    forecast = forecast_monthly(history, date(2022, 12, 31))

    assert forecast.method == SEASONAL_NAIVE
    assert "15 months" in forecast.note and "two years" in forecast.note
    # April 2022 = April 2021 × 1.1, and the November peak comes back
    assert forecast.points[0].month == date(2022, 4, 1)
    assert forecast.points[0].value == (first_year[3][1] * D("1.1")).quantize(D("0.01"))
    assert max(forecast.points, key=lambda p: p.value).month == date(2022, 11, 1)


def test_six_months_continue_a_damped_trend():
    # given a straight climb of 10 a month
    history = [(month(t), D(100 + 10 * t)) for t in range(6)]

    forecast = forecast_monthly(history, date(2021, 9, 30))

    assert forecast.method == DAMPED_TREND
    assert "not yet a year" in forecast.note and "6 months" in forecast.note
    # 150 + 10 × (0.8), + 10 × (0.8 + 0.64), + 10 × (0.8 + 0.64 + 0.512)
    assert [p.value for p in forecast.points] == [D("158.00"), D("164.40"), D("169.52")]


@pytest.mark.parametrize("months", [0, 1, 2])
def test_under_three_months_give_no_points(months):
    forecast = forecast_monthly(observed(months), date(2021, 12, 31))

    assert forecast.points == ()
    assert forecast.method == NOT_ENOUGH_HISTORY
    assert "at least 3 months" in forecast.note or "no history" in forecast.note


# --- The history and the horizon ---------------------------------------------------------------------


def test_missing_months_inside_the_history_count_as_zero():
    complete = observed(30)
    with_zeros = [(m, D(0)) if t in (9, 10, 20) else (m, amount) for t, (m, amount) in enumerate(complete)]
    with_gaps = [row for t, row in enumerate(complete) if t not in (9, 10, 20)]

    assert forecast_monthly(with_gaps, date(2023, 12, 31)) == forecast_monthly(with_zeros, date(2023, 12, 31))


def test_rows_within_a_month_add_up():
    monthly = [(month(t), D(1000 + 100 * t)) for t in range(8)]
    # the same totals booked as two rows on days inside each month
    split = []
    for m, amount in monthly:
        split += [(m + timedelta(days=3), amount - 1), (m + timedelta(days=20), D(1))]

    assert forecast_monthly(split, date(2021, 12, 31)) == forecast_monthly(monthly, date(2021, 12, 31))


def test_points_run_from_the_month_after_the_history_through_the_month_of_until():
    history = observed(18)  # January 2021 to June 2022

    forecast = forecast_monthly(history, date(2022, 12, 15))

    assert [p.month for p in forecast.points] == [date(2022, m, 1) for m in range(7, 13)]


def test_a_history_reaching_until_has_nothing_to_forecast():
    forecast = forecast_monthly(observed(18), date(2022, 6, 30))

    assert forecast == Forecast(points=(), method=NOTHING_TO_FORECAST, note="The history already reaches June 2022.")


def test_same_history_same_forecast():
    history = observed(40, seed=3)

    assert forecast_monthly(history, date(2025, 12, 31)) == forecast_monthly(list(history), date(2025, 12, 31))


def test_fast_enough_for_a_page_request():
    history = observed(60)
    forecast_monthly(history, year_end(history))  # statsmodels is imported on the first call

    timings = []
    for _ in range(3):
        began = time.perf_counter()
        forecast_monthly(history, year_end(history))
        timings.append(time.perf_counter() - began)

    assert min(timings) < 0.5


# --- Spend pacing ------------------------------------------------------------------------------------

JANUARY = {"start": date(2025, 1, 1), "end": date(2025, 1, 31)}  # 31 days


@pytest.mark.parametrize(
    ("spent", "run_rate", "projected", "status"),
    [
        # ten days in, 21 left: projected = spent + spent / 10 × 21
        ("1000.00", "100.00", "3100.00", PacingStatus.ON_TRACK),
        ("1100.00", "110.00", "3410.00", PacingStatus.ON_TRACK),  # exactly 10 % over: still on track
        ("1110.00", "111.00", "3441.00", PacingStatus.OVERSPENDING),
        ("1500.00", "150.00", "4650.00", PacingStatus.OVERSPENDING),
        ("900.00", "90.00", "2790.00", PacingStatus.ON_TRACK),  # exactly 10 % under
        ("500.00", "50.00", "1550.00", PacingStatus.UNDERSPENDING),
    ],
)
def test_pacing_during_the_period(spent, run_rate, projected, status):
    pacing = spend_pacing(spent=D(spent), today=date(2025, 1, 10), allocation=D("3100.00"), **JANUARY)

    assert pacing.run_rate_per_day == D(run_rate)
    assert pacing.projected == D(projected)
    assert pacing.remaining == D("3100.00") - D(spent)
    assert pacing.projected_variance == D("3100.00") - D(projected)
    assert pacing.status == status


def test_pacing_projects_with_the_unrounded_run_rate():
    # 100 over 3 days = 33.333…/day; 28 days left → 100 + 933.33 (not 33.33 × 28 = 933.24)
    pacing = spend_pacing(spent=D(100), today=date(2025, 1, 3), allocation=D(1000), **JANUARY)

    assert pacing.run_rate_per_day == D("33.33")
    assert pacing.projected == D("1033.33")
    assert pacing.status == PacingStatus.ON_TRACK


def test_pacing_on_the_last_day_projects_what_was_spent():
    pacing = spend_pacing(spent=D(2000), today=date(2025, 1, 31), allocation=D(3100), **JANUARY)

    assert pacing.run_rate_per_day == D("64.52")  # 2000 / 31
    assert pacing.projected == D("2000.00")
    assert pacing.status == PacingStatus.UNDERSPENDING


def test_pacing_before_the_period_starts():
    pacing = spend_pacing(spent=D(0), today=date(2024, 12, 20), allocation=D(3100), **JANUARY)

    assert pacing.status == PacingStatus.NOT_STARTED
    assert pacing.run_rate_per_day == D("0.00")
    assert pacing.projected == D("0.00")
    assert pacing.remaining == pacing.projected_variance == D("3100.00")


def test_pacing_after_the_period_ends():
    pacing = spend_pacing(spent=D(3000), today=date(2025, 3, 1), allocation=D(3100), **JANUARY)

    assert pacing.status == PacingStatus.FINISHED
    assert pacing.run_rate_per_day == D("96.77")  # 3000 over all 31 days
    assert pacing.projected == D("3000.00")
    assert pacing.projected_variance == D("100.00")


@pytest.mark.parametrize(
    ("spent", "status"),
    [("0", PacingStatus.ON_TRACK), ("10", PacingStatus.OVERSPENDING)],
)
def test_pacing_with_zero_allocation(spent, status):
    pacing = spend_pacing(spent=D(spent), today=date(2025, 1, 10), allocation=D(0), **JANUARY)

    assert pacing.status == status
    assert pacing.remaining == -D(spent)


def test_zero_allocation_before_and_after_the_period():
    before = spend_pacing(spent=D(0), today=date(2024, 12, 1), allocation=D(0), **JANUARY)
    after = spend_pacing(spent=D(0), today=date(2025, 2, 1), allocation=D(0), **JANUARY)

    assert (before.status, after.status) == (PacingStatus.NOT_STARTED, PacingStatus.FINISHED)
    assert after.run_rate_per_day == after.projected == D("0.00")


def test_pacing_rejects_a_period_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="ends"):
        spend_pacing(spent=D(0), start=date(2025, 2, 1), end=date(2025, 1, 1), today=date(2025, 1, 15), allocation=D(1))
