"""The marketing-mix model (metrics/scenarios/mmm/): pure functions, no database.

Transforms against hand-computed values; the fit against a simulated dataset whose truth is known;
the optimiser against constraints, the exact total and an analytic optimum; degenerate data
against the messages users will read; the back-solve against hand-computed funnels.
"""

import json
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.scenarios.mmm.backsolve import FunnelRates, backsolve
from metrics.scenarios.mmm.common import InfeasiblePlan, InsufficientData, InvalidData, UndefinedRate, _cents
from metrics.scenarios.mmm.fit import _Problem, fit
from metrics.scenarios.mmm.optimise import _Curves, evaluate_plan, optimise
from metrics.scenarios.mmm.results import ChannelFit, FitResult
from metrics.scenarios.mmm.simulate import simulate
from metrics.scenarios.mmm.transforms import _baseline_matrix, _hill_slope, geometric_adstock, hill

D = Decimal
START = date(2023, 1, 2)


def weeks(n: int, start: date = START) -> list[date]:
    return [start + timedelta(weeks=j) for j in range(n)]


def hand_result(curves: dict[str, tuple[float, float, float]], current: dict[str, str] | None = None) -> FitResult:
    """A FitResult with hand-set curves {key: (beta, half_saturation, shape)} and no bootstrap."""
    current = current or {}
    channels = tuple(
        ChannelFit(
            key=key,
            decay=0.0,
            half_saturation=k,
            shape=s,
            beta=beta,
            current_weekly_spend=D(current.get(key, "0")),
            max_weekly_spend=D("1000000"),
        )
        for key, (beta, k, s) in curves.items()
    )
    return FitResult(channels=channels, ranking=tuple(curves))


# --------------------------------------------------------------------------------------------------
# Transforms


def test_adstock_carries_over_by_hand():
    x = np.array([100.0, 0.0, 0.0, 50.0])

    assert geometric_adstock(x, 0.5, normalise=False) == pytest.approx([100, 50, 25, 62.5])
    # Normalised: weights (1 − d)·d^j sum to one.
    assert geometric_adstock(x, 0.5) == pytest.approx([50, 25, 12.5, 31.25])
    # Lags 0 and 1 only, weights 1 and 0.5 normalised by 1.5.
    assert geometric_adstock(x, 0.5, max_lag=1) == pytest.approx([100 / 1.5, 50 / 1.5, 0, 50 / 1.5])
    assert geometric_adstock(x, 0.5, max_lag=1, normalise=False) == pytest.approx([100, 50, 0, 50])
    assert geometric_adstock(x, 0.0) == pytest.approx(x)


def test_adstock_prior_spend_is_a_steady_history():
    steady = np.full(10, 40.0)

    assert geometric_adstock(steady, 0.7, prior_spend=40.0) == pytest.approx(steady)
    assert geometric_adstock(steady, 0.7, max_lag=3, prior_spend=40.0) == pytest.approx(steady)
    assert geometric_adstock(steady, 0.5, normalise=False, prior_spend=40.0) == pytest.approx(steady * 2)


@given(
    x=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60),
    decay=st.floats(0, 0.95),
)
def test_adstock_never_creates_spend(x, decay):
    """Normalised carry-over only delays spend: nothing negative, never more in total than went in."""
    y = geometric_adstock(np.array(x), decay)

    assert (y >= -1e-9).all()
    assert y.sum() <= sum(x) * (1 + 1e-9) + 1e-6


def test_adstock_rejects_a_decay_of_one():
    with pytest.raises(ValueError, match="decay"):
        geometric_adstock(np.ones(3), 1.0)


def test_hill_by_hand():
    x = np.array([0.0, 50.0, 100.0, 200.0])

    assert hill(x, 100.0, 1.0) == pytest.approx([0, 1 / 3, 0.5, 2 / 3])
    assert hill(x, 100.0, 2.0) == pytest.approx([0, 0.2, 0.5, 0.8])
    assert hill(np.array([1e12]), 100.0, 3.0)[0] == pytest.approx(1.0)


@given(
    k=st.floats(0.1, 1e5),
    s=st.floats(0.5, 3.0),
    x=st.lists(st.floats(0, 1e7), min_size=2, max_size=20),
)
def test_hill_is_monotone_between_zero_and_one(k, s, x):
    y = hill(np.sort(np.array(x)), k, s)

    assert (y >= 0).all() and (y <= 1).all()
    assert (np.diff(y) >= -1e-12).all()


