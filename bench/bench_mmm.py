"""Marketing-mix model figures (metrics/scenarios/mmm/): pure functions, no database, no Django.

1. Time: fitting 10 channels × 156 simulated weeks with 200 bootstrap draws, the optimiser over
   those 10 channels, and evaluating a plan — median of a few runs.
2. Quality on the simulated datasets in ../shared/datasets (Robyn weekly, Meridian national, and
   PyMC-Marketing's case study when present): held-out error of the last 13 weeks against the naive
   forecast, R², and how stable the ranking of channels by marginal return is under the bootstrap.

Prints figures; asserts nothing. ``python bench/bench_mmm.py`` (about half a minute on 2 cores).
"""

import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from metrics.scenarios.mmm.common import ModelError  # noqa: E402
from metrics.scenarios.mmm.fit import fit  # noqa: E402
from metrics.scenarios.mmm.optimise import evaluate_plan, optimise  # noqa: E402
from metrics.scenarios.mmm.simulate import simulate  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
RUNS = 3


def timed(function, runs: int = RUNS) -> tuple[float, object]:
    seconds, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), value


def timings() -> None:
    sim = simulate(channels=10, weeks=156, seed=0)
    print(f"== Time (10 channels × 156 weeks, median of {RUNS} runs)")
    no_bootstrap, _ = timed(lambda: fit(sim.weeks, sim.spend, sim.outcome, bootstrap=0))
    full, result = timed(lambda: fit(sim.weeks, sim.spend, sim.outcome, bootstrap=200))
    budget = sum(c.current_weekly_spend for c in result.channels) * 13
    optimiser, allocation = timed(lambda: optimise(result, budget), runs=5)
    constrained, _ = timed(
        lambda: optimise(
            result,
            budget,
            minimum={"channel_0": Decimal("50000")},
            maximum={"channel_1": Decimal("20000")},
            locked={"channel_2": Decimal("100000")},
        ),
        runs=5,
    )
    plan, _ = timed(lambda: evaluate_plan(result, {c.key: c.current_weekly_spend * 13 for c in result.channels}))
    print(f"fit, no bootstrap            {no_bootstrap:6.2f} s")
    print(f"fit + 200 bootstrap draws    {full:6.2f} s")
    print(f"optimise (free)              {optimiser * 1000:6.0f} ms")
    print(f"optimise (min, max, locked)  {constrained * 1000:6.0f} ms")
    print(f"evaluate plan                {plan * 1000:6.0f} ms")
    print(f"fit + optimise               {full + optimiser:6.2f} s")
    print(
        f"uplift of the optimum over the current split: {allocation.uplift.value:,.0f} "
        f"(band {allocation.uplift.low:,.0f} to {allocation.uplift.high:,.0f}) on "
        f"{allocation.current_outcome.value:,.0f}; equal marginal returns: {allocation.marginal_returns_equal}"
    )
    print()


def report(name: str, dates, spend: dict, outcome: np.ndarray, controls: dict | None = None) -> None:
    if controls:
        name += f", controls: {', '.join(controls)}"
    start = time.perf_counter()
    try:
        result = fit(dates, spend, outcome, bootstrap=200, seed=0, controls=controls)
    except ModelError as error:
        print(f"== {name}: refused — {error.message}\n")
        return
    seconds = time.perf_counter() - start
    h = result.holdout
    print(f"== {name}: {result.weeks} weeks, {len(result.channels)} channels, fit {seconds:.2f} s")
    print(f"R² in-sample {result.r_squared:.3f}")
    print(
        f"held-out {h.weeks} weeks: model RMSE {h.rmse:,.0f}, MAPE {h.mape:.1%} | naive ({h.baseline_method}) "
        f"RMSE {h.baseline_rmse:,.0f}, MAPE {h.baseline_mape:.1%} | beats naive: {h.beats_baseline}"
    )
    print(
        f"ranking by marginal return stable in {result.ranking_stability:.0%} of draws; "
        f"top channel kept in {result.top_channel_stability:.0%}"
    )
    for key in result.ranking:
        c = result.channel(key)
        mr = c.marginal_return
        print(
            f"  {c.rank:2d}. {key:<16} spend/wk {float(c.current_weekly_spend):>12,.0f}  "
            f"marginal {mr.value:8.3f} [{mr.low:.3f}, {mr.high:.3f}]  keeps rank {c.rank_stability:4.0%}  "
            f"share {c.contribution_share:5.1%}  decay {c.decay:.2f}  shape {c.shape:.2f}"
        )
    for warning in result.warnings:
        print(f"  ! {warning}")
    print()


