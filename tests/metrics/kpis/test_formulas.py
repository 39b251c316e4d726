"""The KPI expression language: what it computes, what it refuses, and that it never runs code."""

import ast
import builtins
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from metrics.kpis.formulas import MAX_DEPTH, MAX_LENGTH, Formula, FormulaError, parse

D = Decimal


@pytest.fixture
def no_code_runs(monkeypatch):
    """eval and exec fail loudly; compile may only build syntax trees (ast.parse goes through it)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("formulas must never execute code")

    real_compile = builtins.compile

    def tree_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "formulas may compile to a syntax tree only"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", tree_only_compile)


# --- what it computes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1 + 0.2", D("0.3")),  # Decimal from the written digits, never through float
        ("1_000.50", D("1000.50")),
        ("2 + 3 * 4", D(14)),
        ("(2 + 3) * 4", D(20)),
        ("10 - 4 - 3", D(3)),
        ("1 / 4", D("0.25")),
        ("-2 ** 2", D(-4)),  # as in Python and in maths: the power binds first
        ("2 ** -2", D("0.25")),
        ("(-2) ** 3", D(-8)),
        ("+5 - -5", D(10)),
        ("min(3, 1, 2)", D(1)),
        ("max(3, 1, 2)", D(3)),
        ("abs(-1.50)", D("1.50")),
        ("1 / 3", D("0.3333333333333333333333333333")),  # 28 significant digits
        ("1e99", D("1e99")),
    ],
)
def test_arithmetic_is_exact_decimal(text, expected):
    assert parse(text).evaluate({}) == expected


def test_a_formula_knows_its_text_and_names():
    formula = parse("  (revenue - spend) / spend + min(spend, 0) ")

    assert formula.text == "(revenue - spend) / spend + min(spend, 0)"
    assert formula.names == frozenset({"revenue", "spend"})
    assert formula == parse("(revenue - spend) / spend + min(spend, 0)")
    assert str(formula) == formula.text


def test_names_take_their_values_and_ints_are_welcome():
    formula = parse("(revenue - spend) / spend")

    assert formula.evaluate({"revenue": D("300.00"), "spend": D("100.00")}) == D(2)
    assert formula.evaluate({"revenue": 300, "spend": 100}) == D(2)


@pytest.mark.parametrize(
    "text",
    ["spend + clicks", "spend - clicks", "spend * clicks", "spend / clicks", "clicks / spend", "-(spend + clicks)"],
)
@pytest.mark.parametrize("missing", ["spend", "clicks"])
def test_any_operand_without_a_value_gives_no_value(text, missing):
    values = {"spend": D("10"), "clicks": D("5"), missing: None}

    assert parse(text).evaluate(values) is None


@pytest.mark.parametrize("text", ["min(spend, clicks)", "max(spend, 1)", "abs(spend)", "spend ** 2", "spend * 0"])
def test_functions_and_powers_propagate_no_value_too(text):
    assert parse(text).evaluate({"spend": None, "clicks": D(1)}) is None


@pytest.mark.parametrize("text", ["1/0", "0/0", "spend / clicks", "spend / (clicks - clicks)", "0 ** -1", "0 ** 0"])
def test_division_by_zero_is_no_value_not_an_error(text):
    assert parse(text).evaluate({"spend": D(5), "clicks": D(0)}) is None


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("1e99 * 1e99", {}),
        ("spend * spend", {"spend": D("1e60")}),
        ("spend ** 4", {"spend": D("1e30")}),
        ("spend", {"spend": D("1e200")}),  # out of bounds even untouched
        ("spend", {"spend": D("NaN")}),
        ("spend + 1", {"spend": D("Infinity")}),
    ],
)
def test_results_out_of_bounds_are_no_value(text, values):
    assert parse(text).evaluate(values) is None


def test_tiny_results_round_towards_zero_quietly():
    assert parse("1e-90 * 1e-90").evaluate({}) == 0


def test_zero_is_never_negative():
    result = parse("-spend").evaluate({"spend": D("0.00")})

    assert result == 0
    assert not result.is_signed()


def test_a_name_without_a_value_is_the_callers_mistake():
    with pytest.raises(FormulaError, match="No value was given for leads"):
        parse("spend / leads").evaluate({"spend": D(1)})


def test_floats_are_refused_at_the_boundary():
    with pytest.raises(TypeError, match="not float"):
        parse("spend * 2").evaluate({"spend": 0.1})


# --- what it refuses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "found a call to __import__ at column 1"),
        ("__import__('os').system('rm -rf /')", "found an attribute access at column 1"),
        ("().__class__", "found an attribute access at column 1"),
        ("().__class__.__bases__[0].__subclasses__()", "found an attribute access at column 1"),
        ("1 + spend.real", "found an attribute access at column 5"),
        ("open('x')", "found a call to open at column 1"),
        ("eval('1')", "found a call to eval at column 1"),
        ("round(spend)", "found a call to round at column 1"),
        ("lambda: 1", "found a lambda at column 1"),
        ("(lambda: 1)()", "found a lambda at column 2"),
        ("(1)(2)", "found a call at column 1"),
        ("'spend'", "found a text string at column 1"),
        ("b'x'", "found a text string"),
        ("f'{spend}'", "found a text string"),
        ("spend[0]", "found an index or slice"),
        ("[x for x in spend]", "found a comprehension"),
        ("spend > 0", "found a comparison"),
        ("spend and clicks", "found and/or"),
        ("spend if clicks else leads", "found an if/else expression"),
        ("(x := 1)", "found an assignment (:=) at column 2"),
        ("spend, clicks", "found a comma-separated list"),
        ("[spend]", "found a list"),
        ("{spend}", "found a set"),
        ("{1: spend}", "found a dictionary"),
        ("spend % 2", "found the operator % at column 7"),
        ("spend // 2", "found the operator // at column 7"),
        ("spend @ clicks", "found the operator @"),
        ("spend ^ 2", "found the operator ^"),
        ("not spend", "found the operator not"),
        ("~spend", "found the operator ~"),
        ("True", "found the word True"),
        ("None", "found the word None"),
        ("...", "found the constant ..."),
        ("1j", "found an imaginary number"),
        ("_spend", "names cannot start with _"),
        ("__builtins__", "names cannot start with _"),
        ("Spend", "found the name Spend at column 1; names use lowercase letters"),
        ("ｓpend", "found the name ｓpend"),  # a look-alike letter Python would quietly fold
        ("spénd", "found the name spénd"),
        ("min(*spend)", "found an unpacking (*) at column 5"),
    ],
)
def test_anything_outside_the_whitelist_is_refused_with_a_sentence(text, message, no_code_runs):
    with pytest.raises(FormulaError) as refused:
        parse(text)

    assert message in str(refused.value)


def test_the_refusal_names_what_is_allowed():
    with pytest.raises(FormulaError) as refused:
        parse("1 + spend.real")

    assert str(refused.value) == (
        "Only + − × ÷, parentheses, numbers, min/max/abs and measure or KPI names are allowed "
        "(found an attribute access at column 5)."
    )


def test_the_column_is_counted_in_characters_and_lines():
    with pytest.raises(FormulaError, match=r"found an attribute access at line 3, column 2"):
        parse("(leads +\n mqls +\n é.real)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2**99999", r"A power \(\*\*\) needs a whole number from -4 to 4"),
        ("spend**spend", r"A power \(\*\*\) needs a whole number"),
        ("spend ** 5", "from -4 to 4"),
        ("spend ** -5", "from -4 to 4"),
        ("spend ** 0.5", "whole number"),
        ("spend ** (1 + 1)", "whole number"),
        ("spend ** True", "whole number"),
        ("9 ** 4 ** 4", "whole number"),  # right-associative: the exponent is 4 ** 4, not a literal
        ("9e9999", "The number 9e9999 at column 1 is out of range"),
        ("1e-200", "is out of range"),
        ("1" * 101, "is out of range"),
    ],
)
def test_powers_and_numbers_are_bounded(text, message, no_code_runs):
    with pytest.raises(FormulaError, match=message):
        parse(text)


@pytest.mark.parametrize("text", ["spend ** 4", "spend ** -4", "spend ** +2", "(spend ** 4) ** 4"])
def test_small_whole_powers_are_fine(text):
    assert parse(text).evaluate({"spend": D(2)}) > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min", r"min is a function; give it values in parentheses"),
        ("min(spend)", r"min\(\) needs at least two values"),
        ("max()", r"max\(\) needs at least two values"),
        ("abs(spend, clicks)", r"abs\(\) takes exactly one value"),
        ("min(spend, clicks, key=abs)", r"min\(\) takes plain values, not named ones"),
        ("max(spend, **{'a': 1})", r"max\(\) takes plain values"),
    ],
)
def test_functions_are_called_plainly(text, message):
    with pytest.raises(FormulaError, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The formula is empty."),
        ("   ", "The formula is empty."),
        ("spend +", "could not be read"),
        ("(spend", r"could not be read \('\(' was never closed, at column 1\)"),
        ("spend clicks", "could not be read"),
        ("spend; clicks", "could not be read"),
        ("spend\x00", "could not be read"),
        ("spend ÷ leads", r"Write ÷ as / \(at column 7\)"),
        ("spend × 2", "Write × as *"),
        ("revenue − spend", "Write − as -"),
        ("spend # the cost", r"Comments \(#\) are not allowed"),
    ],
)
def test_unreadable_text_gets_a_clear_message(text, message):
    with pytest.raises(FormulaError, match=message):
        parse(text)


def test_text_is_limited_in_length():
    with pytest.raises(FormulaError, match=f"the limit is {MAX_LENGTH}"):
        parse("1" + " " * MAX_LENGTH + "+ 1")


def test_the_length_limit_is_exact():
    at_limit = "s" * MAX_LENGTH
    assert parse(at_limit).names == {at_limit}
    with pytest.raises(FormulaError, match="501 characters long; the limit is 500"):
        parse(at_limit + "s")


def test_the_number_of_parts_is_limited():
    with pytest.raises(FormulaError, match="more than 200 parts"):
        parse("+".join(["spend"] * 60))


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_DEPTH + 1) + "spend" + ")" * (MAX_DEPTH + 1),
        "-" * (MAX_DEPTH + 1) + "spend",
        "abs(" * (MAX_DEPTH + 1) + "spend" + ")" * (MAX_DEPTH + 1),
        "+".join(["s"] * (MAX_DEPTH + 1)),  # the parser nests a chain of sums one level per term
        "(" * 240 + "1" + ")" * 240,  # past what Python's own parser would take
        "-" * 90 + "1",
    ],
)
def test_nesting_is_limited(text, no_code_runs):
    with pytest.raises(FormulaError, match="nested too deeply"):
        parse(text)


def test_nesting_just_within_the_limit_is_fine():
    formula = parse("(" * MAX_DEPTH + "spend" + ")" * MAX_DEPTH)

    assert formula.evaluate({"spend": D(3)}) == 3


def test_nothing_is_executed_whatever_is_written(tmp_path, no_code_runs):
    target = tmp_path / "pwned"
    hostile = [
        f"open('{target}', 'w')",
        f"__import__('pathlib').Path('{target}').touch()",
        f"[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Path'][0]('{target}').touch()",
    ]
    for text in hostile:
        with pytest.raises(FormulaError):
            parse(text)

    assert not target.exists()


# --- properties --------------------------------------------------------------------------------------------

NAMES = ("spend", "clicks", "leads", "revenue")


def formulas() -> st.SearchStrategy[str]:
    """Random formulas in the language's grammar."""
    leaves = st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(["0", "1", "2.5", "1000", "0.001", "1e50", "1e-50"]),
    )

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda x: f"-{x}"),
            st.tuples(inner, st.integers(-4, 4)).map(lambda t: f"({t[0]}) ** {t[1]}"),
            st.tuples(st.sampled_from(["min", "max"]), st.lists(inner, min_size=2, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"
            ),
            inner.map(lambda x: f"abs({x})"),
        )

    return st.recursive(leaves, extend, max_leaves=12)