def test_fast_adstock_and_jacobian_match_the_definitions():
    """The fit's batched FFT adstock equals ``geometric_adstock``; its analytic Jacobian equals
    finite differences of its residuals."""
    rng = np.random.default_rng(1)
    n = 60
    x = rng.random((n, 3)) * 2
    x[:5, 1] = 0
    base = _baseline_matrix(weeks(n), START, True)
    prior = np.array([1.0, 0.0, 0.5])
    problem = _Problem(x, prior, base, rng.random(n))
    theta = np.concatenate([[0.3, 0.5, 0.8], [0.7, 1.2, 2.0], [0.8, 1.5, 2.5], [1, 2, 3], rng.random(base.shape[1])])

    expected = np.column_stack([geometric_adstock(x[:, j], theta[j], prior_spend=prior[j]) for j in range(3)])
    assert problem.adstock(theta[:3]) == pytest.approx(expected, abs=1e-12)
    numeric = np.column_stack(
        [(problem.residual(theta + step) - problem.residual(theta - step)) / 2e-6 for step in np.eye(len(theta)) * 1e-6]
    )
    assert problem.jacobian(theta) == pytest.approx(numeric, abs=1e-6)


# --------------------------------------------------------------------------------------------------
# Fitting a simulated dataset


@pytest.fixture(scope="module")
def simulated():
    sim = simulate(channels=10, weeks=156, seed=0, noise=0.01)
    return sim, fit(sim.weeks, sim.spend, sim.outcome, bootstrap=60, seed=0)


def true_marginal(truth: dict, weekly_spend: float) -> float:
    k = truth["half_saturation"]
    return truth["beta"] * float(_hill_slope(np.array(weekly_spend / k), k, truth["shape"]))


def test_fit_recovers_known_parameters(simulated):
    """10 channels × 156 weeks with known carry-over and curves: the carry-over comes back and,
    what the optimiser needs, the marginal return at current spend and the order of channels."""
    sim, result = simulated
    decay_errors, marginal_errors, true_mr, fitted_mr = [], [], [], []
    for channel in result.channels:
        truth = sim.truth[channel.key]
        decay_errors.append(abs(channel.decay - truth["decay"]))
        expected = true_marginal(truth, float(channel.current_weekly_spend))
        marginal_errors.append(abs(channel.marginal_return.value / expected - 1))
        true_mr.append(expected)
        fitted_mr.append(channel.marginal_return.value)

    assert len(result.channels) == 10 and not result.excluded
    assert result.r_squared > 0.95
    assert np.median(decay_errors) < 0.08
    assert sum(e < 0.15 for e in decay_errors) >= 8
    assert max(marginal_errors) < 0.3
    assert np.median(marginal_errors) < 0.15
    rank_correlation = np.corrcoef(np.argsort(np.argsort(true_mr)), np.argsort(np.argsort(fitted_mr)))[0, 1]
    assert rank_correlation > 0.9


def test_fit_beats_the_naive_forecast_on_held_out_weeks(simulated):
    _, result = simulated
    holdout = result.holdout

    assert holdout.weeks == 13
    assert holdout.beats_baseline and result.beats_baseline
    assert holdout.rmse < 0.5 * holdout.baseline_rmse
    assert holdout.mape < holdout.baseline_mape
    assert holdout.baseline_method in ("same week last year", "mean of the last 13 fitted weeks")


def test_fit_reports_curves_bands_and_ranking(simulated):
    _, result = simulated
    channel = result.channel(result.ranking[0])
    levels = np.linspace(0, 3 * float(channel.current_weekly_spend), 7)

    value, low, high = channel.curve(levels)
    assert value[0] == 0 and (np.diff(value) > 0).all()
    assert (low <= value).all() and (value <= high).all()
    assert channel.marginal_return.low <= channel.marginal_return.value <= channel.marginal_return.high
    assert channel.rank == 1
    assert [result.channel(k).rank for k in result.ranking] == list(range(1, 11))
    assert 0 <= result.ranking_stability <= result.top_channel_stability <= 1
    assert all(0 <= c.rank_stability <= 1 for c in result.channels)
    assert 0 < sum(c.contribution_share for c in result.channels) < 1
    assert channel.draws.shape == (60, 4)


def test_fit_is_deterministic():
    sim = simulate(channels=3, weeks=110, seed=4)

    first = fit(sim.weeks, sim.spend, sim.outcome, bootstrap=15, seed=7)
    second = fit(sim.weeks, sim.spend, sim.outcome, bootstrap=15, seed=7)

    assert first.to_dict() == second.to_dict()