def robyn() -> None:
    path = DATASETS / "robyn-simulated-weekly" / "dt_simulated_weekly.csv"
    if not path.exists():
        print(f"(skipped: {path} not found)\n")
        return
    data = pd.read_csv(path, parse_dates=["DATE"]).sort_values("DATE")
    spend = {column.removesuffix("_S"): data[column].to_numpy(float) for column in data if column.endswith("_S")}
    dates, revenue = list(data["DATE"].dt.date), data["revenue"].to_numpy(float)
    report("Robyn simulated weekly (revenue)", dates, spend, revenue)
    controls = {
        "competitor_sales_B": data["competitor_sales_B"].to_numpy(float),
        "newsletter": data["newsletter"].to_numpy(float),
        **{event: (data["events"] == event).to_numpy(float) for event in ("event1", "event2")},
    }
    report("Robyn simulated weekly (revenue)", dates, spend, revenue, controls)


def meridian() -> None:
    path = DATASETS / "meridian-simulated" / "national_all_channels.csv"
    if not path.exists():
        print(f"(skipped: {path} not found)\n")
        return
    data = pd.read_csv(path, parse_dates=["time"]).sort_values("time")
    spend = {c.removesuffix("_spend"): data[c].to_numpy(float) for c in data if c.endswith("_spend")}
    revenue = (data["conversions"] * data["revenue_per_conversion"]).to_numpy(float)
    report("Meridian national (revenue)", list(data["time"].dt.date), spend, revenue)
    names = ("competitor_sales_control", "sentiment_score_control", "Promo", "Organic_channel0_impression")
    controls = {name: data[name].to_numpy(float) for name in names}
    report("Meridian national (revenue)", list(data["time"].dt.date), spend, revenue, controls)

    geo = DATASETS / "meridian-simulated" / "geo_all_channels.csv"
    if geo.exists():
        rows = pd.read_csv(geo, parse_dates=["time"])
        rows["revenue"] = rows["conversions"] * rows["revenue_per_conversion"]
        weekly = rows.groupby("time").sum(numeric_only=True).sort_index()
        spend = {c.removesuffix("_spend"): weekly[c].to_numpy(float) for c in weekly if c.endswith("_spend")}
        revenue = weekly["revenue"].to_numpy()
        report("Meridian geo, summed to national (revenue)", list(weekly.index.date), spend, revenue)


def pymc_case_study() -> None:
    path = DATASETS / "pymc-marketing-mmm" / "case_study_data.csv"
    if not path.exists():
        return
    data = pd.read_csv(path, parse_dates=["wk_strt_dt"]).sort_values("wk_strt_dt")
    spend = {c.removeprefix("mdsp_"): data[c].to_numpy(float) for c in data if c.startswith("mdsp_")}
    dates, sales = list(data["wk_strt_dt"].dt.date), data["sales"].to_numpy(float)
    report("PyMC-Marketing case study (sales)", dates, spend, sales)
    names = ("me_ics_all", "me_gas_dpg", "st_ct", "mrkdn_valadd_edw", "mrkdn_pdm")
    names += ("hldy_Black Friday", "hldy_Cyber Monday", "hldy_Thanksgiving", "hldy_Christmas Day", "hldy_Prime Day")
    report("PyMC-Marketing case study (sales)", dates, spend, sales, {n: data[n].to_numpy(float) for n in names})


if __name__ == "__main__":
    timings()
    robyn()
    meridian()
    pymc_case_study()
