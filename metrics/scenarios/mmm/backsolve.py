"""The funnel back-solve: from a revenue or pipeline target back through conversion rates and deal
sizes to the leads needed, and through each channel's cost per lead to the spend."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from metrics.scenarios.mmm.common import ChannelKey, InvalidData, UndefinedRate, _cents, _name


@dataclass(frozen=True)
class FunnelRates:
    """Conversion rates and deal sizes, each None when undefined (no denominator). Build it from
    summed measures with ``from_totals``, or directly for a what-if ("a win rate of 25 %")."""

    lead_to_mql: Fraction | None
    mql_to_sql: Fraction | None
    sql_to_opportunity: Fraction | None
    win_rate: Fraction | None  # opportunity → won
    average_deal_size: Fraction | None  # revenue per new customer
    average_opportunity_size: Fraction | None  # pipeline per opportunity

    @classmethod
    def from_totals(cls, *, leads, mqls, sqls, opportunities, new_customers, revenue=0, pipeline=0) -> FunnelRates:
        def ratio(numerator, denominator):
            if denominator is None or numerator is None or Fraction(str(denominator)) == 0:
                return None
            return Fraction(str(numerator)) / Fraction(str(denominator))

        counts = {"leads": leads, "mqls": mqls, "sqls": sqls, "opportunities": opportunities,
                  "new_customers": new_customers, "revenue": revenue, "pipeline": pipeline}  # fmt: skip
        for name, value in counts.items():
            if value is not None and Fraction(str(value)) < 0:
                raise InvalidData(f"{name} cannot be negative ({value}).")
        return cls(
            lead_to_mql=ratio(mqls, leads),
            mql_to_sql=ratio(sqls, mqls),
            sql_to_opportunity=ratio(opportunities, sqls),
            win_rate=ratio(new_customers, opportunities),
            average_deal_size=ratio(revenue, new_customers),
            average_opportunity_size=ratio(pipeline, opportunities),
        )


@dataclass(frozen=True)
class BacksolveLine:
    key: ChannelKey
    share: Fraction
    leads: int
    cost_per_lead: Decimal
    spend: Decimal


@dataclass(frozen=True)
class Backsolve:
    """What a target takes: whole counts at each funnel stage (rounded up at each stage), the
    leads split over channels by the mix (counts adding up to ``leads``), and the spend that buys
    them. ``new_customers`` is None for a pipeline target. ``gap`` is ``spend`` − the current
    budget when one was given (positive: more money is needed)."""

    target: Decimal
    target_kind: str
    new_customers: int | None
    opportunities: int
    sqls: int
    mqls: int
    leads: int
    lines: tuple[BacksolveLine, ...]
    spend: Decimal
    current_budget: Decimal | None
    gap: Decimal | None
    rates: FunnelRates
    warnings: tuple[str, ...] = ()


# Per rate: its name, why it is undefined (no denominator), why it is zero.
RATE_NAMES = {
    "lead_to_mql": ("lead → MQL rate", "there were no leads", "no lead became an MQL"),
    "mql_to_sql": ("MQL → SQL rate", "there were no MQLs", "no MQL became an SQL"),
    "sql_to_opportunity": ("SQL → opportunity rate", "there were no SQLs", "no SQL became an opportunity"),
    "win_rate": ("win rate (opportunity → won)", "there were no opportunities", "no opportunity was won"),
    "average_deal_size": ("average deal size", "there were no new customers", "the new customers brought no revenue"),
    "average_opportunity_size": (
        "average opportunity size",
        "there were no opportunities",
        "the opportunities carry no pipeline",
    ),
}
CONVERSION_RATES = ("lead_to_mql", "mql_to_sql", "sql_to_opportunity", "win_rate")


def backsolve(
    target: Decimal,
    target_kind: Literal["revenue", "pipeline"],
    rates: FunnelRates,
    cost_per_lead: Mapping[ChannelKey, Decimal],
    mix: Mapping[ChannelKey, Any],
    *,
    current_budget: Decimal | None = None,
) -> Backsolve:
    """Work back from a revenue (or pipeline) target to the deals, opportunities, SQLs, MQLs and
    leads it takes, then through each channel's share of leads (``mix``: fractions summing to 1)
    and cost per lead to the spend. Counts are rounded up at every stage (whole leads); exact
    fractions are used in between, so 1/3 stays 1/3. Raises ``UndefinedRate`` naming the rate when
    one that is needed is zero or undefined."""
    if target_kind not in ("revenue", "pipeline"):
        raise ValueError(f"target_kind must be 'revenue' or 'pipeline', not {target_kind!r}")
    goal = Fraction(str(target))
    if goal < 0:
        raise InvalidData("The target cannot be negative.")
    warnings = []

    def rate(name: str) -> Fraction:
        value = getattr(rates, name)
        label, undefined, zero = RATE_NAMES[name]
        if value is None:
            raise UndefinedRate(f"The {label} is undefined: {undefined} in the period measured.")
        if value <= 0:
            raise UndefinedRate(
                f"The {label} is zero: {zero} in the period measured, so no volume of the earlier stage "
                "reaches the target."
            )
        if name in CONVERSION_RATES and value > 1:
            warnings.append(
                f"The {label} is above 100 % ({float(value):.0%}): the later stage outnumbered the earlier one in "
                "the period measured; the back-solve uses the rate as measured."
            )
        return value

    def up(value: Fraction) -> int:
        return math.ceil(value)

    if target_kind == "revenue":
        new_customers = up(goal / rate("average_deal_size"))
        opportunities = up(new_customers / rate("win_rate"))
    else:
        new_customers = None
        opportunities = up(goal / rate("average_opportunity_size"))
    sqls = up(opportunities / rate("sql_to_opportunity"))
    mqls = up(sqls / rate("mql_to_sql"))
    leads = up(mqls / rate("lead_to_mql"))

    shares = {k: Fraction(str(v)) for k, v in mix.items()}
    if any(v < 0 for v in shares.values()) or not shares:
        raise InvalidData("The channel mix needs at least one channel and no negative share.")
    total_share = sum(shares.values())
    if abs(total_share - 1) > Fraction(1, 10**6):
        raise InvalidData(f"The channel mix must add up to 100 %, not {float(total_share):.2%}.")
    shares = {k: v / total_share for k, v in shares.items()}
    missing = [_name(k) for k, v in shares.items() if v > 0 and k not in cost_per_lead]
    if missing:
        raise InvalidData(f"No cost per lead for {', '.join(missing)}.")
    # Largest remainder: channel counts add up to the leads needed exactly.
    exact = {k: leads * v for k, v in shares.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    order = sorted(exact, key=lambda k: (-(exact[k] - counts[k]), list(shares).index(k)))
    for k in order[: leads - sum(counts.values())]:
        counts[k] += 1
    lines = []
    for k, share in shares.items():
        raw = cost_per_lead.get(k, 0)
        cpl = Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)
        if cpl < 0:
            raise InvalidData(f"The cost per lead of {_name(k)} cannot be negative.")
        lines.append(
            BacksolveLine(key=k, share=share, leads=counts[k], cost_per_lead=cpl, spend=_cents(counts[k] * cpl))
        )
    spend = sum((line.spend for line in lines), Decimal("0.00"))
    gap = None if current_budget is None else spend - _cents(current_budget)
    return Backsolve(
        target=Decimal(target),
        target_kind=target_kind,
        new_customers=new_customers,
        opportunities=opportunities,
        sqls=sqls,
        mqls=mqls,
        leads=leads,
        lines=tuple(lines),
        spend=spend,
        current_budget=None if current_budget is None else _cents(current_budget),
        gap=gap,
        rates=rates,
        warnings=tuple(warnings),
    )