def test_fit_result_survives_json(simulated):
    _, result = simulated

    restored = FitResult.from_dict(json.loads(json.dumps(result.to_dict())))

    assert restored == result
    assert restored.channels[0].draws == pytest.approx(result.channels[0].draws)
    budget = sum(c.current_weekly_spend for c in result.channels) * 13
    assert optimise(restored, budget) == optimise(result, budget)


def test_money_rule_matches_the_project():
    from mops.money import CENT, money

    assert CENT == CENT
    assert _cents(D("2.675")) == money(D("2.675"))
    assert _cents(2.675) == money(2.675)


# --------------------------------------------------------------------------------------------------
# Degenerate data


def small(n: int = 80, channels: int = 2, seed: int = 1):
    sim = simulate(channels=channels, weeks=n, seed=seed)
    return sim.weeks, dict(sim.spend), sim.outcome.copy()


def test_less_than_a_year_is_refused():
    dates, spend, outcome = small(40)

    with pytest.raises(InsufficientData, match=r"Only 40 weeks.*at least 52"):
        fit(dates, spend, outcome, bootstrap=0)


def test_one_to_two_years_fits_without_seasonality():
    dates, spend, outcome = small(80)

    result = fit(dates, spend, outcome, bootstrap=5)

    assert not result.seasonality
    assert any("leaves out yearly seasonality" in w for w in result.warnings)
    assert len(result.baseline_coefficients) == 2


def test_too_many_channels_for_the_history_is_refused():
    dates, spend, outcome = small(60, channels=10)

    with pytest.raises(InsufficientData, match="cannot support 10 channels"):
        fit(dates, spend, outcome, bootstrap=0)


@pytest.mark.parametrize(
    ("spend", "reason"),
    [
        (np.zeros(80), "no spend at all"),
        (np.full(80, 500.0), "never changes"),
        (np.r_[np.zeros(60), np.full(20, 900.0)], "spent in only 7 of the 67 fitted weeks"),
        (np.r_[np.zeros(70), np.full(10, 900.0)], "no spend before the last 13 weeks"),
    ],
    ids=["zeros", "constant", "too-few-weeks", "new-channel"],
)
def test_channel_without_learnable_spend_is_left_out_by_name(spend, reason):
    dates, channels, outcome = small(80)
    channels["Trade shows"] = spend

    result = fit(dates, channels, outcome, bootstrap=0)

    assert result.excluded == ("Trade shows",)
    assert "Trade shows" not in [c.key for c in result.channels]
    assert any(w.startswith("Trade shows is left out of the model") and reason in w for w in result.warnings)


def test_no_usable_channel_is_refused():
    dates, _, outcome = small(80)

    with pytest.raises(InsufficientData, match=r"No channel has spend that varies.*Events is left out"):
        fit(dates, {"Events": np.full(80, 100.0)}, outcome, bootstrap=0)


def test_single_channel_fits_and_says_so():
    dates, spend, outcome = small(80, channels=1)

    result = fit(dates, spend, outcome, bootstrap=10)

    assert len(result.channels) == 1
    assert any("Only one channel (channel_0)" in w for w in result.warnings)
    allocation = optimise(result, D("1000.00"))
    assert allocation.lines[0].proposed == D("1000.00")


def test_all_zero_outcome_is_refused():
    dates, spend, _ = small(80)

    with pytest.raises(InsufficientData, match="zero in every week"):
        fit(dates, spend, np.zeros(80), bootstrap=0)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda s, o: s["channel_0"].__setitem__(3, np.nan), InvalidData, "Spend for channel_0 is missing"),
        (lambda s, o: s["channel_1"].__setitem__(3, -1.0), InvalidData, "Spend for channel_1 is negative"),
        (lambda s, o: o.__setitem__(5, np.nan), InvalidData, "outcome is missing"),
        (lambda s, o: o.__setitem__(5, -3.0), InvalidData, "outcome is negative"),
        (lambda s, o: s.__setitem__("channel_0", s["channel_0"][:-1]), InvalidData, "has 79 weeks"),
    ],
    ids=["nan-spend", "negative-spend", "nan-outcome", "negative-outcome", "short-spend"],
)
def test_bad_inputs_are_refused_with_a_message(change, error, message):
    dates, spend, outcome = small(80)
    spend = {k: v.copy() for k, v in spend.items()}
    change(spend, outcome)

    with pytest.raises(error, match=message) as raised:
        fit(dates, spend, outcome, bootstrap=0)
    assert raised.value.message == str(raised.value)


