"""The model's transforms: carry-over (adstock), saturation (Hill) and the baseline's calendar
columns (intercept, trend, yearly Fourier terms)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from scipy.signal import lfilter

from metrics.scenarios.mmm.common import FOURIER_ORDER, YEAR_DAYS


def geometric_adstock(
    x: np.ndarray,
    decay: float,
    max_lag: int | None = None,
    *,
    normalise: bool = True,
    prior_spend: float = 0.0,
) -> np.ndarray:
    """Carry-over: y_t = x_t + decay·y_{t-1}, i.e. y_t = Σ_j decay^j·x_{t-j}.

    ``normalise`` (the default, and what the model uses) scales the weights to sum to one —
    y_t = (1 − decay)·x_t + decay·y_{t-1} — so a steady spend adstocks to itself. ``max_lag`` keeps
    only lags 0…max_lag (weights decay^j, normalised over those lags). ``prior_spend`` is the weekly
    spend assumed in every week before the first (0: the series starts from nothing).
    """
    x = np.asarray(x, dtype=float)
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), not {decay}")
    if max_lag is not None:
        if max_lag < 0:
            raise ValueError(f"max_lag must be 0 or more, not {max_lag}")
        weights = decay ** np.arange(max_lag + 1)
        if normalise:
            weights = weights / weights.sum()
        padded = np.concatenate([np.full(max_lag, float(prior_spend)), x])
        return np.convolve(padded, weights)[max_lag : max_lag + len(x)]
    gain = 1.0 - decay if normalise else 1.0
    before = prior_spend if normalise else prior_spend / (1.0 - decay)  # steady state of the prior spend
    return lfilter([gain], [1.0, -decay], x, zi=[decay * before])[0]


def hill(x: np.ndarray, half_saturation: float, shape: float) -> np.ndarray:
    """Saturation x^s / (x^s + K^s): 0 at 0, ½ at K, → 1 as x grows; S-shaped when s > 1."""
    if half_saturation <= 0 or shape <= 0:
        raise ValueError("half_saturation and shape must be positive")
    x = np.asarray(x, dtype=float)
    if (x < 0).any():
        raise ValueError("hill is defined for x ≥ 0")
    return _hill(x / half_saturation, shape)


def _hill(r, s):
    """Hill of the ratio r = x/K (broadcasts)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rs = np.power(r, s)
        return np.where(np.isinf(rs), 1.0, rs / (1.0 + rs))


def _hill_slope(r, k, s):
    """d hill(x; k, s) / dx at x = r·k (broadcasts). Infinite at 0 when s < 1."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rs = np.power(r, s)
        slope = (s / k) * np.power(r, s - 1.0) / (1.0 + rs) ** 2
        return np.where(np.isinf(rs), 0.0, slope)


def _baseline_matrix(dates: Sequence[date], first: date, seasonality: bool) -> np.ndarray:
    """Columns: intercept, years since ``first``, then sin/cos of the first Fourier harmonics of the year."""
    ordinal = np.array([d.toordinal() for d in dates], dtype=float)
    columns = [np.ones_like(ordinal), (ordinal - first.toordinal()) / YEAR_DAYS]
    if seasonality:
        angle = 2 * np.pi * ordinal / YEAR_DAYS
        for order in range(1, FOURIER_ORDER + 1):
            columns += [np.sin(order * angle), np.cos(order * angle)]
    return np.column_stack(columns)
