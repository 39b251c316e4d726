"""Allocation: the optimiser (a dynamic programme on a budget grid, then exact equalisation of
marginal returns, rounded to cents) and the evaluation of a given plan."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from metrics.scenarios.mmm.common import (
    CENT,
    MARGINAL_RETURN_TOLERANCE,
    OPTIMISER_GRID,
    Band,
    ChannelKey,
    InfeasiblePlan,
    _band,
    _cents,
    _name,
)
from metrics.scenarios.mmm.results import ChannelFit, FitResult
from metrics.scenarios.mmm.transforms import _hill, _hill_slope


@dataclass(frozen=True)
class AllocationLine:
    """One channel of a plan over ``Allocation.weeks`` weeks: amounts in currency (Decimal, cents),
    predicted outcome contributions with bands (floats), and the marginal return at the proposed
    amount. ``constraint`` says what holds the channel where it is: "locked", "minimum" or
    "maximum" (the amount sits on that bound), or "free" (only the trade-off with other channels)."""

    key: ChannelKey
    current: Decimal
    proposed: Decimal
    change: Decimal
    current_outcome: Band
    proposed_outcome: Band
    marginal_return: float  # outcome per extra currency unit at the proposed amount
    constraint: str


@dataclass(frozen=True)
class Allocation:
    """A split of a budget over the modelled channels for ``weeks`` weeks, beside the current plan.

    Outcomes are over the whole period: ``baseline`` is what the model expects without media,
    ``current_outcome`` and ``proposed_outcome`` add the channels' contributions, and ``uplift`` is
    the difference draw by draw (so its band is narrower than the gap between the two bands).
    At an optimum the marginal returns of the "free" channels are equal (the Lagrange condition):
    ``equalised_marginal_return`` is their mean, ``marginal_return_gap`` their relative spread
    (max − min) / max, and ``marginal_returns_equal`` says whether it is within 0.1 %. For a plan
    that was not optimised the same figures show how far it is from that condition.
    """

    weeks: int
    lines: tuple[AllocationLine, ...]
    current_total: Decimal
    proposed_total: Decimal
    baseline: Band
    current_outcome: Band
    proposed_outcome: Band
    uplift: Band
    equalised_marginal_return: float | None
    marginal_return_gap: float | None
    marginal_returns_equal: bool
    optimised: bool
    warnings: tuple[str, ...] = ()

    def line(self, key: ChannelKey) -> AllocationLine:
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(key)


def optimise(
    result: FitResult,
    total_budget: Decimal,
    *,
    minimum: Mapping[ChannelKey, Decimal] | None = None,
    maximum: Mapping[ChannelKey, Decimal] | None = None,
    locked: Mapping[ChannelKey, Decimal] | None = None,
    weeks: int = 13,
    plan: Mapping[ChannelKey, Decimal] | None = None,
) -> Allocation:
    """Split ``total_budget`` (spent over ``weeks`` weeks) across the modelled channels to maximise
    the predicted outcome, within per-channel ``minimum``/``maximum`` amounts for the period and
    with ``locked`` channels held at their amount. Amounts are Decimals in whole cents; the result
    adds up to the budget exactly. ``plan`` is the current plan to compare with (default: each
    channel's current weekly spend × ``weeks``).

    Each channel's period outcome is ``weeks`` × its steady-state weekly curve. Hill curves with
    shape > 1 are S-shaped, so the split is found in two steps: a dynamic programme over an
    800-step budget grid (globally optimal on the grid, whatever the curves' shape), then an exact
    equalisation of marginal returns (bisection on the Lagrange multiplier) among the channels the
    programme funded past their curve's inflection point; the better of the two is kept and rounded
    to cents (the left-over cents go, one each, to the largest fractions). Raises ``InfeasiblePlan``
    when the constraints cannot add up to the budget.
    """
    channels = result.channels
    keys = [c.key for c in channels]
    total = _whole_cents(total_budget, "The budget")
    minimum, maximum, locked = dict(minimum or {}), dict(maximum or {}), dict(locked or {})
    _known(keys, {**minimum, **maximum, **locked}, "a constraint")
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    lo, hi, is_locked = [], [], []
    for key in keys:
        if key in locked:
            amount = _whole_cents(locked[key], f"The locked amount for {_name(key)}")
            if (key in minimum and amount < _whole_cents(minimum[key], "")) or (
                key in maximum and amount > _whole_cents(maximum[key], "")
            ):
                raise InfeasiblePlan(f"{_name(key)} is locked at {amount / 100:,.2f}, outside its minimum/maximum.")
            lo.append(amount)
            hi.append(amount)
            is_locked.append(True)
            continue
        low = _whole_cents(minimum.get(key, Decimal(0)), f"The minimum for {_name(key)}")
        high = _whole_cents(maximum[key], f"The maximum for {_name(key)}") if key in maximum else total
        if low > high:
            raise InfeasiblePlan(
                f"The minimum for {_name(key)} ({low / 100:,.2f}) is above its maximum ({high / 100:,.2f})."
            )
        lo.append(low)
        hi.append(min(high, total))
        is_locked.append(False)
    if sum(lo) > total:
        raise InfeasiblePlan(
            f"The minimums and locked amounts add up to {sum(lo) / 100:,.2f}, "
            f"more than the budget of {total / 100:,.2f}."
        )
    if sum(hi) < total:
        raise InfeasiblePlan(
            f"The maximums and locked amounts add up to {sum(hi) / 100:,.2f}, less than the budget of "
            f"{total / 100:,.2f}: raise a maximum or lower the budget."
        )

    curves = _Curves(channels, weeks)
    lo_a, hi_a = np.array(lo, dtype=float), np.array(hi, dtype=float)
    amounts = _grid_optimum(curves, total, lo_a, hi_a)
    refined = _equalise(curves, total, lo_a, hi_a, amounts, np.array(is_locked))
    if refined is not None and curves.total(refined) >= curves.total(amounts):
        amounts = refined
    cents = _polish(curves, _round_to_cents(amounts, total, lo, hi, curves), lo, hi)

    constraints = [
        "locked" if is_locked[j] else "minimum" if cents[j] == lo[j] else "maximum" if cents[j] == hi[j] else "free"
        for j in range(len(keys))
    ]
    return _allocation(result, cents, _plan_cents(result, plan, weeks), weeks, constraints, optimised=True)


def evaluate_plan(
    result: FitResult,
    amounts: Mapping[ChannelKey, Decimal],
    *,
    weeks: int = 13,
    plan: Mapping[ChannelKey, Decimal] | None = None,
) -> Allocation:
    """Predict the outcome of a given split (``amounts`` per modelled channel for ``weeks`` weeks),
    beside ``plan`` (default: current weekly spend × ``weeks``). Every line is "free", so the
    marginal-return figures show how far the split is from an optimum."""
    keys = [c.key for c in result.channels]
    _known(keys, amounts, "the plan")
    missing = [_name(k) for k in keys if k not in amounts]
    if missing:
        raise InfeasiblePlan(f"The plan has no amount for {', '.join(missing)}.")
    cents = [_whole_cents(amounts[k], f"The amount for {_name(k)}") for k in keys]
    return _allocation(result, cents, _plan_cents(result, plan, weeks), weeks, ["free"] * len(keys), optimised=False)


class _Curves:
    """Every channel's period outcome and marginal return as a function of its period amount in cents."""

    def __init__(self, channels: Sequence[ChannelFit], weeks: int):
        self.weeks = weeks
        self.k = np.array([c.half_saturation for c in channels])
        self.s = np.array([c.shape for c in channels])
        self.beta = np.array([c.beta for c in channels])
        # Period amount (cents) where the curve turns from convex to concave; 0 unless S-shaped.
        with np.errstate(invalid="ignore"):
            inflection = self.k * np.where(self.s > 1, ((self.s - 1) / (self.s + 1)) ** (1 / self.s), 0.0)
        self.inflection = inflection * weeks * 100

    def subset(self, mask: np.ndarray) -> _Curves:
        part = object.__new__(_Curves)
        part.weeks = self.weeks
        part.k, part.s, part.beta, part.inflection = self.k[mask], self.s[mask], self.beta[mask], self.inflection[mask]
        return part

    def weekly(self, cents):
        return np.asarray(cents, dtype=float) / 100.0 / self.weeks

    def value(self, cents, k=None, s=None, beta=None):
        """Period outcome per channel (broadcasts over a leading axis of channels)."""
        k = self.k if k is None else k
        s = self.s if s is None else s
        beta = self.beta if beta is None else beta
        return self.weeks * beta * _hill(self.weekly(cents) / k, s)

    def slope(self, cents):
        """d period outcome / d currency unit, per channel."""
        return self.beta * _hill_slope(self.weekly(cents) / self.k, self.k, self.s)

    def total(self, cents) -> float:
        return float(self.value(cents).sum())


def _grid_optimum(curves: _Curves, total: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Dynamic programme: the budget above the minimums in ``OPTIMISER_GRID`` equal steps, each
    channel taking 0…its cap steps; exact for any curve shape up to one step per channel."""
    free = total - lo.sum()
    steps = int(min(OPTIMISER_GRID, free))
    if steps <= 0:
        return lo.copy()
    size = free / steps
    grid = np.arange(steps + 1)
    best = np.zeros(steps + 1)  # best outcome using b steps over the channels so far
    best[1:] = -np.inf
    choices = []
    take = grid[:, None] - grid[None, :]  # steps left for earlier channels: b − j
    for j in range(len(lo)):
        cap = int(np.floor((hi[j] - lo[j]) / size + 1e-9))
        gain = np.full(steps + 1, -np.inf)
        gain[: cap + 1] = curves.value(lo[j] + grid[: cap + 1] * size, curves.k[j], curves.s[j], curves.beta[j])
        options = np.where(take >= 0, best[np.clip(take, 0, None)] + gain[None, :], -np.inf)
        choice = np.argmax(options, axis=1)
        best = options[grid, choice]
        choices.append(choice)
    finite = np.isfinite(best)
    b = int(np.flatnonzero(finite & (best >= best[finite].max() - 1e-9 * abs(best[finite].max())))[-1])
    amounts = lo.copy()
    for j in range(len(lo) - 1, -1, -1):
        amounts[j] += choices[j][b] * size
        b -= choices[j][b]
    return amounts


def _equalise(curves: _Curves, total: int, lo: np.ndarray, hi: np.ndarray, start: np.ndarray, locked: np.ndarray):
    """Exact optimum near the grid one: channels funded past their inflection point share the money
    left by the others so that their marginal returns are equal (bisection on the multiplier λ,
    each channel's amount solving slope = λ on its concave part). None when that cannot add up."""
    floor = np.maximum(lo, curves.inflection)
    moving = ~locked & (hi > lo) & (start >= floor - (total - lo.sum()) / OPTIMISER_GRID)
    if not moving.any():
        return None
    budget = total - start[~moving].sum()
    a, b = floor[moving], hi[moving]
    a = np.minimum(a, b)
    if not a.sum() - 1e-6 <= budget <= b.sum() + 1e-6:
        return None
    slope = curves.subset(moving)

    def amounts_at(lam: float) -> np.ndarray:
        low, high = a.copy(), b.copy()
        for _ in range(60):
            mid = (low + high) / 2
            above = slope.slope(mid) > lam  # still worth more than λ: the answer lies higher
            low = np.where(above, mid, low)
            high = np.where(above, high, mid)
        return (low + high) / 2

    lam_low = 0.0
    with np.errstate(divide="ignore"):
        start_slopes = slope.slope(np.maximum(a, 1e-6))
    lam_high = float(np.nanmax(np.where(np.isfinite(start_slopes), start_slopes, 0.0))) * 2 + 1e-12
    lam_high = max(lam_high, float(np.nanmax(slope.slope(b))) * 2 + 1e-12)
    for _ in range(80):
        lam = (lam_low + lam_high) / 2
        if amounts_at(lam).sum() > budget:
            lam_low = lam
        else:
            lam_high = lam
    result = start.copy()
    result[moving] = amounts_at((lam_low + lam_high) / 2)
    return result


def _round_to_cents(amounts: np.ndarray, total: int, lo: list[int], hi: list[int], curves: _Curves) -> list[int]:
    """Whole cents within the bounds adding up to ``total`` exactly: round down, then hand out the
    missing cents one by one to the largest fractions (ties to the higher marginal return, then to
    the earlier channel); any cents still missing go to the channels with the highest marginal
    return that have room. Deterministic."""
    floor = np.floor(amounts + 1e-9)
    cents = [int(min(max(f, low), high)) for f, low, high in zip(floor, lo, hi, strict=True)]
    fraction = amounts - floor
    slopes = np.nan_to_num(curves.slope(np.array(cents, dtype=float)), posinf=1e300)
    missing = total - sum(cents)
    order = sorted(range(len(cents)), key=lambda j: (-fraction[j], -slopes[j], j))
    for j in order:
        if missing <= 0:
            break
        if cents[j] < hi[j]:
            cents[j] += 1
            missing -= 1
    for j in sorted(range(len(cents)), key=lambda j: (-slopes[j], j)):
        if missing <= 0:
            break
        extra = min(missing, hi[j] - cents[j])
        cents[j] += extra
        missing -= extra
    for j in sorted(range(len(cents)), key=lambda j: (slopes[j], j)):
        if missing >= 0:
            break
        spare = min(-missing, cents[j] - lo[j])
        cents[j] -= spare
        missing += spare
    return cents


def _polish(curves: _Curves, cents: list[int], lo: list[int], hi: list[int]) -> list[int]:
    """Local search in whole cents: move 1, 2, 4, … cents from one channel to another while that
    raises the predicted outcome (the best move first). Catches what the grid cannot see — a
    maximum of a few cents, the last cents of rounding — and never breaks the total or a bound."""
    amounts = np.array(cents, dtype=np.int64)
    low, high = np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64)
    span = int((high - low).max(initial=0))
    if len(amounts) < 2 or span == 0:
        return cents
    steps = 2 ** np.arange(int(math.log2(span)) + 1, dtype=np.int64)  # 1, 2, 4, … cents
    for _ in range(500):
        now = curves.value(amounts.astype(float))
        down_to = amounts[:, None] - steps[None, :]
        up_to = amounts[:, None] + steps[None, :]
        with np.errstate(invalid="ignore"):
            loss = np.where(down_to >= low[:, None], curves.value(down_to.T.astype(float)).T - now[:, None], -np.inf)
            gain = np.where(up_to <= high[:, None], curves.value(up_to.T.astype(float)).T - now[:, None], -np.inf)
        moves = loss[:, None, :] + gain[None, :, :]  # [from, to, step]
        moves[np.arange(len(amounts)), np.arange(len(amounts)), :] = -np.inf
        best = np.unravel_index(np.argmax(moves), moves.shape)
        if not moves[best] > 1e-12 * max(1.0, abs(float(now.sum()))):
            break
        source, target, step = best
        amounts[source] -= steps[step]
        amounts[target] += steps[step]
    return [int(v) for v in amounts]


def _allocation(
    result: FitResult, proposed: list[int], current: list[int], weeks: int, constraints: list[str], optimised: bool
) -> Allocation:
    curves = _Curves(result.channels, weeks)
    warnings = []
    proposed_a, current_a = np.array(proposed, dtype=float), np.array(current, dtype=float)
    point_proposed, point_current = curves.value(proposed_a), curves.value(current_a)
    draws = min((len(c.draws) for c in result.channels), default=0)
    if draws and len(result.baseline_draws) == draws:
        k = np.stack([c.draws[:, 1] for c in result.channels], axis=1)
        s = np.stack([c.draws[:, 2] for c in result.channels], axis=1)
        beta = np.stack([c.draws[:, 3] for c in result.channels], axis=1)
        draw_proposed = curves.value(proposed_a[None, :], k, s, beta)
        draw_current = curves.value(current_a[None, :], k, s, beta)
    else:
        draw_proposed = draw_current = None

    def band(point, sample):
        if sample is None:
            return Band(float(point), float(point), float(point))
        return _band(float(point), sample)

    baseline = result.baseline_ahead(weeks)
    base_point = baseline.value
    base_draws = None
    if draw_proposed is not None:
        base_draws = result.baseline_draws @ result._ahead_design(weeks)

    slopes = curves.slope(proposed_a)
    lines = []
    for j, channel in enumerate(result.channels):
        lines.append(
            AllocationLine(
                key=channel.key,
                current=_from_cents(current[j]),
                proposed=_from_cents(proposed[j]),
                change=_from_cents(proposed[j] - current[j]),
                current_outcome=band(point_current[j], None if draw_current is None else draw_current[:, j]),
                proposed_outcome=band(point_proposed[j], None if draw_proposed is None else draw_proposed[:, j]),
                marginal_return=float(slopes[j]),
                constraint=constraints[j],
            )
        )
        weekly = Decimal(proposed[j]) / 100 / weeks
        if channel.max_weekly_spend and weekly > channel.max_weekly_spend:
            warnings.append(
                f"{_name(channel.key)} would spend {_cents(weekly):,} a week, more than it ever has "
                f"({channel.max_weekly_spend:,}): its predicted outcome there is an extrapolation."
            )

    def total_band(point_media, draw_media):
        value = base_point + float(point_media.sum())
        if draw_media is None:
            return Band(value, value, value)
        return _band(value, base_draws + draw_media.sum(axis=1))

    uplift_point = float(point_proposed.sum() - point_current.sum())
    uplift = (
        Band(uplift_point, uplift_point, uplift_point)
        if draw_proposed is None
        else _band(uplift_point, draw_proposed.sum(axis=1) - draw_current.sum(axis=1))
    )
    free = [float(slopes[j]) for j, c in enumerate(constraints) if c == "free" and np.isfinite(slopes[j])]
    if free and max(free) > 0:
        equalised = float(np.mean(free))
        gap = (max(free) - min(free)) / max(free)
    else:
        equalised = gap = None
    return Allocation(
        weeks=weeks,
        lines=tuple(lines),
        current_total=_from_cents(sum(current)),
        proposed_total=_from_cents(sum(proposed)),
        baseline=baseline,
        current_outcome=total_band(point_current, draw_current),
        proposed_outcome=total_band(point_proposed, draw_proposed),
        uplift=uplift,
        equalised_marginal_return=equalised,
        marginal_return_gap=gap,
        marginal_returns_equal=gap is not None and gap <= MARGINAL_RETURN_TOLERANCE,
        optimised=optimised,
        warnings=tuple(warnings),
    )


def _plan_cents(result: FitResult, plan: Mapping[ChannelKey, Decimal] | None, weeks: int) -> list[int]:
    if plan is None:
        return [int(_cents(c.current_weekly_spend * weeks) * 100) for c in result.channels]
    keys = [c.key for c in result.channels]
    _known(keys, plan, "the current plan")
    return [_whole_cents(plan.get(k, Decimal(0)), f"The current amount for {_name(k)}") for k in keys]


def _known(keys: list, given: Mapping, where: str) -> None:
    unknown = [_name(k) for k in given if k not in keys]
    if unknown:
        raise InfeasiblePlan(
            f"{', '.join(unknown)} in {where} {'is' if len(unknown) == 1 else 'are'} not in the model "
            f"(modelled: {', '.join(map(_name, keys))})."
        )


def _whole_cents(amount, what: str) -> int:
    """An amount as an integer number of cents; refuses fractions of a cent and negative amounts."""
    value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    if not value.is_finite() or value < 0:
        raise InfeasiblePlan(f"{what} must be a positive amount or zero, not {amount}.")
    if value != value.quantize(CENT):
        raise InfeasiblePlan(f"{what} must be in whole cents, not {amount}.")
    return int(value * 100)


def _from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)
