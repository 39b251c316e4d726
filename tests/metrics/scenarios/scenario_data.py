"""Test data for scenario planning: weekly facts drawn from ``simulate`` (so the truth is known),
written as spend entries and result facts of one campaign per channel, plus a FY2026 budget with a
line per channel — the world the scenario tests, the API tests and the browser journey share."""

import datetime
from decimal import Decimal

import numpy as np

from budgets import services as budget_services
from campaigns.models import FactSource, ResultFact, SpendEntry
from metrics.rollups import services
from metrics.scenarios import services as scenario_services
from metrics.scenarios.mmm.simulate import simulate
from metrics.scenarios.models import ScenarioKind
from planning.models import Period
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory

D = Decimal
APRIL = datetime.date(2026, 4, 1)
MODELS, SCENARIOS = "/api/v1/response-models/", "/api/v1/scenarios/"
CHANNELS = ("Paid search", "Paid social", "Events")


def write_weekly(*, team, owner, weeks, spend: dict, outcome, measure: str = "pipeline", prefix: str = "sim"):
    """One campaign per channel name in ``spend`` (channel created if missing) and a "Baseline" campaign
    carrying the weekly ``measure``; each week's figures dated on its Monday. Returns the channels."""
    channels = {}
    rows, results = [], []
    first, last = weeks[0], weeks[-1] + datetime.timedelta(days=6)
    for name in [*spend, "Baseline"]:
        slug = name.lower().replace(" ", "-")
        channels[name] = ChannelFactory(name=name, slug=slug)
        campaign = CampaignFactory(
            name=f"{name} ({team.slug})",
            code=f"{prefix}-{team.slug}-{slug}",
            team=team,
            owner=owner,
            channel=channels[name],
            start_date=first,
            end_date=last,
        )
        if name == "Baseline":
            for week, value in zip(weeks, outcome, strict=True):
                results.append(
                    ResultFact(
                        campaign=campaign, date=week, source=FactSource.MANUAL, **{measure: D(f"{float(value):.2f}")}
                    )
                )
            continue
        for week, value in zip(weeks, spend[name], strict=True):
            if value > 0:
                amount = D(f"{float(value):.2f}")
                rows.append(SpendEntry(campaign=campaign, date=week, amount=amount, currency="USD", amount_base=amount))
    SpendEntry.objects.bulk_create(rows)
    ResultFact.objects.bulk_create(results)
    services.rebuild_all(compare=False)  # bulk writes announce nothing: rebuild, like the demo does
    return channels


def simulated_history(*, team, owner, weeks: int = 104, seed: int = 1, names=CHANNELS, **kwargs):
    sim = simulate(channels=len(names), weeks=weeks, seed=seed)
    spend = {name: sim.spend[f"channel_{j}"] for j, name in enumerate(names)}
    return write_weekly(team=team, owner=owner, weeks=list(sim.weeks), spend=spend, outcome=sim.outcome, **kwargs)


def fy2026_budget(*, finance, team, channels: dict, monthly: dict[str, Decimal]):
    """The FY2026 budget with one line per channel of ``monthly`` (its amount every month)."""
    year = fiscal_year_ensure(year=2026)
    budget = budget_services.budget_create(actor=finance, fiscal_year=year, name="FY2026 marketing")
    periods = list(Period.objects.filter(fiscal_year=year))
    lines = {}
    for name, amount in monthly.items():
        lines[name] = budget_services.line_create(
            actor=finance, budget=budget, name=f"{name} line", team=team, channel=channels[name]
        )
        budget_services.phasing_set(actor=finance, line=lines[name], amounts={p: amount for p in periods})
    return lines


def constant(weeks: int, value: float) -> np.ndarray:
    return np.full(weeks, value)


def optimised(**kwargs) -> scenario_services.ScenarioInputs:
    """The inputs of an optimised three-month scenario from April 2026."""
    return scenario_services.ScenarioInputs(kind=ScenarioKind.OPTIMISED, start=APRIL, months=3, **kwargs)