def test_a_gap_in_the_weeks_is_refused():
    dates, spend, outcome = small(80)
    dates = [*dates[:40], *(d + timedelta(days=7) for d in dates[40:])]

    with pytest.raises(InvalidData, match="7 days apart"):
        fit(dates, spend, outcome, bootstrap=0)


# --------------------------------------------------------------------------------------------------
# Optimiser


def test_optimum_equalises_marginal_returns_analytic():
    """Two concave channels, y = β·S/(S + K) with K = 100: β = 4 and β = 1. Equal marginal returns
    4·100/(S₁+100)² = 100/(S₂+100)² give S₁ + 100 = 2(S₂ + 100); with S₁ + S₂ = 1,000 a week,
    S₁ = 700 and S₂ = 300, both at a marginal return of 400/800² = 0.000625."""
    result = hand_result({"search": (4.0, 100.0, 1.0), "social": (1.0, 100.0, 1.0)})

    allocation = optimise(result, D("13000.00"), weeks=13)

    assert allocation.line("search").proposed == D("9100.00")
    assert allocation.line("social").proposed == D("3900.00")
    assert allocation.equalised_marginal_return == pytest.approx(0.000625, rel=1e-6)
    assert allocation.marginal_returns_equal and allocation.marginal_return_gap < 1e-6
    assert allocation.proposed_outcome.value == pytest.approx(13 * (4 * 700 / 800 + 300 / 400))


def test_s_shaped_curves_are_not_split_evenly():
    """Two identical S-shaped curves S²/(S² + 100²) and 100 a week: splitting 50/50 yields 0.4 a
    week, all on one channel 0.5. An equal-marginal-return search from the middle would stop at
    the even split; the optimiser must not."""
    result = hand_result({"a": (1.0, 100.0, 2.0), "b": (1.0, 100.0, 2.0)})

    allocation = optimise(result, D("100.00"), weeks=1)

    assert sorted(line.proposed for line in allocation.lines) == [D("0.00"), D("100.00")]
    assert allocation.proposed_outcome.value == pytest.approx(0.5)


CURVES = {
    "search": (4_000.0, 3_000.0, 1.0),
    "social": (2_500.0, 1_500.0, 1.8),
    "events": (6_000.0, 8_000.0, 2.5),
    "display": (900.0, 500.0, 0.7),
}


@settings(max_examples=40, deadline=None)
@given(
    budget=st.integers(0, 30_000_000),
    bounds=st.lists(
        st.tuples(st.sampled_from(["free", "min", "max", "both", "locked"]), st.integers(0, 10_000_000)),
        min_size=4,
        max_size=4,
    ),
    seed=st.integers(0, 2**16),
)
def test_optimiser_respects_constraints_and_the_total_to_the_cent(budget, bounds, seed):
    result = hand_result(CURVES)
    minimum, maximum, locked = {}, {}, {}
    for key, (kind, cents) in zip(CURVES, bounds, strict=True):
        amount = D(cents) / 100
        if kind in ("min", "both"):
            minimum[key] = amount
        if kind in ("max", "both"):
            maximum[key] = amount * 2
        if kind == "locked":
            locked[key] = amount
    total = D(budget) / 100
    lows = {k: locked.get(k, minimum.get(k, D(0))) for k in CURVES}
    highs = {k: locked.get(k, maximum.get(k, total)) for k in CURVES}
    feasible = sum(lows.values()) <= total <= sum(min(h, total) for h in highs.values())
    if not feasible:
        with pytest.raises(InfeasiblePlan):
            optimise(result, total, minimum=minimum, maximum=maximum, locked=locked)
        return

    allocation = optimise(result, total, minimum=minimum, maximum=maximum, locked=locked, weeks=13)

    assert allocation.proposed_total == total
    assert sum(line.proposed for line in allocation.lines) == total
    for line in allocation.lines:
        assert line.proposed == line.proposed.quantize(D("0.01"))
        assert lows[line.key] <= line.proposed <= highs[line.key]
        if line.key in locked:
            assert line.proposed == locked[line.key] and line.constraint == "locked"
    free = [line.marginal_return for line in allocation.lines if line.constraint == "free"]
    if len(free) > 1 and total >= 100:
        assert allocation.marginal_returns_equal, free

    # No feasible split in whole cents drawn at random does better.
    curves = _Curves(result.channels, 13)
    best = curves.total(np.array([int(line.proposed * 100) for line in allocation.lines], dtype=float))
    rng = np.random.default_rng(seed)
    lo = [int(lows[k] * 100) for k in CURVES]
    room = [int(min(highs[k], total) * 100) - low for k, low in zip(CURVES, lo, strict=True)]
    for _ in range(20):
        left = budget - sum(lo)
        split = list(lo)
        for j in rng.permutation(4):
            extra = min(room[j], int(rng.integers(0, left + 1)))
            split[j] += extra
            left -= extra
        for j in range(4):  # whatever is left goes where there is room
            extra = min(room[j] - (split[j] - lo[j]), left)
            split[j] += extra
            left -= extra
        if left == 0:
            assert curves.total(np.array(split, dtype=float)) <= best * (1 + 1e-9) + 1e-9


