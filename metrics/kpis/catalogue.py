"""The KPI catalogue: base measures, built-in KPIs and custom ones, all computed through formulas.py.

There is one way to compute a KPI, whoever asks (dashboard, export, API, target check): its formula
evaluated over summed base measures. A ratio is therefore always summed numerator over summed
denominator, never an average of ratios (ARCHITECTURE.md "Dashboards"). Percentages are kept as
fractions (0.1234 is 12.34 %) and only multiplied by 100 for display.
"""

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from functools import cached_property
from typing import Literal

from metrics.kpis.formulas import FUNCTIONS, MAX_EXPONENT, Formula, FormulaError, parse
from mops.money import money

Unit = Literal["money", "ratio", "percent", "count", "number"]
Direction = Literal["higher", "lower"]
UNITS: tuple[Unit, ...] = ("money", "ratio", "percent", "count", "number")
DIRECTIONS: tuple[Direction, ...] = ("higher", "lower")

CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
NO_VALUE = "—"


@dataclass(frozen=True)
class Measure:
    """A base measure: what rollups sum per grain and dimension."""

    code: str
    label: str
    unit: Unit


BASE_MEASURES: tuple[Measure, ...] = (
    Measure("spend", "Spend", "money"),
    Measure("planned_cost", "Planned cost", "money"),
    Measure("budget", "Budget", "money"),
    Measure("allocated", "Allocated", "money"),
    Measure("committed", "Committed", "money"),
    Measure("impressions", "Impressions", "count"),
    Measure("clicks", "Clicks", "count"),
    Measure("leads", "Leads", "count"),
    Measure("mqls", "MQLs", "count"),
    Measure("sqls", "SQLs", "count"),
    Measure("opportunities", "Opportunities", "count"),
    Measure("pipeline", "Pipeline", "money"),
    Measure("new_customers", "New customers (won deals)", "count"),
    Measure("revenue", "Won revenue", "money"),
)


@dataclass(frozen=True)
class Kpi:
    """A named formula over base measures and other KPIs.

    Built-ins and measures are version 1 for good; a custom KPI's version goes up whenever an ops
    admin changes its formula, so a target or an export can say which definition it used.
    """

    code: str
    name: str
    formula: str
    unit: Unit
    direction: Direction
    description: str
    version: int = 1
    builtin: bool = False
    # A base measure listed as a KPI: its formula is its own code and its value is the caller's sum.
    measure: bool = False

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"Unknown KPI unit {self.unit!r}; expected one of {', '.join(UNITS)}.")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"Unknown KPI direction {self.direction!r}; expected higher or lower.")

    @cached_property
    def parsed(self) -> Formula:
        """The checked formula, parsed once per Kpi (cached_property writes past the frozen guard)."""
        return parse(self.formula)


# Measures are not scored like KPIs, but a target on one still needs a sense: costs are better low.
_LOWER_IS_BETTER = frozenset({"spend", "planned_cost", "committed"})

_MEASURE_DESCRIPTIONS = {
    "spend": "Spend = money spent (spend entries)",
    "planned_cost": "Planned cost = what the campaigns plan to spend",
    "budget": (
        "Budget = approved budget, each dollar counted once: a budget line holds what it has not passed "
        "down to its sub-lines (the organisation's budget is its root lines')"
    ),
    "allocated": "Allocated = budget promised to campaigns and programs",
    "committed": "Committed = purchase orders and contracts not yet invoiced",
    "impressions": "Impressions = times an ad was shown",
    "clicks": "Clicks = clicks on ads and links",
    "leads": "Leads = new leads",
    "mqls": "MQLs = marketing-qualified leads",
    "sqls": "SQLs = sales-qualified leads",
    "opportunities": "Opportunities = sales opportunities created",
    "pipeline": "Pipeline = value of the opportunities created",
    "new_customers": "New customers = deals won",
    "revenue": "Won revenue = revenue of the deals won",
}

MEASURE_KPIS: tuple[Kpi, ...] = tuple(
    Kpi(
        code=measure.code,
        name=measure.label,
        formula=measure.code,
        unit=measure.unit,
        direction="lower" if measure.code in _LOWER_IS_BETTER else "higher",
        description=_MEASURE_DESCRIPTIONS[measure.code],
        builtin=True,
        measure=True,
    )
    for measure in BASE_MEASURES
)


def _builtin(code: str, name: str, formula: str, unit: Unit, direction: Direction, description: str) -> Kpi:
    return Kpi(code, name, formula, unit, direction, description, version=1, builtin=True)


