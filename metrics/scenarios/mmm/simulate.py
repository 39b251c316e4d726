"""Simulated data drawn from the model itself (tests, benchmark, demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from metrics.scenarios.mmm.transforms import geometric_adstock, hill


@dataclass(frozen=True)
class Simulation:
    """A dataset drawn from the model itself, with the truth that produced it."""

    weeks: tuple[date, ...]
    spend: dict[str, np.ndarray]
    outcome: np.ndarray
    truth: dict[str, dict[str, float]]  # per channel: decay, half_saturation, shape, beta


def simulate(*, channels: int = 10, weeks: int = 156, seed: int = 0, noise: float = 0.03) -> Simulation:
    """Weekly spend for ``channels`` channels and an outcome from known parameters.

    Spend: a channel-specific level times log-normal week-to-week variation, with some channels
    running in flights (weeks off). Outcome: a baseline of 100,000 a week with 8 % a year of growth
    and a ±8 % yearly season, plus each channel's response, plus Gaussian noise of ``noise`` × the
    mean outcome.
    """
    rng = np.random.default_rng(seed)
    start = date(2022, 1, 3)
    dates = tuple(start + timedelta(weeks=j) for j in range(weeks))
    t = np.arange(weeks)
    baseline = 60_000 * (1 + 0.08 * t / 52 + 0.08 * np.sin(2 * np.pi * t / 52.18))
    outcome = baseline.copy()
    spend, truth = {}, {}
    for j in range(channels):
        key = f"channel_{j}"
        level = rng.uniform(2_000, 20_000)
        x = level * rng.lognormal(0.0, 0.45, weeks)
        if j % 3 == 2:  # flighted: off in about a third of the weeks
            x *= rng.random(weeks) > 0.35
        decay = rng.uniform(0.1, 0.7)
        half = level * rng.uniform(0.7, 1.6)
        shape = rng.uniform(1.0, 2.2)
        beta = rng.uniform(3_000, 12_000)
        outcome += beta * hill(geometric_adstock(x, decay, prior_spend=level), half, shape)
        spend[key] = np.round(x, 2)
        truth[key] = {"decay": decay, "half_saturation": half, "shape": shape, "beta": beta}
    outcome = outcome + rng.normal(0.0, noise * outcome.mean(), weeks)
    return Simulation(weeks=dates, spend=spend, outcome=np.maximum(outcome, 0.0), truth=truth)