def test_infeasible_constraints_say_why():
    result = hand_result(CURVES)

    with pytest.raises(InfeasiblePlan, match=r"minimums and locked amounts add up to 1,500\.00, more than"):
        optimise(result, D("1000"), minimum={"search": D("1000")}, locked={"events": D("500")})
    with pytest.raises(InfeasiblePlan, match=r"maximums and locked amounts add up to 40\.00, less than"):
        optimise(result, D("1000"), maximum={k: D("10") for k in CURVES})
    with pytest.raises(InfeasiblePlan, match="tiktok in a constraint is not in the model"):
        optimise(result, D("1000"), maximum={"tiktok": D("10")})
    with pytest.raises(InfeasiblePlan, match="whole cents"):
        optimise(result, D("1000.005"))
    with pytest.raises(InfeasiblePlan, match=r"minimum for search .* is above its maximum"):
        optimise(result, D("1000"), minimum={"search": D("50")}, maximum={"search": D("40")})


def test_optimum_beats_the_plan_it_is_compared_with(simulated):
    _, result = simulated
    plan = {c.key: c.current_weekly_spend * 13 for c in result.channels}
    budget = sum(plan.values())

    current = evaluate_plan(result, plan)
    best = optimise(result, budget, plan=plan)

    assert best.proposed_total == current.proposed_total == budget
    assert best.current_outcome == current.proposed_outcome
    assert best.proposed_outcome.value > current.proposed_outcome.value
    assert best.uplift.value == pytest.approx(best.proposed_outcome.value - current.proposed_outcome.value)
    assert best.uplift.low > 0  # on this simulated data the gain is clear of the noise
    assert best.marginal_returns_equal and not current.marginal_returns_equal
    assert all(line.change == line.proposed - line.current for line in best.lines)
    baseline = result.baseline_ahead(13)
    assert best.baseline == baseline
    assert best.proposed_outcome.value == pytest.approx(
        baseline.value + sum(line.proposed_outcome.value for line in best.lines)
    )


def test_evaluate_plan_needs_every_channel():
    result = hand_result(CURVES)

    with pytest.raises(InfeasiblePlan, match="no amount for events, display"):
        evaluate_plan(result, {"search": D("10"), "social": D("10")})


# --------------------------------------------------------------------------------------------------
# Funnel back-solve

RATES = FunnelRates.from_totals(
    leads=1000, mqls=300, sqls=120, opportunities=60, new_customers=15, revenue=D("750000"), pipeline=D("3000000")
)


def test_backsolve_revenue_by_hand():
    """1,000,000 of revenue at 50,000 a deal is 20 deals; a 25 % win rate needs 80 opportunities;
    50 % SQL→opportunity 160 SQLs; 40 % MQL→SQL 400 MQLs; 30 % lead→MQL 1,333.3 → 1,334 leads."""
    mix = {"search": D("0.5"), "events": D("0.3"), "social": D("0.2")}
    cost = {"search": D("80"), "events": D("250.50"), "social": D("45")}

    answer = backsolve(D("1000000"), "revenue", RATES, cost, mix, current_budget=D("150000"))

    assert (answer.new_customers, answer.opportunities, answer.sqls, answer.mqls, answer.leads) == (
        20,
        80,
        160,
        400,
        1334,
    )
    # 667 + 400.2 + 266.8 leads: the spare lead goes to the largest remainder (social).
    assert [(line.key, line.leads, line.spend) for line in answer.lines] == [
        ("search", 667, D("53360.00")),
        ("events", 400, D("100200.00")),
        ("social", 267, D("12015.00")),
    ]
    assert answer.spend == D("165575.00")
    assert answer.gap == D("15575.00")


