"""Forecasts for the dashboards, as pure functions: Decimal history in, Decimal forecast out.

Two questions are answered here:

- ``forecast_monthly``: where do pipeline and revenue land by year end, given their monthly history?
  A seasonal model when there are two years of history, simpler methods (named in the result, with a
  sentence for the user) when there are fewer. The charts draw the points as a dashed extension of
  the trend line with the band shaded around it.
- ``spend_pacing``: at the current run rate, where does spend land by the end of the period, against
  its allocation?

Floats are used inside the models only (numpy and statsmodels work in floats); every amount that
goes in or comes out is a Decimal rounded by ``mops.money.money`` (ARCHITECTURE.md "Money, time and
numbers"). Nothing here touches the database or the request.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist

import numpy as np

from mops.money import money

SEASON = 12  # months in a seasonal cycle

# Models are chosen by the number of months in the history span (gaps count as months of zero).
SEASONAL_MODEL_MONTHS = 24  # Holt-Winters needs two full cycles to tell trend from season
SEASONAL_NAIVE_MONTHS = 12  # one full cycle: last year's pattern can be repeated
MINIMUM_MONTHS = 3  # fewer points than this carry no trend worth extrapolating

HOLT_WINTERS = "Holt-Winters (additive trend, damped; 12-month seasonality)"
SEASONAL_NAIVE = "seasonal naive with drift"
DAMPED_TREND = "damped trend from recent months"
NOT_ENOUGH_HISTORY = "not enough history"
NOTHING_TO_FORECAST = "nothing to forecast"

# Simulated future paths behind the Holt-Winters band. 200 paths keep a call well under 10 ms
# beyond the fit; the fixed seed makes the same history always draw the same band.
SIMULATIONS = 200
SIMULATION_SEED = 20_240_601

# The year-over-year ratio of the seasonal naive method is measured on as little as one month of
# overlap; bounded so a single odd month cannot halve or triple the forecast.
GROWTH_RATIO_BOUNDS = (0.5, 2.0)

# Without seasonality the trend of the last few months is extrapolated with this damping: month h
# adds phi + phi² + … + phi^h slopes, at most phi / (1 - phi) = 4, so a short run-up is not carried
# through the rest of the year.
RECENT_MONTHS = 6
DAMPING = 0.8

# Thin histories cannot measure their own noise (three points fit a line almost exactly), so their
# bands are at least this share of the recent monthly level wide on the first forecast month.
NOISE_FLOOR = 0.10


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast month: the central value and the band around it (``low`` ≤ ``value`` ≤ ``high``,
    none negative)."""

    month: date  # first day of the month
    value: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Forecast:
    """Forecast months after the history, the method that produced them and, when the history is
    thin, a sentence saying what that means for the reader (empty otherwise).

    The band is a prediction interval: with ``band=0.8`` the actual month is expected to fall inside
    it four times out of five, if the future behaves like the past.
    """

    points: tuple[ForecastPoint, ...]
    method: str
    note: str
    band: float = 0.8

    @property
    def band_label(self) -> str:
        """Legend text for the shaded area, e.g. "80 % prediction interval"."""
        return f"{round(self.band * 100)} % prediction interval"