BUILTIN_KPIS: tuple[Kpi, ...] = (
    _builtin("ctr", "Click-through rate", "clicks / impressions", "percent", "higher", "CTR = clicks ÷ impressions"),
    _builtin("cpc", "Cost per click", "spend / clicks", "money", "lower", "CPC = spend ÷ clicks"),
    _builtin(
        "cpm",
        "Cost per thousand impressions",
        "spend / impressions * 1000",
        "money",
        "lower",
        "CPM = spend ÷ impressions × 1,000",
    ),
    _builtin("cpl", "Cost per lead", "spend / leads", "money", "lower", "CPL = spend ÷ leads"),
    _builtin("cost_per_mql", "Cost per MQL", "spend / mqls", "money", "lower", "Cost per MQL = spend ÷ MQLs"),
    _builtin("cost_per_sql", "Cost per SQL", "spend / sqls", "money", "lower", "Cost per SQL = spend ÷ SQLs"),
    _builtin(
        "cac", "Customer acquisition cost", "spend / new_customers", "money", "lower", "CAC = spend ÷ new customers"
    ),
    _builtin("roas", "Return on ad spend", "revenue / spend", "ratio", "higher", "ROAS = won revenue ÷ spend"),
    _builtin(
        "roi",
        "Return on investment",
        "(revenue - spend) / spend",
        "percent",
        "higher",
        "ROI = (won revenue − spend) ÷ spend",
    ),
    _builtin("lead_to_mql", "Lead → MQL rate", "mqls / leads", "percent", "higher", "Lead → MQL = MQLs ÷ leads"),
    _builtin("mql_to_sql", "MQL → SQL rate", "sqls / mqls", "percent", "higher", "MQL → SQL = SQLs ÷ MQLs"),
    _builtin(
        "sql_to_opportunity",
        "SQL → opportunity rate",
        "opportunities / sqls",
        "percent",
        "higher",
        "SQL → opportunity = opportunities ÷ SQLs",
    ),
    _builtin(
        "opportunity_to_won",
        "Opportunity → won rate",
        "new_customers / opportunities",
        "percent",
        "higher",
        "Opportunity → won = new customers ÷ opportunities",
    ),
    _builtin(
        "pipeline_per_spend",
        "Pipeline per spend",
        "pipeline / spend",
        "ratio",
        "higher",
        "Pipeline per spend = pipeline ÷ spend",
    ),
    # Lower is better: staying within budget, the same sense as variance_to_budget being higher.
    _builtin(
        "budget_utilisation",
        "Budget utilisation",
        "(spend + committed) / budget",
        "percent",
        "lower",
        "Budget utilisation = (spend + committed) ÷ budget",
    ),
    _builtin(
        "variance_to_budget",
        "Variance to budget",
        "budget - spend",
        "money",
        "higher",
        "Variance to budget = budget − spend",
    ),
)

# Codes nobody may define: measures, built-ins and the formula functions.
RESERVED_CODES = frozenset(kpi.code for kpi in (*MEASURE_KPIS, *BUILTIN_KPIS)) | FUNCTIONS

_STANDARD = {kpi.code: kpi for kpi in (*MEASURE_KPIS, *BUILTIN_KPIS)}


class UnknownKpi(KeyError):
    """A code that is neither a measure, a built-in nor a custom KPI of the catalogue."""

    def __init__(self, code: str, used_by: str | None = None):
        super().__init__(code)
        self.code = code
        self.used_by = used_by

    def __str__(self) -> str:
        # KeyError would print the repr of its argument; say it in a sentence instead.
        where = f" (used in the formula of {self.used_by})" if self.used_by else ""
        return f"There is no KPI or measure with the code {self.code!r}{where}."


def catalogue(custom: Iterable[Kpi] = ()) -> dict[str, Kpi]:
    """Every KPI by code: the measures, the built-ins, then ``custom`` (an ops admin's KPIs).

    Custom codes may not take a reserved code nor repeat one another; their formulas were checked
    by check_definition when they were saved.
    """
    entries = dict(_STANDARD)
    for kpi in custom:
        if kpi.code in RESERVED_CODES:
            raise FormulaError(f"The custom KPI code {kpi.code} is taken by a built-in KPI, measure or function.")
        if kpi.code in entries:
            raise FormulaError(f"Two custom KPIs have the code {kpi.code}.")
        entries[kpi.code] = kpi
    return entries


def evaluate(
    codes: Iterable[str], measures: Mapping[str, Decimal | int | None], catalogue: Mapping[str, Kpi]
) -> dict[str, Decimal | None]:
    """The value of each KPI in ``codes`` over ``measures`` (summed base measures; None is no value).

    KPIs that use other KPIs are resolved in dependency order, each computed once. Values are
    unrounded; quantize() or display() them at the edge. An unknown code raises UnknownKpi; a measure
    the formulas need but ``measures`` lacks raises FormulaError (pass None for "no value").
    """
    return _Resolver(measures, catalogue).values(codes)