def values() -> st.SearchStrategy[Decimal | None]:
    return st.one_of(
        st.none(),
        st.just(D(0)),
        st.decimals(min_value=-(10**20), max_value=10**20, allow_nan=False, allow_infinity=False, places=2),
        st.decimals(allow_nan=False, allow_infinity=False),  # any exponent, far beyond the bounds
    )


@given(text=formulas(), data=st.fixed_dictionaries({name: values() for name in NAMES}))
def test_evaluating_a_valid_formula_never_raises(text, data):
    try:
        formula = parse(text)
    except FormulaError as error:
        assume("nested too deeply" not in str(error) and "parts" not in str(error))
        raise

    result = formula.evaluate(data)

    assert result is None or (isinstance(result, Decimal) and result.is_finite() and abs(result) < D("1e100"))


@given(
    a=st.decimals(min_value=0, max_value=10**12, places=2),
    b=st.decimals(min_value=0, max_value=10**12, places=2),
)
def test_a_quotient_is_the_decimal_quotient_or_no_value(a, b):
    result = parse("a / b").evaluate({"a": a, "b": b})

    assert result == (a / b if b else None)


def test_formula_is_immutable():
    formula = parse("spend")

    with pytest.raises(AttributeError):
        formula.text = "clicks"  # type: ignore[misc]
    assert isinstance(formula, Formula)