def forecast_monthly(history: Sequence[tuple[date, Decimal]], until: date, *, band: float = 0.8) -> Forecast:
    """Forecast every month after the last history month up to and including the month of ``until``.

    ``history`` holds monthly totals as ``(month, amount)``; a date inside a month counts for that
    month and several rows in one month add up. Months missing between the first and the last are
    months of zero (nothing was booked). The method depends on how many months the span covers:

    - 24 or more: Holt-Winters exponential smoothing (additive damped trend, additive 12-month
      seasonality); the band comes from simulated future paths of the fitted model.
    - 12 to 23: seasonal naive with drift — the same month last year, scaled by the year-over-year
      ratio of the months both years have; the band grows with the square root of the horizon.
    - 3 to 11: the level and damped trend of recent months, no seasonality; widening band.
    - fewer than 3: no points.

    ``band`` is the coverage of the interval (0.8 = 80 %). Values and bounds are never negative,
    since pipeline and revenue cannot be. Fast enough for a page request (about 0.1–0.2 s for five
    years of history once statsmodels is imported; the import itself takes over a second and is
    paid on the first seasonal forecast in a process).
    """
    if not 0 < band < 1:
        raise ValueError(f"band must be between 0 and 1, not {band}")
    start, values = _monthly_series(history)
    months = len(values)
    if months < MINIMUM_MONTHS:
        note = (
            "There is no history to forecast from yet."
            if not months
            else f"A forecast needs at least {MINIMUM_MONTHS} months of history; there "
            + ("is 1." if months == 1 else f"are {months}.")
        )
        return Forecast(points=(), method=NOT_ENOUGH_HISTORY, note=note, band=band)

    first = _add_months(start, months)
    horizon = _months_between(first, until) + 1
    if horizon <= 0:
        return Forecast(
            points=(),
            method=NOTHING_TO_FORECAST,
            note=f"The history already reaches {until:%B %Y}.",
            band=band,
        )

    z = NormalDist().inv_cdf(0.5 + band / 2)
    note = ""
    if months >= SEASONAL_MODEL_MONTHS:
        fitted = _holt_winters(values, horizon, band)
        if fitted is not None:
            method = HOLT_WINTERS
            central, up, down = fitted
        else:
            method = SEASONAL_NAIVE
            central, up, down = _seasonal_naive(values, horizon, z)
            note = "The seasonal model could not be fitted to this history, so last year's pattern is repeated."
    elif months >= SEASONAL_NAIVE_MONTHS:
        method = SEASONAL_NAIVE
        central, up, down = _seasonal_naive(values, horizon, z)
        note = (
            f"With {months} months of history (a seasonal model needs two years), the forecast repeats "
            "last year's months, scaled by the growth since then."
        )
    else:
        method = DAMPED_TREND
        central, up, down = _damped_trend(values, horizon, z)
        note = (
            f"There is not yet a year of history ({months} months), so the forecast follows the recent "
            "level and trend and cannot show seasonal peaks."
        )

    # Uncertainty never shrinks with the horizon: simulated quantiles wobble from month to month.
    up = np.maximum.accumulate(np.maximum(up, 0.0))
    down = np.maximum.accumulate(np.maximum(down, 0.0))
    zero = money(0)
    points = []
    for step in range(horizon):
        # Round the centre and the half-widths separately so rounding cannot narrow a later month.
        value = _money(central[step])
        points.append(
            ForecastPoint(
                month=_add_months(first, step),
                value=max(value, zero),
                low=max(value - _money(down[step]), zero),
                high=max(value + _money(up[step]), zero),
            )
        )
    return Forecast(points=tuple(points), method=method, note=note, band=band)


def _holt_winters(values: np.ndarray, horizon: int, band: float) -> tuple[np.ndarray, ...] | None:
    """Centre and half-widths from Holt-Winters, or None when the fit fails or diverges.

    The series is scaled to a mean of about 1 first: the optimiser is tuned for such values and
    struggles with amounts in the millions. The initial level, trend and season come from the
    classic decomposition of the first two years ("heuristic") rather than being optimised along
    with the smoothing weights: that is about three times faster, and with 14 fewer free parameters
    on two or three years of data the residuals — hence the band — are not flattered by overfitting.
    """
    # Imported here: statsmodels takes over a second to import; processes that never forecast a
    # seasonal series (workers, management commands) should not pay for it.
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    scale = float(np.mean(np.abs(values))) or 1.0
    # Warnings (convergence, overflow inside the optimiser) are silenced here only: a poor fit is
    # caught by the finiteness check below and answered with the fallback method.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            model = ExponentialSmoothing(
                values / scale,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=SEASON,
                initialization_method="heuristic",
            )
            fit = model.fit()
            central = np.asarray(fit.forecast(horizon), dtype=float) * scale
            paths = np.asarray(
                fit.simulate(horizon, repetitions=SIMULATIONS, anchor="end", error="add", random_state=SIMULATION_SEED),
                dtype=float,
            ).reshape(horizon, SIMULATIONS)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            return None
    low, high = np.quantile(paths * scale, [(1 - band) / 2, (1 + band) / 2], axis=1)
    if not (np.isfinite(central).all() and np.isfinite(low).all() and np.isfinite(high).all()):
        return None
    return central, high - central, central - low


def _seasonal_naive(values: np.ndarray, horizon: int, z: float) -> tuple[np.ndarray, ...]:
    """Last year's month times the year-over-year ratio, compounded for each further year.

    The ratio compares the latest months (up to twelve) with the same months a year earlier. The
    band: the spread of the residuals of this very method over the months that have a year before
    them (at least ``NOISE_FLOOR`` of the last year's level), growing with √h.
    """
    months = len(values)
    overlap = min(months - SEASON, SEASON)
    ratio = 1.0
    if overlap:
        year_before = float(values[-overlap - SEASON : -SEASON].sum())
        if year_before > 0:
            lowest, highest = GROWTH_RATIO_BOUNDS
            ratio = min(max(float(values[-overlap:].sum()) / year_before, lowest), highest)
    extended = list(values)
    for _ in range(horizon):
        extended.append(extended[-SEASON] * ratio)
    central = np.array(extended[months:])

    residuals = values[SEASON:] - ratio * values[:-SEASON]
    spread = math.sqrt(float(np.sum(residuals**2)) / (len(residuals) - 1)) if len(residuals) > 1 else 0.0
    sigma = max(spread, NOISE_FLOOR * float(np.mean(np.abs(values[-SEASON:]))))
    half = z * sigma * np.sqrt(np.arange(1, horizon + 1))
    return central, half, half


