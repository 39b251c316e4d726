"""The KPI catalogue: every built-in KPI by hand, custom KPIs on top of them, rounding and display."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.kpis import catalogue as kpis
from metrics.kpis.catalogue import (
    BASE_MEASURES,
    BUILTIN_KPIS,
    MEASURE_KPIS,
    Kpi,
    UnknownKpi,
    catalogue,
    check_definition,
    display,
    evaluate,
    quantize,
)
from metrics.kpis.formulas import Formula, FormulaError

D = Decimal
BUILTIN_CODES = [kpi.code for kpi in BUILTIN_KPIS]

# One quarter of one program, summed: the numbers every hand-computed case below starts from.
SUMS = {
    "spend": D("12500.00"),
    "planned_cost": D("15000.00"),
    "budget": D("50000.00"),
    "allocated": D("30000.00"),
    "committed": D("7500.00"),
    "impressions": 1_250_000,
    "clicks": 8_400,
    "leads": 420,
    "mqls": 168,
    "sqls": 56,
    "opportunities": 21,
    "pipeline": D("315000.00"),
    "new_customers": 7,
    "revenue": D("87500.00"),
}


def custom(code: str, formula: str, unit="number", direction="higher", version=1) -> Kpi:
    return Kpi(code, code.replace("_", " ").capitalize(), formula, unit, direction, f"{code} = {formula}", version)


@pytest.fixture
def everything() -> dict[str, Kpi]:
    return catalogue()


# --- the catalogue ---------------------------------------------------------------------------------------------


def test_the_base_measures_in_order():
    assert [(m.code, m.unit) for m in BASE_MEASURES] == [
        ("spend", "money"),
        ("planned_cost", "money"),
        ("budget", "money"),
        ("allocated", "money"),
        ("committed", "money"),
        ("impressions", "count"),
        ("clicks", "count"),
        ("leads", "count"),
        ("mqls", "count"),
        ("sqls", "count"),
        ("opportunities", "count"),
        ("pipeline", "money"),
        ("new_customers", "count"),
        ("revenue", "money"),
    ]
    labels = {m.code: m.label for m in BASE_MEASURES}
    assert labels["new_customers"] == "New customers (won deals)"
    assert labels["revenue"] == "Won revenue"


def test_the_catalogue_holds_measures_then_built_ins_then_custom_kpis():
    mine = custom("cost_per_opportunity", "spend / opportunities", unit="money", direction="lower")

    entries = catalogue([mine])

    assert list(entries) == [m.code for m in BASE_MEASURES] + BUILTIN_CODES + ["cost_per_opportunity"]
    assert all(entries[m.code].measure and entries[m.code].builtin for m in BASE_MEASURES)
    assert all(entries[code].builtin and not entries[code].measure for code in BUILTIN_CODES)
    assert entries["cost_per_opportunity"] is mine


@pytest.mark.parametrize(
    ("code", "formula", "unit", "direction"),
    [
        ("ctr", "clicks / impressions", "percent", "higher"),
        ("cpc", "spend / clicks", "money", "lower"),
        ("cpm", "spend / impressions * 1000", "money", "lower"),
        ("cpl", "spend / leads", "money", "lower"),
        ("cost_per_mql", "spend / mqls", "money", "lower"),
        ("cost_per_sql", "spend / sqls", "money", "lower"),
        ("cac", "spend / new_customers", "money", "lower"),
        ("roas", "revenue / spend", "ratio", "higher"),
        ("roi", "(revenue - spend) / spend", "percent", "higher"),
        ("lead_to_mql", "mqls / leads", "percent", "higher"),
        ("mql_to_sql", "sqls / mqls", "percent", "higher"),
        ("sql_to_opportunity", "opportunities / sqls", "percent", "higher"),
        ("opportunity_to_won", "new_customers / opportunities", "percent", "higher"),
        ("pipeline_per_spend", "pipeline / spend", "ratio", "higher"),
        ("budget_utilisation", "(spend + committed) / budget", "percent", "lower"),
        ("variance_to_budget", "budget - spend", "money", "higher"),
    ],
)
def test_built_in_definitions(code, formula, unit, direction, everything):
    kpi = everything[code]

    assert (kpi.formula, kpi.unit, kpi.direction, kpi.version, kpi.builtin) == (formula, unit, direction, 1, True)
    assert kpi.description and "=" in kpi.description
    assert isinstance(kpi.parsed, Formula)
    assert kpi.parsed is kpi.parsed  # parsed once


def test_every_built_in_formula_uses_base_measures_only():
    measure_codes = {m.code for m in BASE_MEASURES}

    for kpi in BUILTIN_KPIS:
        assert kpi.parsed.names <= measure_codes, kpi.code


def test_custom_codes_may_not_take_a_built_in_or_measure_code():
    with pytest.raises(FormulaError, match="cpl is taken by a built-in KPI, measure or function"):
        catalogue([custom("cpl", "spend / leads")])
    with pytest.raises(FormulaError, match="spend is taken"):
        catalogue([custom("spend", "planned_cost")])
    with pytest.raises(FormulaError, match="Two custom KPIs have the code twice"):
        catalogue([custom("twice", "spend"), custom("twice", "clicks")])


def test_a_kpi_has_a_known_unit_and_direction():
    with pytest.raises(ValueError, match="Unknown KPI unit 'euros'"):
        custom("x1", "spend", unit="euros")
    with pytest.raises(ValueError, match="Unknown KPI direction 'up'"):
        custom("x1", "spend", direction="up")


# --- every built-in KPI, by hand ---------------------------------------------------------------------------------


HAND_COMPUTED = [
    # 8,400 / 1,250,000
    ("ctr", D("0.00672"), D("0.0067"), "0.7 %"),
    # 12,500 / 8,400 = 1.48809…
    ("cpc", None, D("1.49"), "1.49"),
    # 12,500 / 1,250,000 × 1,000
    ("cpm", D("10"), D("10.00"), "10.00"),
    # 12,500 / 420 = 29.7619…
    ("cpl", None, D("29.76"), "29.76"),
    # 12,500 / 168 = 74.4047…
    ("cost_per_mql", None, D("74.40"), "74.40"),
    # 12,500 / 56 = 223.2142…
    ("cost_per_sql", None, D("223.21"), "223.21"),
    # 12,500 / 7 = 1,785.714…
    ("cac", None, D("1785.71"), "1,785.71"),
    # 87,500 / 12,500
    ("roas", D("7"), D("7.0000"), "7.00×"),
    # (87,500 − 12,500) / 12,500
    ("roi", D("6"), D("6.0000"), "600.0 %"),
    # 168 / 420
    ("lead_to_mql", D("0.4"), D("0.4000"), "40.0 %"),
    # 56 / 168 = 1/3
    ("mql_to_sql", None, D("0.3333"), "33.3 %"),
    # 21 / 56
    ("sql_to_opportunity", D("0.375"), D("0.3750"), "37.5 %"),
    # 7 / 21 = 1/3
    ("opportunity_to_won", None, D("0.3333"), "33.3 %"),
    # 315,000 / 12,500
    ("pipeline_per_spend", D("25.2"), D("25.2000"), "25.20×"),
    # (12,500 + 7,500) / 50,000
    ("budget_utilisation", D("0.4"), D("0.4000"), "40.0 %"),
    # 50,000 − 12,500
    ("variance_to_budget", D("37500"), D("37500.00"), "37,500.00"),
]


@pytest.mark.parametrize(("code", "exact", "rounded", "shown"), HAND_COMPUTED)
def test_each_built_in_kpi_by_hand(code, exact, rounded, shown, everything):
    value = evaluate([code], SUMS, everything)[code]

    if exact is not None:
        assert value == exact
    kpi = everything[code]
    assert quantize(kpi, value) == rounded
    assert str(quantize(kpi, value)) == str(rounded)  # the places too, not only the number
    assert display(kpi, value) == shown


def test_the_hand_computed_cases_cover_every_built_in():
    assert [case[0] for case in HAND_COMPUTED] == BUILTIN_CODES


def test_a_measure_is_a_kpi_too(everything):
    values = evaluate(["spend", "clicks", "cpl"], SUMS, everything)

    assert values == {"spend": D("12500.00"), "clicks": D(8400), "cpl": D(12500) / D(420)}
    assert display(everything["clicks"], values["clicks"]) == "8,400"
    assert display(everything["spend"], values["spend"]) == "12,500.00"


@pytest.mark.parametrize(
    ("code", "denominator"),
    [
        ("ctr", "impressions"),
        ("cpc", "clicks"),
        ("cpm", "impressions"),
        ("cpl", "leads"),
        ("cost_per_mql", "mqls"),
        ("cost_per_sql", "sqls"),
        ("cac", "new_customers"),
        ("roas", "spend"),
        ("roi", "spend"),
        ("lead_to_mql", "leads"),
        ("mql_to_sql", "mqls"),
        ("sql_to_opportunity", "sqls"),
        ("opportunity_to_won", "opportunities"),
        ("pipeline_per_spend", "spend"),
        ("budget_utilisation", "budget"),
    ],
)
def test_a_zero_denominator_is_no_value_shown_as_a_dash(code, denominator, everything):
    value = evaluate([code], {**SUMS, denominator: 0}, everything)[code]

    assert value is None
    assert quantize(everything[code], value) is None
    assert display(everything[code], value) == "—"


def test_zero_numerators_are_zero_not_no_value(everything):
    values = evaluate(["cpl", "roas", "ctr"], {**SUMS, "spend": D("0.00"), "revenue": D(0), "clicks": 0}, everything)

    assert values == {"cpl": 0, "roas": None, "ctr": 0}
    assert display(everything["cpl"], values["cpl"]) == "0.00"
    assert display(everything["ctr"], values["ctr"]) == "0.0 %"


def test_a_missing_sum_propagates_as_no_value(everything):
    values = evaluate(["spend", "cpl", "roi", "variance_to_budget", "ctr"], {**SUMS, "spend": None}, everything)

    assert values == {"spend": None, "cpl": None, "roi": None, "variance_to_budget": None, "ctr": D("0.00672")}


def test_ratios_come_from_sums_not_from_averaging_ratios(everything):
    # given two campaigns: 100 spent for 1 lead (CPL 100) and 900 for 19 leads (CPL 47.37)
    sums = {**SUMS, "spend": D("100") + D("900"), "leads": 1 + 19}

    cpl = evaluate(["cpl"], sums, everything)["cpl"]

    # then the program's CPL is 1,000 / 20, not the mean of the two CPLs (73.68)
    assert cpl == 50
    assert cpl != (D(100) / 1 + D(900) / 19) / 2


def test_negative_variance_is_shown_with_a_sign(everything):
    value = evaluate(["variance_to_budget"], {**SUMS, "spend": D("51234.5")}, everything)["variance_to_budget"]

    assert display(everything["variance_to_budget"], value) == "-1,234.50"


def test_a_sum_the_formulas_need_must_be_passed(everything):
    sums = {code: value for code, value in SUMS.items() if code != "leads"}

    with pytest.raises(FormulaError, match="No sum was given for the measure leads"):
        evaluate(["cpl"], sums, everything)


def test_an_unknown_code_is_a_key_error_with_a_sentence(everything):
    with pytest.raises(UnknownKpi) as unknown:
        evaluate(["cpl", "nope"], SUMS, everything)

    assert isinstance(unknown.value, KeyError)
    assert unknown.value.code == "nope"
    assert str(unknown.value) == "There is no KPI or measure with the code 'nope'."


# --- custom KPIs on top of others ---------------------------------------------------------------------------------


def test_custom_kpis_may_use_built_ins_and_each_other():
    entries = catalogue(
        [
            custom("won_per_lead", "opportunity_to_won * sql_to_opportunity * mql_to_sql * lead_to_mql", "percent"),
            custom("cac_payback", "cac / (revenue / new_customers)", "ratio", "lower"),
            custom("blended", "min(cpl, cost_per_mql) + abs(variance_to_budget) / 1000", "money", "lower"),
            custom("headroom", "blended * 2 - cac_payback", "number"),
        ]
    )

    values = evaluate(["headroom", "won_per_lead", "cac_payback", "blended"], SUMS, entries)

    # 7 new customers out of 420 leads, through the four stages
    assert quantize(entries["won_per_lead"], values["won_per_lead"]) == D("0.0167")
    # CAC 1,785.71… over revenue per customer 12,500 = 12,500 / 87,500 = 1/7
    assert quantize(entries["cac_payback"], values["cac_payback"]) == D("0.1429")
    # min(29.76…, 74.40…) + 37,500 / 1,000
    assert quantize(entries["blended"], values["blended"]) == D("67.26")
    # 2 × 67.2619… − 0.142857…
    assert quantize(entries["headroom"], values["headroom"]) == D("134.3810")
    assert display(entries["won_per_lead"], values["won_per_lead"]) == "1.7 %"


def test_each_kpi_is_computed_once_however_often_it_is_used(monkeypatch):
    entries = catalogue(
        [
            custom("a_twice", "roas + roas"),
            custom("b_uses_a", "a_twice * roas"),
            custom("c_uses_both", "a_twice + b_uses_a"),
        ]
    )
    computed: list[str] = []
    real_evaluate = Formula.evaluate

    def counting(formula, values):
        computed.append(formula.text)
        return real_evaluate(formula, values)

    monkeypatch.setattr(Formula, "evaluate", counting)

    values = evaluate(["c_uses_both", "a_twice", "roas"], SUMS, entries)

    assert values == {"c_uses_both": D(14 + 98), "a_twice": D(14), "roas": D(7)}
    assert sorted(computed) == sorted(
        ["a_twice + b_uses_a", "a_twice * roas", "roas + roas", "revenue / spend", "revenue", "spend"]
    )


def test_no_value_flows_through_custom_kpis():
    entries = catalogue([custom("double_cpl", "cpl * 2", "money")])

    assert evaluate(["double_cpl"], {**SUMS, "leads": 0}, entries) == {"double_cpl": None}


def test_a_loop_slipped_into_a_stored_catalogue_is_reported_not_recursed():
    # check_definition refuses this; a catalogue changed behind its back must still not hang
    entries = catalogue([custom("ping", "pong + 1"), custom("pong", "ping + 1")])

    with pytest.raises(FormulaError, match="The KPI formulas make a loop: ping → pong → ping"):
        evaluate(["ping"], SUMS, entries)


def test_a_custom_kpi_using_an_unknown_code_says_where():
    entries = catalogue([custom("orphan", "ghost * 2")])

    with pytest.raises(UnknownKpi, match="'ghost' \\(used in the formula of orphan\\)"):
        evaluate(["orphan"], SUMS, entries)


# --- checking a proposed definition -------------------------------------------------------------------------------


def test_a_good_definition_returns_its_formula(everything):
    formula = check_definition("cost_per_opportunity", "spend / opportunities", everything)

    assert formula.names == {"spend", "opportunities"}


def test_a_new_version_of_a_custom_kpi_is_a_valid_definition():
    entries = catalogue([custom("cpo", "spend / opportunities")])

    assert check_definition("cpo", "(spend + committed) / opportunities", entries).names == {
        "spend",
        "committed",
        "opportunities",
    }


@pytest.mark.parametrize("code", ["A", "a", "Cpo", "1cpo", "_cpo", "cpo-x", "cpo x", "cpé", "c" * 41, ""])
def test_the_code_has_a_shape(code, everything):
    with pytest.raises(FormulaError, match="use 2 to 40 lowercase letters, digits and _, starting with a letter"):
        check_definition(code, "spend", everything)


def test_a_code_of_40_characters_is_fine(everything):
    assert check_definition("c" * 40, "spend", everything)


@pytest.mark.parametrize("code", ["cpl", "roas", "spend", "new_customers", "min", "max", "abs"])
def test_built_in_measure_and_function_codes_are_taken(code, everything):
    with pytest.raises(FormulaError, match=f"The code {code} is taken"):
        check_definition(code, "spend / 2", everything)


def test_the_formula_must_parse(everything):
    with pytest.raises(FormulaError, match="found an attribute access"):
        check_definition("sneaky", "spend.__class__", everything)


def test_every_name_must_be_known_with_a_hint(everything):
    with pytest.raises(FormulaError) as unknown:
        check_definition("cpo", "spend / opportunites + banana", everything)

    assert str(unknown.value) == (
        "The formula uses unknown names: banana, opportunites (did you mean opportunities?). Use measure or KPI codes."
    )


def test_a_kpi_cannot_use_itself(everything):
    with pytest.raises(FormulaError, match="The formula of cpo uses cpo itself"):
        check_definition("cpo", "cpo + spend", everything)


def test_a_loop_through_other_kpis_is_refused():
    entries = catalogue(
        [
            custom("alpha", "spend / leads"),
            custom("beta", "alpha * 2"),
            custom("gamma", "beta + cpl"),
        ]
    )

    with pytest.raises(FormulaError) as loop:
        check_definition("alpha", "gamma / 2", entries)

    assert str(loop.value) == (
        "The formula would make a loop: alpha → gamma → beta → alpha. A KPI cannot depend on itself."
    )


def test_using_the_same_kpi_twice_is_not_a_loop():
    entries = catalogue([custom("alpha", "cpl * 2"), custom("beta", "alpha + cpl")])

    assert check_definition("gamma", "alpha + beta + cpl", entries).names == {"alpha", "beta", "cpl"}


# --- rounding and display --------------------------------------------------------------------------------------------


def unit(name: str) -> Kpi:
    return custom("some_kpi", "spend", unit=name)


@pytest.mark.parametrize(
    ("unit_name", "value", "expected"),
    [
        ("money", D("2.345"), D("2.35")),  # half up, not to even
        ("money", D("-2.345"), D("-2.35")),  # half away from zero
        ("money", 7, D("7.00")),
        ("count", D("2.5"), D("3")),
        ("count", D("1234.4"), D("1234")),
        ("ratio", D("0.12345"), D("0.1235")),
        ("percent", D("0.12345"), D("0.1235")),
        ("number", D("1.00005"), D("1.0001")),
        ("money", D("-0.001"), D("0.00")),  # never "-0.00"
        ("money", D("1e98"), D("1" + "0" * 98 + ".00")),  # the largest results still quantize
        ("money", None, None),
    ],
)
def test_quantize_by_unit(unit_name, value, expected):
    result = quantize(unit(unit_name), value)

    assert result == expected
    if expected is not None:
        assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("unit_name", "value", "shown"),
    [
        ("money", D("1234567.891"), "1,234,567.89"),
        ("money", D("0"), "0.00"),
        ("count", D("12345"), "12,345"),
        ("count", 1_250_000, "1,250,000"),
        ("percent", D("0.1234"), "12.3 %"),
        ("percent", D("0.12345"), "12.3 %"),  # rounded once from the value, not twice
        ("percent", D("0.12350"), "12.4 %"),
        ("percent", D("-0.05"), "-5.0 %"),
        ("percent", D("12.5"), "1,250.0 %"),
        ("percent", D("-0.0001"), "0.0 %"),
        ("ratio", D("3.445"), "3.45×"),
        ("ratio", D("1234.5"), "1,234.50×"),
        ("number", D("12.345"), "12.35"),
        ("money", None, "—"),
        ("percent", None, "—"),
    ],
)
def test_display_by_unit(unit_name, value, shown):
    assert display(unit(unit_name), value) == shown


# --- properties ------------------------------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10**12, places=2)
counts = st.integers(min_value=0, max_value=10**9)


@given(revenue=amounts, spend=amounts)
def test_roas_is_revenue_over_spend_or_no_value(revenue, spend):
    value = evaluate(["roas"], {**SUMS, "revenue": revenue, "spend": spend}, catalogue())["roas"]

    assert value == (revenue / spend if spend > 0 else None)


def sums() -> st.SearchStrategy[dict]:
    def measure(m):
        base = amounts if m.unit == "money" else counts
        return st.one_of(st.none(), st.just(0), base)

    return st.fixed_dictionaries({m.code: measure(m) for m in BASE_MEASURES})


EVERYTHING = catalogue(
    [
        custom("won_per_lead", "opportunity_to_won * sql_to_opportunity * mql_to_sql * lead_to_mql", "percent"),
        custom("roi_squared", "roi ** 2 - roi ** -1", "number"),
        custom("worst_cost", "max(cpl, cost_per_mql, cost_per_sql, cac) - min(cpc, cpm)", "money"),
    ]
)


@given(measures=sums())
def test_evaluating_every_kpi_never_raises(measures):
    values = evaluate(list(EVERYTHING), measures, EVERYTHING)

    for code, value in values.items():
        assert value is None or value.is_finite()
        display(EVERYTHING[code], value)  # and every value can be shown


def test_the_module_exposes_measures_as_kpis_once():
    assert [kpi.code for kpi in MEASURE_KPIS] == [m.code for m in BASE_MEASURES]
    assert {"spend", "cpl", "min", "max", "abs"} <= kpis.RESERVED_CODES