def test_backsolve_pipeline_by_hand():
    answer = backsolve(D("1000000"), "pipeline", RATES, {"search": D("10")}, {"search": 1})

    assert answer.new_customers is None
    assert (answer.opportunities, answer.sqls, answer.mqls, answer.leads) == (20, 40, 100, 334)
    assert answer.spend == D("3340.00") and answer.gap is None


def test_backsolve_uses_exact_fractions():
    """A rate of 1/3 in decimals is 0.333…; 10 / 0.333… rounds up to 31 leads. It must be 30."""
    rates = FunnelRates(
        lead_to_mql=Fraction(1, 3),
        mql_to_sql=Fraction(1),
        sql_to_opportunity=Fraction(1),
        win_rate=Fraction(1),
        average_deal_size=None,
        average_opportunity_size=Fraction(100),
    )

    assert backsolve(D("1000"), "pipeline", rates, {"a": D("1")}, {"a": 1}).leads == 30


@pytest.mark.parametrize(
    ("totals", "kind", "message"),
    [
        ({"mqls": 0}, "revenue", "MQL → SQL rate is undefined: there were no MQLs"),
        ({"opportunities": 0}, "revenue", r"win rate \(opportunity → won\) is undefined: there were no opportunities"),
        ({"new_customers": 0}, "revenue", "average deal size is undefined: there were no new customers"),
        ({"revenue": 0}, "revenue", "average deal size is zero: the new customers brought no revenue"),
        ({"pipeline": 0}, "pipeline", "average opportunity size is zero: the opportunities carry no pipeline"),
        ({"mqls": 0}, "pipeline", "MQL → SQL rate is undefined"),
    ],
)
def test_backsolve_names_the_missing_rate(totals, kind, message):
    counts = dict(leads=1000, mqls=300, sqls=120, opportunities=60, new_customers=15, revenue=750000, pipeline=3e6)
    rates = FunnelRates.from_totals(**{**counts, **totals})

    with pytest.raises(UndefinedRate, match=message):
        backsolve(D("100000"), kind, rates, {"a": D("1")}, {"a": 1})


def test_backsolve_checks_the_mix():
    with pytest.raises(InvalidData, match=r"must add up to 100 %, not 90\.00%"):
        backsolve(D("1000"), "revenue", RATES, {"a": D("1"), "b": D("1")}, {"a": 0.5, "b": 0.4})
    with pytest.raises(InvalidData, match="No cost per lead for b"):
        backsolve(D("1000"), "revenue", RATES, {"a": D("1")}, {"a": 0.5, "b": 0.5})


# --------------------------------------------------------------------------------------------------
# Controls


def test_controls_join_the_baseline():
    """A promotion flag that adds 6,000 in its weeks: with it as a control the fit explains more,
    recovers its effect, and plans ahead at the promotion's recent level."""
    sim = simulate(channels=3, weeks=120, seed=2, noise=0.01)
    promo = (np.arange(120) % 6 == 0).astype(float)
    outcome = sim.outcome + 6_000 * promo

    without = fit(sim.weeks, sim.spend, outcome, bootstrap=0)
    result = fit(sim.weeks, sim.spend, outcome, bootstrap=10, controls={"promo": promo, "flat": np.ones(120)})

    assert result.controls == ("promo",)
    assert any("control flat is left out" in w for w in result.warnings)
    assert result.r_squared > without.r_squared + 0.1
    assert result.holdout.rmse < without.holdout.rmse
    train = promo[:107]
    effect = result.baseline_coefficients[-1] / train.std()  # per unit of the raw flag
    assert effect == pytest.approx(6_000, rel=0.15)
    expected = result.baseline_coefficients @ result._ahead_design(13)
    assert result.baseline_ahead(13).value == pytest.approx(expected)
    restored = FitResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert restored.baseline_ahead(13) == result.baseline_ahead(13)


def test_a_control_with_gaps_is_refused():
    sim = simulate(channels=2, weeks=80, seed=1)
    promo = np.zeros(80)
    promo[10] = np.nan

    with pytest.raises(InvalidData, match="control promo is missing"):
        fit(sim.weeks, sim.spend, sim.outcome, bootstrap=0, controls={"promo": promo})