def _damped_trend(values: np.ndarray, horizon: int, z: float) -> tuple[np.ndarray, ...]:
    """The least-squares line through the last ``RECENT_MONTHS`` months, continued with a damped slope.

    The line's value at the last month is the level (the mean of the recent months moved along the
    slope); the band is the line's residual spread (at least ``NOISE_FLOOR`` of the recent level),
    growing with √h.
    """
    recent = values[-RECENT_MONTHS:]
    x = np.arange(len(recent), dtype=float)
    slope, intercept = np.polyfit(x, recent, 1)
    fitted = intercept + slope * x
    level = fitted[-1]
    steps = np.arange(1, horizon + 1)
    central = level + slope * DAMPING * (1 - DAMPING**steps) / (1 - DAMPING)

    residuals = recent - fitted
    spread = math.sqrt(float(np.sum(residuals**2)) / (len(recent) - 2))
    sigma = max(spread, NOISE_FLOOR * float(np.mean(np.abs(recent))))
    half = z * sigma * np.sqrt(steps)
    return central, half, half


def _monthly_series(history: Sequence[tuple[date, Decimal]]) -> tuple[date | None, np.ndarray]:
    """The first month and one float per month from it to the last, gaps filled with zero."""
    totals: dict[date, float] = {}
    for when, amount in history:
        month = when.replace(day=1)
        totals[month] = totals.get(month, 0.0) + float(amount)
    if not totals:
        return None, np.zeros(0)
    start, end = min(totals), max(totals)
    months = _months_between(start, end) + 1
    return start, np.array([totals.get(_add_months(start, step), 0.0) for step in range(months)])


def _money(value: float) -> Decimal:
    return money(float(value))  # a numpy float becomes a Python float; money() goes through str()


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _months_between(start: date, end: date) -> int:
    """Whole months from the month of ``start`` to the month of ``end`` (negative when end is earlier)."""
    return (end.year - start.year) * 12 + end.month - start.month


# --- Spend pacing -----------------------------------------------------------------------------------


class PacingStatus(StrEnum):
    NOT_STARTED = "not started"  # today is before the period: nothing to extrapolate yet
    UNDERSPENDING = "underspending"  # projected more than PACING_TOLERANCE below the allocation
    ON_TRACK = "on track"  # projected within PACING_TOLERANCE of the allocation
    OVERSPENDING = "overspending"  # projected more than PACING_TOLERANCE above the allocation
    FINISHED = "finished"  # the period is over: projected is what was spent


PACING_TOLERANCE = Decimal("0.10")


@dataclass(frozen=True)
class Pacing:
    """Spend of one period against its allocation, extrapolated at the run rate so far.

    ``remaining`` is what is left to spend now; ``projected_variance`` is what will be left (negative:
    over) at the end if the run rate holds.
    """

    spent: Decimal
    run_rate_per_day: Decimal
    projected: Decimal
    allocation: Decimal
    remaining: Decimal
    projected_variance: Decimal
    status: str  # a PacingStatus


def spend_pacing(*, spent: Decimal, start: date, end: date, today: date, allocation: Decimal) -> Pacing:
    """Pace ``spent`` over the period ``start``–``end`` (both days included) as of ``today``.

    Run rate = spent / days elapsed, counting ``start`` through ``today`` (or ``end`` once the
    period is over) inclusive; projected = spent + run rate × days after today up to ``end``. The
    status compares projected with the allocation (on track within ±10 %); a zero allocation is on
    track only while nothing is projected. Before the period starts nothing is extrapolated and
    after it ends projected is what was spent.
    """
    if end < start:
        raise ValueError(f"The period ends ({end}) before it starts ({start}).")
    spent, allocation = money(spent), money(allocation)
    zero = money(0)
    if today < start:
        run_rate, projected, status = zero, spent, PacingStatus.NOT_STARTED
    else:
        elapsed = (min(today, end) - start).days + 1
        rate = spent / elapsed  # unrounded: rounding the rate first would skew the projection
        run_rate = money(rate)
        if today > end:
            projected, status = spent, PacingStatus.FINISHED
        else:
            projected = money(spent + rate * (end - today).days)
            status = _pacing_status(projected, allocation)
    return Pacing(
        spent=spent,
        run_rate_per_day=run_rate,
        projected=projected,
        allocation=allocation,
        remaining=allocation - spent,
        projected_variance=allocation - projected,
        status=status,
    )


def _pacing_status(projected: Decimal, allocation: Decimal) -> PacingStatus:
    # Compared as a difference against a tolerance amount, not as a ratio: no division, so a zero
    # allocation needs no special case (any projected spend above zero is then overspending).
    tolerance = abs(allocation) * PACING_TOLERANCE
    if projected > allocation + tolerance:
        return PacingStatus.OVERSPENDING
    if projected < allocation - tolerance:
        return PacingStatus.UNDERSPENDING
    return PacingStatus.ON_TRACK
