"""What every part of the model shares: constants, errors, the band of a bootstrap estimate and
the rounding of amounts to cents."""

from __future__ import annotations

from collections.abc import Hashable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

import numpy as np

ChannelKey = Hashable

# Same precision and rule as mops.money (kept local so this module imports without Django settings;
# tests/metrics/scenarios/test_mmm.py checks they agree).
CENT = Decimal("0.01")

MINIMUM_WEEKS = 52  # less than a year cannot separate channels from the season: refused
SEASONAL_WEEKS = 104  # two full years before yearly seasonality is estimated
YEAR_DAYS = 365.25
FOURIER_ORDER = 3  # sin/cos pairs of the year; 3 beat 2 on held-out weeks of the Robyn and Meridian data
CURRENT_WEEKS = 13  # "current spend" is the mean of the last quarter
MIN_ACTIVE_WEEKS = 8  # a channel needs spend in this many fitted weeks to learn a curve from
# Refuse when the fitted weeks are fewer than this many per parameter, warn below the second figure.
WEEKS_PER_PARAMETER_REFUSE = 2.0
WEEKS_PER_PARAMETER_WARN = 2.5

DECAY_BOUNDS = (0.0, 0.9)
HALF_SATURATION_BOUNDS = (0.5, 3.0)  # × the channel's typical weekly spend
SHAPE_BOUNDS = (0.5, 3.0)
# Fixed starting points (decay, half-saturation in typical spends, shape); one seeded random start is added.
STARTS = ((0.3, 1.0, 1.0), (0.6, 1.5, 2.0), (0.1, 0.7, 1.5))
RANDOM_STARTS = 1
FIT_ITERATIONS = 100
BOOTSTRAP_ITERATIONS = 5  # warm-started refits converge in a handful of steps; this caps the slow ones
BLOCK_WEEKS = 8
# Weak penalties (in outcome standard deviations) on log(k) and s - 1.5, i.e. Gaussian priors around
# "half-saturation at typical spend" and "mildly S-shaped": the data rarely pins the shape down, and
# without them the fit drifts along flat directions to the bounds.
PENALTY_K = 0.3
PENALTY_S = 0.3
SHAPE_CENTRE = 1.5
BAND = 0.90  # bootstrap bands are the 5th to 95th percentiles
MARGINAL_RETURN_TOLERANCE = 1e-3  # relative spread allowed among free channels at the optimum
OPTIMISER_GRID = 800  # budget steps of the dynamic programme that finds the global optimum


class ModelError(ValueError):
    """The data or the request cannot support an answer; ``message`` says why in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InsufficientData(ModelError):
    """Too little history or variation to learn from."""


class InvalidData(ModelError):
    """Inputs that no model should see: NaN, negative spend, misaligned weeks."""


class InfeasiblePlan(ModelError):
    """Budget and constraints contradict each other."""


class UndefinedRate(ModelError):
    """A funnel rate the back-solve needs is zero or has no denominator."""


class Band(NamedTuple):
    """A fitted value with its bootstrap band (``low`` ≤ ``value`` ≤ ``high``); arrays or floats."""

    value: Any
    low: Any
    high: Any


NO_BAND = Band(0.0, 0.0, 0.0)


def _band(value, draws: np.ndarray) -> Band:
    """Percentile band of draws (axis 0) around a point value; the point always lies inside."""
    low, high = np.quantile(draws, [(1 - BAND) / 2, (1 + BAND) / 2], axis=0)
    if np.ndim(value) == 0:
        return Band(float(value), float(min(low, value)), float(max(high, value)))
    return Band(value, np.minimum(low, value), np.maximum(high, value))


def _cents(value) -> Decimal:
    """An amount rounded to whole cents, half away from zero (mops.money.money's rule)."""
    if isinstance(value, float | np.floating):
        value = repr(float(value))
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _name(key: ChannelKey) -> str:
    return str(key)
