"""Fitted results: each channel's curve with its bootstrap draws, the held-out score, the whole
fit with its JSON round trip, and how scaled parameters become them (``_assemble``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from metrics.scenarios.mmm.common import (
    CURRENT_WEEKS,
    DECAY_BOUNDS,
    HALF_SATURATION_BOUNDS,
    NO_BAND,
    Band,
    ChannelKey,
    _band,
    _cents,
    _name,
)
from metrics.scenarios.mmm.transforms import _baseline_matrix, _hill, _hill_slope


@dataclass(frozen=True)
class ChannelFit:
    """One channel's fitted response: parameters in spend and outcome units, its place on the curve,
    and the bootstrap draws behind every band.

    ``beta`` is the weekly outcome at full saturation; ``half_saturation`` the steady weekly spend
    that reaches half of it. ``marginal_return`` is d outcome / d spend at ``current_weekly_spend``
    (outcome per currency unit), ``contribution_share`` the channel's share of the outcome over the
    fitted weeks. ``rank`` orders channels by marginal return (1 = best); ``rank_stability`` is the
    share of bootstrap draws in which the channel keeps that rank.
    """

    key: ChannelKey
    decay: float
    half_saturation: float
    shape: float
    beta: float
    current_weekly_spend: Decimal = Decimal(0)
    max_weekly_spend: Decimal = Decimal(0)  # beyond it the curve is an extrapolation
    marginal_return: Band = NO_BAND
    contribution: float = 0.0
    contribution_share: float = 0.0
    rank: int = 0
    rank_stability: float = 1.0
    # Bootstrap draws, one row each: decay, half_saturation, shape, beta. Empty without bootstrap.
    draws: np.ndarray = field(default_factory=lambda: np.empty((0, 4)), repr=False, compare=False)

    def response(self, weekly_spend) -> np.ndarray:
        """Weekly outcome from a steady weekly spend, point estimate."""
        s = np.asarray(weekly_spend, dtype=float)
        return self.beta * _hill(s / self.half_saturation, self.shape)

    def slope(self, weekly_spend) -> np.ndarray:
        """Marginal return d outcome / d spend at a steady weekly spend, point estimate."""
        s = np.asarray(weekly_spend, dtype=float)
        k = self.half_saturation
        return self.beta * _hill_slope(s / k, k, self.shape)

    def curve(self, spend_levels) -> Band:
        """Weekly outcome contribution against steady weekly spend, with its band (arrays)."""
        s = np.asarray([float(v) for v in np.atleast_1d(spend_levels)], dtype=float)
        value = self.response(s)
        if not len(self.draws):
            return Band(value, value.copy(), value.copy())
        _, k, shape, beta = (self.draws[:, i : i + 1] for i in range(4))
        return _band(value, beta * _hill(s[None, :] / k, shape))

    def marginal_curve(self, spend_levels) -> Band:
        """Marginal return against steady weekly spend, with its band (arrays)."""
        s = np.asarray([float(v) for v in np.atleast_1d(spend_levels)], dtype=float)
        value = self.slope(s)
        if not len(self.draws):
            return Band(value, value.copy(), value.copy())
        _, k, shape, beta = (self.draws[:, i : i + 1] for i in range(4))
        return _band(value, beta * _hill_slope(s[None, :] / k, k, shape))


@dataclass(frozen=True)
class Holdout:
    """How the model did on the last weeks it did not see, against a naive forecast of them.

    Errors are RMSE (outcome units) and MAPE (a fraction, over weeks with a non-zero outcome; None
    if there are none). The naive forecast is the better (lower RMSE) of "same week last year" and
    "the mean of the last 13 fitted weeks" — chosen with hindsight, so a strict bar. The model is
    given the actual spend of the held-out weeks; the naive forecasts use no spend.
    """

    weeks: int
    rmse: float
    mape: float | None
    baseline_method: str
    baseline_rmse: float
    baseline_mape: float | None
    beats_baseline: bool  # lower RMSE than the naive forecast


@dataclass(frozen=True)
class FitResult:
    """A fitted marketing-mix model: per-channel curves, fit quality and what to be careful about.

    ``ranking`` lists channels by marginal return at current spend, best first;
    ``ranking_stability`` is the share of bootstrap draws with exactly that order,
    ``top_channel_stability`` the share in which the same channel comes first.
    """

    channels: tuple[ChannelFit, ...]
    excluded: tuple[ChannelKey, ...] = ()
    weeks: int = 0
    first_week: date = date(2000, 1, 3)
    last_week: date = date(2000, 1, 3)
    seasonality: bool = False
    r_squared: float = 0.0
    holdout: Holdout | None = None
    ranking: tuple[ChannelKey, ...] = ()
    ranking_stability: float = 1.0
    top_channel_stability: float = 1.0
    bootstrap: int = 0
    seed: int = 0
    warnings: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()
    # Baseline coefficients (intercept, trend per year, Fourier terms, then one per standardised
    # control) in outcome units, and per draw.
    baseline_coefficients: np.ndarray = field(default_factory=lambda: np.zeros(2), repr=False, compare=False)
    baseline_draws: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False, compare=False)
    # Standardised level of each control assumed for weeks after the data: its mean over the last 13 weeks.
    controls_ahead: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)

    @property
    def beats_baseline(self) -> bool | None:
        return None if self.holdout is None else self.holdout.beats_baseline

    def channel(self, key: ChannelKey) -> ChannelFit:
        for channel in self.channels:
            if channel.key == key:
                return channel
        raise KeyError(key)

    def baseline_ahead(self, weeks: int) -> Band:
        """The outcome without media over the ``weeks`` weeks after the last fitted week (floats)."""
        design = self._ahead_design(weeks)
        value = float(design @ self.baseline_coefficients)
        if not len(self.baseline_draws):
            return Band(value, value, value)
        return _band(value, self.baseline_draws @ design)

    def _ahead_design(self, weeks: int) -> np.ndarray:
        """The baseline's columns summed over the ``weeks`` weeks after the data."""
        dates = [self.last_week + timedelta(weeks=j) for j in range(1, weeks + 1)]
        calendar = _baseline_matrix(dates, self.first_week, self.seasonality).sum(axis=0)
        return np.concatenate([calendar, weeks * self.controls_ahead])

    def to_dict(self) -> dict:
        """Plain JSON (floats, strings, lists) — what the Django side stores."""
        return {
            "channels": [
                {
                    "key": c.key,
                    "decay": c.decay,
                    "half_saturation": c.half_saturation,
                    "shape": c.shape,
                    "beta": c.beta,
                    "current_weekly_spend": str(c.current_weekly_spend),
                    "max_weekly_spend": str(c.max_weekly_spend),
                    "marginal_return": list(map(float, c.marginal_return)),
                    "contribution": c.contribution,
                    "contribution_share": c.contribution_share,
                    "rank": c.rank,
                    "rank_stability": c.rank_stability,
                    "draws": c.draws.tolist(),
                }
                for c in self.channels
            ],
            "excluded": list(self.excluded),
            "weeks": self.weeks,
            "first_week": self.first_week.isoformat(),
            "last_week": self.last_week.isoformat(),
            "seasonality": self.seasonality,
            "r_squared": self.r_squared,
            "holdout": None if self.holdout is None else vars(self.holdout).copy(),
            "ranking": list(self.ranking),
            "ranking_stability": self.ranking_stability,
            "top_channel_stability": self.top_channel_stability,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "warnings": list(self.warnings),
            "baseline_coefficients": self.baseline_coefficients.tolist(),
            "baseline_draws": self.baseline_draws.tolist(),
            "controls": list(self.controls),
            "controls_ahead": self.controls_ahead.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> FitResult:
        """The inverse of ``to_dict``."""
        p = len(data["baseline_coefficients"])
        channels = tuple(
            ChannelFit(
                key=c["key"],
                decay=c["decay"],
                half_saturation=c["half_saturation"],
                shape=c["shape"],
                beta=c["beta"],
                current_weekly_spend=Decimal(c["current_weekly_spend"]),
                max_weekly_spend=Decimal(c["max_weekly_spend"]),
                marginal_return=Band(*c["marginal_return"]),
                contribution=c["contribution"],
                contribution_share=c["contribution_share"],
                rank=c["rank"],
                rank_stability=c["rank_stability"],
                draws=np.asarray(c["draws"], dtype=float).reshape(-1, 4),
            )
            for c in data["channels"]
        )
        return cls(
            channels=channels,
            excluded=tuple(data["excluded"]),
            weeks=data["weeks"],
            first_week=date.fromisoformat(data["first_week"]),
            last_week=date.fromisoformat(data["last_week"]),
            seasonality=data["seasonality"],
            r_squared=data["r_squared"],
            holdout=None if data["holdout"] is None else Holdout(**data["holdout"]),
            ranking=tuple(data["ranking"]),
            ranking_stability=data["ranking_stability"],
            top_channel_stability=data["top_channel_stability"],
            bootstrap=data["bootstrap"],
            seed=data["seed"],
            warnings=tuple(data["warnings"]),
            baseline_coefficients=np.asarray(data["baseline_coefficients"], dtype=float),
            baseline_draws=np.asarray(data["baseline_draws"], dtype=float).reshape(-1, p),
            controls=tuple(data.get("controls", ())),
            controls_ahead=np.asarray(data.get("controls_ahead", ()), dtype=float),
        )


def _assemble(*, keys, excluded, dates, seasonality, spend_matrix, scale, y, y_scale, theta, draws, h, **rest):
    """Turn scaled parameters into a FitResult in spend and outcome units, with ranks and warnings."""
    c = rest["c"]
    warnings = rest["warnings"]

    def unscale(t: np.ndarray) -> np.ndarray:
        """(…, 4c+p) scaled → (…, c, 4) of decay, half-saturation, shape, β in natural units."""
        decay, k, s, beta = (t[..., i * c : (i + 1) * c] for i in range(4))
        return np.stack([decay, k * scale, s, beta * y_scale], axis=-1)

    point = unscale(theta)
    channel_draws = unscale(draws)  # (B, c, 4)
    gamma = theta[4 * c :] * y_scale
    gamma_draws = draws[:, 4 * c :] * y_scale

    current = spend_matrix[-CURRENT_WEEKS:].mean(axis=0)
    # Marginal return at current spend; a channel idle in the last quarter is measured over its first
    # 1 % of a typical week (the exact slope at zero is infinite when the curve is concave there).
    at = np.where(current > 0, current, 0.01 * scale)

    def marginal(params: np.ndarray) -> np.ndarray:  # params (…, c, 4)
        k, s, beta = params[..., 1], params[..., 2], params[..., 3]
        exact = beta * _hill_slope(at / k, k, s)
        step = beta * _hill(at / k, s) / at
        return np.where(current > 0, exact, step)

    mr_point = marginal(point)
    mr_draws = marginal(channel_draws) if len(draws) else np.empty((0, c))
    order = np.argsort(-mr_point, kind="stable")
    rank = np.empty(c, dtype=int)
    rank[order] = np.arange(1, c + 1)
    if len(draws):
        draw_rank = np.empty_like(mr_draws, dtype=int)
        draw_order = np.argsort(-mr_draws, axis=1, kind="stable")
        np.put_along_axis(draw_rank, draw_order, np.arange(1, c + 1)[None, :].repeat(len(draws), 0), axis=1)
        keeps = draw_rank == rank[None, :]
        per_channel = keeps.mean(axis=0)
        ranking_stability = float(keeps.all(axis=1).mean())
        top_stability = float((draw_order[:, 0] == order[0]).mean())
    else:
        per_channel = np.ones(c)
        ranking_stability = top_stability = 1.0

    contributions = (h * theta[3 * c : 4 * c] * y_scale).sum(axis=0)
    total = float(y.sum())
    channels = []
    for j, key in enumerate(keys):
        decay, k, s, beta = (float(v) for v in point[j])
        mr = (
            _band(float(mr_point[j]), mr_draws[:, j])
            if len(draws)
            else Band(float(mr_point[j]), float(mr_point[j]), float(mr_point[j]))
        )
        channels.append(
            ChannelFit(
                key=key,
                decay=decay,
                half_saturation=k,
                shape=s,
                beta=beta,
                current_weekly_spend=_cents(current[j]),
                max_weekly_spend=_cents(spend_matrix[:, j].max()),
                marginal_return=mr,
                contribution=float(contributions[j]),
                contribution_share=float(contributions[j]) / total,
                rank=int(rank[j]),
                rank_stability=float(per_channel[j]),
                draws=channel_draws[:, j, :].copy(),
            )
        )
        name = _name(key)
        if beta <= 1e-9 * y_scale:
            warnings.append(f"{name} shows no measurable effect on the outcome in this history.")
        elif k >= HALF_SATURATION_BOUNDS[1] * scale[j] * 0.999:
            warnings.append(
                f"{name}'s spend never came near saturation in this history: its curve above "
                f"{_cents(spend_matrix[:, j].max()):,} a week is an extrapolation."
            )
        if current[j] == 0:
            warnings.append(f"{name} had no spend in the last {CURRENT_WEEKS} weeks; its marginal return is at zero.")
        if decay >= DECAY_BOUNDS[1] * 0.999:
            warnings.append(f"{name}'s carry-over is at the model's limit (decay {DECAY_BOUNDS[1]}): it may be longer.")
    if c > 1 and len(draws) and top_stability < 0.5:
        warnings.append(
            "Which channel has the best marginal return changes in most bootstrap draws: "
            "the data cannot say where the next dollar should go with confidence."
        )

    return FitResult(
        channels=tuple(channels),
        excluded=tuple(excluded),
        weeks=len(dates),
        first_week=dates[0],
        last_week=dates[-1],
        seasonality=seasonality,
        r_squared=rest["r_squared"],
        holdout=rest["holdout"],
        ranking=tuple(keys[i] for i in order),
        ranking_stability=ranking_stability,
        top_channel_stability=top_stability,
        bootstrap=rest["bootstrap"],
        seed=rest["seed"],
        warnings=tuple(warnings),
        baseline_coefficients=gamma,
        baseline_draws=gamma_draws,
        controls=rest["controls"],
        controls_ahead=rest["controls_ahead"],
    )