class _Resolver:
    def __init__(self, measures: Mapping[str, Decimal | int | None], catalogue: Mapping[str, Kpi]):
        self.measures = measures
        self.catalogue = catalogue
        self.done: dict[str, Decimal | None] = {}

    def values(self, codes: Iterable[str]) -> dict[str, Decimal | None]:
        return {code: self.value(code, path=()) for code in codes}

    def value(self, code: str, *, path: tuple[str, ...]) -> Decimal | None:
        if code in self.done:
            return self.done[code]
        kpi = self.catalogue.get(code)
        if kpi is None:
            raise UnknownKpi(code, used_by=path[-1] if path else None)
        if code in path:
            # check_definition refuses loops; one here means the stored catalogue was changed behind it.
            raise FormulaError(f"The KPI formulas make a loop: {' → '.join((*path, code))}.")
        formula = kpi.parsed
        if kpi.measure:
            if code not in self.measures:
                raise FormulaError(f"No sum was given for the measure {code}; pass None for no value.")
            inputs = {code: self.measures[code]}
        else:
            inputs = {name: self.value(name, path=(*path, code)) for name in sorted(formula.names)}
        self.done[code] = formula.evaluate(inputs)
        return self.done[code]


def check_definition(code: str, formula_text: str, catalogue: Mapping[str, Kpi]) -> Formula:
    """Check a custom KPI an ops admin proposes (new, or a new version of an existing custom KPI).

    Returns its Formula; FormulaError explains the first problem: the code's shape, a code taken by
    a built-in or measure, a formula that does not parse, a name the catalogue does not know, or a
    loop (the KPI would depend on itself through others).
    """
    if not CODE.fullmatch(code):
        raise FormulaError(
            f"The code {code!r} is not valid: use 2 to 40 lowercase letters, digits and _, starting with a letter."
        )
    if code in RESERVED_CODES or (code in catalogue and (catalogue[code].builtin or catalogue[code].measure)):
        raise FormulaError(f"The code {code} is taken by a built-in KPI, measure or function; choose another.")
    formula = parse(formula_text)
    if code in formula.names:
        raise FormulaError(f"The formula of {code} uses {code} itself.")
    unknown = sorted(formula.names - catalogue.keys())
    if unknown:
        hints = [
            f"{name} (did you mean {match[0]}?)" if (match := difflib.get_close_matches(name, catalogue, n=1)) else name
            for name in unknown
        ]
        raise FormulaError(f"The formula uses unknown names: {', '.join(hints)}. Use measure or KPI codes.")
    loop = _loop(code, formula, catalogue)
    if loop:
        raise FormulaError(f"The formula would make a loop: {' → '.join(loop)}. A KPI cannot depend on itself.")
    return formula


def _loop(code: str, formula: Formula, catalogue: Mapping[str, Kpi]) -> tuple[str, ...] | None:
    """A path from ``code`` back to itself through the KPIs it uses, if ``formula`` replaced its definition."""

    def uses(current: str) -> frozenset[str]:
        if current == code:
            return formula.names
        kpi = catalogue.get(current)
        return frozenset() if kpi is None or kpi.measure else kpi.parsed.names

    stack = [(name, (code, name)) for name in sorted(formula.names, reverse=True)]
    seen: set[str] = set()
    while stack:
        current, path = stack.pop()
        if current == code:
            return path
        if current in seen:
            continue
        seen.add(current)
        stack.extend((name, (*path, name)) for name in sorted(uses(current), reverse=True))
    return None


# Wide enough to quantize any bounded formula result (below 1e100) to 4 places without InvalidOperation.
_QUANTIZE = Context(prec=MAX_EXPONENT + 30, traps=[InvalidOperation])
_STEPS: dict[str, Decimal] = {
    "count": Decimal(1),
    "ratio": Decimal("0.0001"),
    "percent": Decimal("0.0001"),
    "number": Decimal("0.0001"),
}


def quantize(kpi: Kpi, value: Decimal | int | None) -> Decimal | None:
    """Round a KPI value for storage or comparison: money 2 places (the money helper), count 0,
    ratio, percent (as a fraction) and number 4; half away from zero."""
    if value is None:
        return None
    if kpi.unit == "money":
        with localcontext(_QUANTIZE):
            return _no_negative_zero(money(Decimal(value)))
    return _round(Decimal(value), _STEPS[kpi.unit])


def display(kpi: Kpi, value: Decimal | int | None) -> str:
    """A KPI value for people: "—" for no value, money "12,345.50" (the caller adds the currency),
    count "12,345", percent "12.3 %", ratio "3.45×", number "12.35"."""
    if value is None:
        return NO_VALUE
    value = Decimal(value)
    # Rounded once, from the value itself: 0.12345 is 12.3 %, not 12.35 % rounded again to 12.4 %.
    match kpi.unit:
        case "money":
            return f"{quantize(kpi, value):,.2f}"
        case "count":
            return f"{quantize(kpi, value):,.0f}"
        case "percent":
            return f"{_round(value * 100, Decimal('0.1')):,.1f} %"
        case "ratio":
            return f"{_round(value, Decimal('0.01')):,.2f}×"
        case _:
            return f"{_round(value, Decimal('0.01')):,.2f}"


def _round(value: Decimal, step: Decimal) -> Decimal:
    with localcontext(_QUANTIZE):
        return _no_negative_zero(value.quantize(step, rounding=ROUND_HALF_UP))


def _no_negative_zero(value: Decimal) -> Decimal:
    return value.copy_abs() if value.is_zero() else value
