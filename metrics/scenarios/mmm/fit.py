"""Fitting: nonlinear least squares by a projected Levenberg–Marquardt, the held-out score against
a naive forecast, and the moving-block bootstrap (see the package docstring for the model)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from itertools import pairwise

import numpy as np
from scipy.optimize import nnls

from metrics.scenarios.mmm.common import (
    BLOCK_WEEKS,
    BOOTSTRAP_ITERATIONS,
    CURRENT_WEEKS,
    DECAY_BOUNDS,
    FIT_ITERATIONS,
    HALF_SATURATION_BOUNDS,
    MIN_ACTIVE_WEEKS,
    MINIMUM_WEEKS,
    PENALTY_K,
    PENALTY_S,
    RANDOM_STARTS,
    SEASONAL_WEEKS,
    SHAPE_BOUNDS,
    SHAPE_CENTRE,
    STARTS,
    WEEKS_PER_PARAMETER_REFUSE,
    WEEKS_PER_PARAMETER_WARN,
    ChannelKey,
    InsufficientData,
    InvalidData,
    _name,
)
from metrics.scenarios.mmm.results import FitResult, Holdout, _assemble
from metrics.scenarios.mmm.transforms import _baseline_matrix, _hill, _hill_slope


class _Problem:
    """Residuals and analytic Jacobian of the model on scaled data (spend / typical spend, outcome /
    its standard deviation). Parameters: decay, k, s, β per channel, then the baseline coefficients.

    Adstock runs as one batched FFT convolution for all channels (the same numbers as
    ``geometric_adstock``, to rounding): per-channel ``lfilter`` calls cost more in call overhead than
    the whole fit needs. The outcome ``y`` can be swapped (bootstrap draws) without recomputing the
    spend's transform.
    """

    def __init__(self, spend: np.ndarray, prior: np.ndarray, base: np.ndarray, y: np.ndarray):
        self.n, self.c = spend.shape
        self.p = base.shape[1]
        self.base, self.prior, self.y = base, prior, y
        self.length = 2 * self.n  # zero padding: linear, not circular, convolution
        self.spend_fft = np.fft.rfft(spend, self.length, axis=0)
        self.lag = np.arange(self.n, dtype=float)[:, None]
        self.lower = np.concatenate(
            [np.full(self.c, bound) for bound in (DECAY_BOUNDS[0], HALF_SATURATION_BOUNDS[0], SHAPE_BOUNDS[0], 0.0)]
            + [np.full(self.p, -np.inf)]
        )
        self.upper = np.concatenate(
            [np.full(self.c, bound) for bound in (DECAY_BOUNDS[1], HALF_SATURATION_BOUNDS[1], SHAPE_BOUNDS[1], np.inf)]
            + [np.full(self.p, np.inf)]
        )

    def split(self, theta: np.ndarray):
        c = self.c
        return theta[:c], theta[c : 2 * c], theta[2 * c : 3 * c], theta[3 * c : 4 * c], theta[4 * c :]

    def adstock(self, decay: np.ndarray, derivative: bool = False):
        """Normalised adstock of every channel (n × c), and its derivative with respect to the decay.
        Weeks before the data are assumed to have spent ``prior``."""
        power = decay**self.lag  # d^t
        kernels = [(1.0 - decay) * power]
        if derivative:
            kernels.append((1.0 - decay) * self.lag * decay ** np.maximum(self.lag - 1.0, 0.0) - power)
        spectrum = np.fft.rfft(np.concatenate(kernels, axis=1), self.length, axis=0)
        spectrum *= np.tile(self.spend_fft, (1, len(kernels)))
        convolved = np.fft.irfft(spectrum, self.length, axis=0)[: self.n]
        a = convolved[:, : self.c] + self.prior * power * decay  # the prior level's remaining carry-over
        if not derivative:
            return a
        da = convolved[:, self.c :] + self.prior * (self.lag + 1.0) * power
        return a, da

    def features(self, decay, k, s) -> np.ndarray:
        return _hill(np.maximum(self.adstock(decay), 0.0) / k, s)

    def residual(self, theta: np.ndarray) -> np.ndarray:
        """Weekly residuals, then the penalty rows that pull k and s gently towards 1 and 1.5."""
        decay, k, s, beta, gamma = self.split(theta)
        self.h = self.features(decay, k, s)
        weekly = self.base @ gamma + self.h @ beta - self.y
        return np.concatenate([weekly, PENALTY_K * np.log(k), PENALTY_S * (s - SHAPE_CENTRE)])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        decay, k, s, beta, _ = self.split(theta)
        a, da = self.adstock(decay, derivative=True)
        # Weeks before a channel's first spend adstock to zero, where log and slope need a floor.
        r = np.maximum(a, 1e-9) / k
        h = _hill(r, s)
        hh = h * (1.0 - h)
        c = self.c
        jac = np.zeros((self.n + 2 * c, 4 * c + self.p))
        jac[: self.n, :c] = beta * _hill_slope(r, k, s) * da
        jac[: self.n, c : 2 * c] = -beta * (s / k) * hh
        jac[: self.n, 2 * c : 3 * c] = beta * hh * np.log(r)
        jac[: self.n, 3 * c : 4 * c] = h
        jac[: self.n, 4 * c :] = self.base
        rows = np.arange(c)
        jac[self.n + rows, c + rows] = PENALTY_K / k
        jac[self.n + c + rows, 2 * c + rows] = PENALTY_S
        return jac

    def start(self, decay, k, s) -> np.ndarray:
        """Full parameter vector from nonlinear ones: β ≥ 0 by NNLS with the baseline projected out
        (exact for a free baseline: variable projection), then the baseline by least squares."""
        h = self.features(decay, k, s)
        q, _ = np.linalg.qr(self.base)
        h_perp = h - q @ (q.T @ h)
        y_perp = self.y - q @ (q.T @ self.y)
        beta, _ = nnls(h_perp, y_perp)
        gamma = np.linalg.lstsq(self.base, self.y - h @ beta, rcond=None)[0]
        return np.clip(np.concatenate([decay, k, s, beta, gamma]), self.lower, self.upper)

    def solve(self, theta: np.ndarray, iterations: int) -> tuple[np.ndarray, float]:
        """Projected Levenberg–Marquardt within the bounds, from ``theta``; returns (θ, ½·SSR).

        Written here rather than scipy's ``least_squares``: that one takes an SVD per step, which
        multi-threaded OpenBLAS makes ~20× slower on small matrices when the cores are busy; the
        normal equations of a 50-parameter problem cost microseconds. Variables held at a bound by
        their gradient are frozen for the step; the rest take a damped Gauss–Newton step, clipped.
        """
        lower, upper = self.lower, self.upper
        theta = np.clip(theta, lower, upper)
        residual = self.residual(theta)
        cost = 0.5 * float(residual @ residual)
        damping = 1e-3
        for _ in range(iterations):
            jac = self.jacobian(theta)
            gradient = jac.T @ residual
            free = ~(((theta <= lower) & (gradient > 0)) | ((theta >= upper) & (gradient < 0)))
            hessian = _gram(jac)[np.ix_(free, free)]
            scaling = np.maximum(np.diag(hessian), 1e-12)
            g = gradient[free]
            for _ in range(12):  # damping ×8 per rejected step: from 1e-3 to ~1e8 at most
                try:
                    step = np.linalg.solve(hessian + damping * np.diag(scaling), -g)
                except np.linalg.LinAlgError:
                    damping *= 8.0
                    continue
                # What the local quadratic model promises; below noise level there is nothing to gain.
                promised = -(g @ step + 0.5 * step @ hessian @ step)
                if promised <= 1e-10 * max(cost, 1e-12):
                    return theta, cost
                candidate = theta.copy()
                candidate[free] += step
                candidate = np.clip(candidate, lower, upper)
                new_residual = self.residual(candidate)
                new_cost = 0.5 * float(new_residual @ new_residual)
                if new_cost < cost:
                    break
                damping *= 8.0
            else:
                return theta, cost  # no descent left: a (local) minimum
            improvement = cost - new_cost
            theta, residual, cost = candidate, new_residual, new_cost
            damping = max(damping / 3.0, 1e-9)
            if improvement <= 1e-9 * max(cost, 1e-12):
                break
        return theta, cost

    def best_of(self, starts: list[np.ndarray], iterations: int) -> np.ndarray:
        best, best_cost = starts[0], math.inf
        for theta0 in starts:
            theta, cost = self.solve(theta0, iterations)
            if cost < best_cost - 1e-12:
                best, best_cost = theta, cost
        return best


def _gram(matrix: np.ndarray) -> np.ndarray:
    """Mᵀ·M summed over blocks of rows small enough for OpenBLAS to run single-threaded.

    OpenBLAS splits a matrix product over threads once rows × columns² passes 262,144; for these
    50-column products the threads cost 15–200× the arithmetic on a busy 2-core machine (measured:
    0.5–6 ms against 30 µs), and the fit does thousands of them.
    """
    rows = max(1, 262_144 // max(1, matrix.shape[1] ** 2))
    out = np.zeros((matrix.shape[1], matrix.shape[1]))
    for start in range(0, len(matrix), rows):
        block = matrix[start : start + rows]
        out += block.T @ block
    return out


def _starts(problem: _Problem, rng: np.random.Generator) -> list[np.ndarray]:
    c = problem.c
    nonlinear = [tuple(np.full(c, v) for v in start) for start in STARTS]
    for _ in range(RANDOM_STARTS):
        nonlinear.append(
            (
                rng.uniform(*DECAY_BOUNDS, c),
                rng.uniform(*HALF_SATURATION_BOUNDS, c),
                rng.uniform(*SHAPE_BOUNDS, c),
            )
        )
    return [problem.start(*start) for start in nonlinear]


def _check_weeks(weeks: Sequence[date]) -> list[date]:
    dates = list(weeks)
    for previous, current in pairwise(dates):
        if current - previous != timedelta(days=7):
            raise InvalidData(
                f"Weeks must follow each other 7 days apart; {previous:%Y-%m-%d} is followed by {current:%Y-%m-%d}. "
                "Fill weeks without data with zeros."
            )
    return dates


def fit(
    weeks: Sequence[date],
    spend: Mapping[ChannelKey, np.ndarray],
    outcome: np.ndarray,
    *,
    holdout_weeks: int = 13,
    bootstrap: int = 200,
    seed: int = 0,
    controls: Mapping[str, np.ndarray] | None = None,
) -> FitResult:
    """Fit the model to weekly spend per channel and a weekly outcome (see the module docstring).

    ``weeks`` are consecutive week starts; ``spend`` maps each channel to its weekly spend and
    ``outcome`` is the weekly outcome (pipeline, revenue, MQLs…), all the same length.
    ``controls`` are optional non-media drivers of the outcome (promotions, competitor activity,
    holiday flags), weekly, entering the baseline linearly; for planning ahead each is assumed to stay
    at its mean of the last 13 weeks. Channels
    whose spend does not vary, or that spent in fewer than 8 of the fitted weeks, are left out with
    a warning naming them. Raises ``InvalidData`` (NaN, negative values, misaligned inputs) or
    ``InsufficientData`` (under 52 weeks, too many channels for the history, no usable channel,
    an outcome that never varies). The same inputs and seed give the same result.
    """
    dates = _check_weeks(weeks)
    n = len(dates)
    y = np.asarray(outcome, dtype=float).ravel()
    if len(y) != n:
        raise InvalidData(f"The outcome has {len(y)} weeks but there are {n} week dates.")
    if not np.isfinite(y).all():
        raise InvalidData(f"The outcome is missing (NaN) or infinite in {int((~np.isfinite(y)).sum())} week(s).")
    if (y < 0).any():
        raise InvalidData("The outcome is negative in some weeks; outcomes are counts or amounts, never negative.")
    if n < MINIMUM_WEEKS:
        raise InsufficientData(
            f"Only {n} weeks of history: a response model needs at least {MINIMUM_WEEKS} weeks (a year) to tell "
            "the channels' effect from the season."
        )
    if not 0 <= holdout_weeks <= n - MINIMUM_WEEKS // 2 or bootstrap < 0:
        raise ValueError(f"holdout_weeks must be between 0 and {n - MINIMUM_WEEKS // 2}; bootstrap must be ≥ 0")
    if not y.any():
        raise InsufficientData("The outcome is zero in every week: there is nothing for spend to explain.")
    if np.ptp(y) == 0:
        raise InsufficientData("The outcome is the same every week: there is no variation for spend to explain.")

    warnings: list[str] = []
    train = n - holdout_weeks
    keys, columns, excluded = [], [], []
    for key, values in spend.items():
        x = np.asarray(values, dtype=float).ravel()
        if len(x) != n:
            raise InvalidData(f"Spend for {_name(key)} has {len(x)} weeks but there are {n} week dates.")
        if not np.isfinite(x).all():
            raise InvalidData(f"Spend for {_name(key)} is missing (NaN) or infinite in some weeks.")
        if (x < 0).any():
            raise InvalidData(f"Spend for {_name(key)} is negative in some weeks.")
        active = int((x[:train] > 0).sum())
        if not x.any():
            reason = "it has no spend at all"
        elif not x[:train].any():
            reason = f"it has no spend before the last {holdout_weeks} weeks, which are held out to test the model"
        elif np.ptp(x[:train]) == 0:
            reason = "its spend never changes, so its effect cannot be told from the baseline"
        elif active < MIN_ACTIVE_WEEKS:
            reason = f"it spent in only {active} of the {train} fitted weeks (at least {MIN_ACTIVE_WEEKS} are needed)"
        else:
            keys.append(key)
            columns.append(x)
            continue
        excluded.append(key)
        warnings.append(f"{_name(key)} is left out of the model: {reason}.")
    if not keys:
        raise InsufficientData(
            "No channel has spend that varies over enough weeks to learn a response curve from."
            + (" " + " ".join(warnings) if warnings else "")
        )

    seasonality = n >= SEASONAL_WEEKS
    if not seasonality:
        warnings.append(
            f"Only {n} weeks of history: the model leaves out yearly seasonality (it needs {SEASONAL_WEEKS} weeks), "
            "so a seasonal swing may be credited to channels that spend more in the high season."
        )
    calendar = _baseline_matrix(dates, dates[0], seasonality)
    control_names, control_columns = [], []
    for name, values in (controls or {}).items():
        z = np.asarray(values, dtype=float).ravel()
        if len(z) != n:
            raise InvalidData(f"The control {name} has {len(z)} weeks but there are {n} week dates.")
        if not np.isfinite(z).all():
            raise InvalidData(f"The control {name} is missing (NaN) or infinite in some weeks.")
        if np.ptp(z[:train]) == 0:
            warnings.append(f"The control {name} is left out: it does not change over the fitted weeks.")
            continue
        control_names.append(name)
        control_columns.append((z - z[:train].mean()) / z[:train].std())
    control_matrix = np.column_stack(control_columns) if control_columns else np.empty((n, 0))
    base = np.column_stack([calendar, control_matrix])
    parameters = 4 * len(keys) + base.shape[1]
    if train < WEEKS_PER_PARAMETER_REFUSE * parameters:
        raise InsufficientData(
            f"{train} fitted weeks cannot support {len(keys)} channels ({parameters} parameters): fit fewer "
            f"channels (group small ones) or wait for {math.ceil(WEEKS_PER_PARAMETER_REFUSE * parameters)} weeks."
        )
    if train < WEEKS_PER_PARAMETER_WARN * parameters:
        warnings.append(
            f"{train} fitted weeks for {parameters} parameters is thin: the curves will be uncertain. "
            "Grouping small channels would help."
        )
    if len(keys) == 1:
        warnings.append(
            f"Only one channel ({_name(keys[0])}) can be modelled: there is nothing to compare it with, and the "
            "optimiser can only put the whole budget on it."
        )

    spend_matrix = np.column_stack(columns)
    scale = np.array([x[x > 0].mean() for x in columns])  # typical weekly spend of a channel when it spends
    x_scaled = spend_matrix / scale
    prior = x_scaled[:CURRENT_WEEKS].mean(axis=0)  # spend before the data: the first quarter's level
    y_scale = float(y.std()) or 1.0
    y_scaled = y / y_scale
    rng = np.random.default_rng(seed)
    c = len(keys)

    # 1. Fit on all but the held-out weeks, score those weeks.
    holdout = None
    if holdout_weeks:
        problem = _Problem(x_scaled[:train], prior, base[:train], y_scaled[:train])
        theta_train = problem.best_of(_starts(problem, rng), FIT_ITERATIONS)
        full = _Problem(x_scaled, prior, base, y_scaled)
        predicted = (full.residual(theta_train)[:n] + y_scaled) * y_scale
        holdout = _score_holdout(y, predicted, train)
        if not holdout.beats_baseline:
            warnings.append(
                f"On the last {holdout_weeks} weeks, which the model did not see, it predicted worse than the naive "
                f"forecast ({holdout.baseline_method}): RMSE {holdout.rmse:,.0f} against {holdout.baseline_rmse:,.0f}. "
                "Treat its curves as unproven."
            )
        starts = [theta_train, full.start(*(np.full(c, v) for v in STARTS[0]))]
    else:
        full = _Problem(x_scaled, prior, base, y_scaled)
        starts = _starts(full, rng)
        warnings.append("No weeks were held out, so the model's accuracy on unseen weeks is unknown.")

    # 2. Refit on every week: this is the model that plans.
    theta = full.best_of(starts, FIT_ITERATIONS)
    residual = full.residual(theta)[:n].copy()
    h = full.h.copy()
    r_squared = 1.0 - float(residual @ residual) / float(((y_scaled - y_scaled.mean()) ** 2).sum())

    # 3. Moving-block bootstrap of the residuals, each draw refitted from the point estimate.
    draws = np.empty((bootstrap, theta.size))
    fitted = y_scaled + residual
    centred = residual - residual.mean()
    block = min(BLOCK_WEEKS, n)
    for b in range(bootstrap):
        starts_at = rng.integers(0, n - block + 1, size=math.ceil(n / block))
        resampled = np.concatenate([centred[i : i + block] for i in starts_at])[:n]
        full.y = fitted + resampled
        draws[b], _ = full.solve(theta, BOOTSTRAP_ITERATIONS)

    return _assemble(
        keys=keys,
        excluded=excluded,
        dates=dates,
        seasonality=seasonality,
        spend_matrix=spend_matrix,
        scale=scale,
        y=y,
        y_scale=y_scale,
        theta=theta,
        draws=draws,
        h=h,
        r_squared=r_squared,
        holdout=holdout,
        bootstrap=bootstrap,
        seed=seed,
        warnings=warnings,
        c=c,
        controls=tuple(control_names),
        controls_ahead=control_matrix[-CURRENT_WEEKS:].mean(axis=0),
    )


def _score_holdout(y: np.ndarray, predicted: np.ndarray, train: int) -> Holdout:
    actual = y[train:]
    held = len(actual)
    naive = {"mean of the last 13 fitted weeks": np.full(held, y[max(0, train - CURRENT_WEEKS) : train].mean())}
    if train >= 52 and held <= 52:
        naive["same week last year"] = y[train - 52 : train - 52 + held]
    scored = {name: _rmse(actual, forecast) for name, forecast in naive.items()}
    method = min(scored, key=scored.get)
    rmse = _rmse(actual, predicted[train:])
    return Holdout(
        weeks=held,
        rmse=rmse,
        mape=_mape(actual, predicted[train:]),
        baseline_method=method,
        baseline_rmse=scored[method],
        baseline_mape=_mape(actual, naive[method]),
        beats_baseline=rmse < scored[method],
    )


def _rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def _mape(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    nonzero = actual != 0
    if not nonzero.any():
        return None
    return float(np.mean(np.abs((actual[nonzero] - forecast[nonzero]) / actual[nonzero])))
