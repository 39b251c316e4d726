"""KPI formulas: a small, safe expression language over measure and KPI names.

Python's parser only builds a syntax tree (``ast.parse``); nothing is compiled to code or executed.
The tree is checked against a whitelist — numbers, names, + - * /, unary minus, parentheses,
min/max/abs and small whole-number powers — and turned into our own nodes, which evaluate in
Decimal under a bounded context. A formula that divides by zero, overflows or meets a missing
value has no value (None, shown as "—"), never an error (ARCHITECTURE.md "Money, time and numbers").
"""

import ast
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

MAX_LENGTH = 500
MAX_NODES = 200
MAX_DEPTH = 30
MAX_POWER = 4
# Results and literals stay below 1e100 in size: far beyond any real KPI, small enough that a
# result always fits a database column once quantized, and that x ** 4 of a hostile x stays cheap.
MAX_EXPONENT = 99

FUNCTIONS = frozenset({"min", "max", "abs"})
NAME = re.compile(r"[a-z][a-z0-9_]*")

ALLOWED = "Only + − × ÷, parentheses, numbers, min/max/abs and measure or KPI names are allowed"

# One context for every evaluation. Overflow, invalid operations and division by zero raise inside
# the evaluation and become "no value"; underflow quietly rounds towards zero.
CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emax=MAX_EXPONENT,
    Emin=-MAX_EXPONENT,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


class FormulaError(ValueError):
    """A formula that cannot be accepted or evaluated; the message is written for an ops admin."""


# --- what the evaluator runs: our own nodes, immutable, built only by parse() -----------------------

Value = Decimal | None


@dataclass(frozen=True, slots=True)
class _Number:
    value: Decimal

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        return self.value


@dataclass(frozen=True, slots=True)
class _Name:
    name: str

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        return values[self.name]


@dataclass(frozen=True, slots=True)
class _Negate:
    operand: "_Node"

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        value = self.operand.evaluate(values)
        return None if value is None else -value


_ARITHMETIC: dict[type[ast.operator], Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


@dataclass(frozen=True, slots=True)
class _Arithmetic:
    apply: Callable[[Decimal, Decimal], Decimal]
    left: "_Node"
    right: "_Node"

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        left = self.left.evaluate(values)
        if left is None:
            return None
        right = self.right.evaluate(values)
        if right is None:
            return None
        if self.apply is operator.truediv and right.is_zero():
            return None  # a ratio with a zero denominator has no value, never 0 and never an error
        return self.apply(left, right)


@dataclass(frozen=True, slots=True)
class _Power:
    base: "_Node"
    exponent: int

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        base = self.base.evaluate(values)
        # 0 ** -n divides by zero and 0 ** 0 is undefined: the context traps both, evaluate() says None.
        return None if base is None else base**self.exponent


_FUNCTIONS: dict[str, Callable[..., Decimal]] = {"min": min, "max": max, "abs": abs}


@dataclass(frozen=True, slots=True)
class _Call:
    function: Callable[..., Decimal]
    arguments: tuple["_Node", ...]

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        arguments = [argument.evaluate(values) for argument in self.arguments]
        if any(argument is None for argument in arguments):
            return None
        return self.function(*arguments)


_Node = _Number | _Name | _Negate | _Arithmetic | _Power | _Call


@dataclass(frozen=True)
class Formula:
    """A checked formula. Build it with parse(); evaluate it as often as needed."""

    text: str
    names: frozenset[str]
    _root: _Node = field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, Decimal | int | None]) -> Decimal | None:
        """The formula's value over ``values`` (one per name; None is "no value").

        None when any value it uses is None, on division by zero and when the result leaves the
        bounded range. A name without an entry in ``values`` is the caller's mistake: FormulaError.
        """
        missing = self.names - values.keys()
        if missing:
            raise FormulaError(f"No value was given for {', '.join(sorted(missing))} in “{self.text}”.")
        inputs = {name: _as_input(name, values[name]) for name in self.names}
        with localcontext(CONTEXT):
            try:
                result = self._root.evaluate(inputs)
                if result is None:
                    return None
                result = +result  # round to the context: a lone name or literal obeys the same bounds
            except DecimalException:
                return None
        if not result.is_finite():
            return None
        return result.copy_abs() if result.is_zero() else result  # never "-0"

    def __str__(self) -> str:
        return self.text


def _as_input(name: str, value: object) -> Value:
    if value is None or (isinstance(value, Decimal) and not value.is_finite()):
        return None  # NaN or infinity from upstream is no value, not a number to compute with
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"The value of {name} must be a Decimal, an int or None, not {type(value).__name__}.")


# --- parsing: text → Python syntax tree → whitelist check → our nodes ----------------------------------

_DESCRIPTIONS: dict[type[ast.AST], str] = {
    ast.Attribute: "an attribute access",
    ast.Subscript: "an index or slice ([…])",
    ast.Slice: "a slice",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "an if/else expression",
    ast.Tuple: "a comma-separated list",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dictionary",
    ast.JoinedStr: "a text string",
    ast.FormattedValue: "a text string",
    ast.NamedExpr: "an assignment (:=)",
    ast.Starred: "an unpacking (*)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}

_OPERATORS: dict[type[ast.AST], str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}

# Signs an admin may copy from a tooltip ("CPL = spend ÷ leads"); the formula itself wants ASCII.
_TYPOGRAPHIC = {"÷": "/", "×": "*", "−": "-", "–": "-"}


def parse(text: str) -> Formula:
    """Check ``text`` and return its Formula; FormulaError says what is wrong and where."""
    text = text.strip()  # Python reads leading spaces as an indent
    if not text:
        raise FormulaError("The formula is empty.")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"The formula is {len(text)} characters long; the limit is {MAX_LENGTH}.")
    _check_characters(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        where = ""
        if error.offset:
            where = (
                f", at line {error.lineno}, column {error.offset}" if "\n" in text else f", at column {error.offset}"
            )
        raise FormulaError(f"The formula could not be read ({error.msg}{where}).") from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("The formula could not be read; simplify it or split it into smaller KPIs.") from None
    _check_size(tree)
    names: set[str] = set()
    root = _Converter(text, names).convert(tree.body)
    return Formula(text=text, names=frozenset(names), _root=root)


def _check_characters(text: str) -> None:
    for index, character in enumerate(text):
        if character in _TYPOGRAPHIC:
            raise FormulaError(f"Write {character} as {_TYPOGRAPHIC[character]} (at column {index + 1}).")
        if character == "#":
            raise FormulaError(f"Comments (#) are not allowed in a formula (at column {index + 1}).")
    depth = 0
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth > MAX_DEPTH:
            raise _too_deep()


def _check_size(tree: ast.Expression) -> None:
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise FormulaError(
            f"The formula is too long to check (more than {MAX_NODES} parts); split it into smaller KPIs."
        )
    # Depth counts nested expressions (a - b - c is three: the parser nests a - b inside), walked
    # without recursion so that a hostile tree cannot exhaust the stack before the limit is found.
    stack = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))


def _too_deep() -> FormulaError:
    return FormulaError(f"The formula is nested too deeply (more than {MAX_DEPTH} levels); split it into smaller KPIs.")


class _Converter:
    """Walks the syntax tree top-down; anything not explicitly accepted is refused."""

    def __init__(self, text: str, names: set[str]):
        self.text = text
        self.lines = text.split("\n")
        self.names = names

    def convert(self, node: ast.expr) -> _Node:
        match node:
            case ast.Constant(value=bool() | None):
                raise self.refuse(f"the word {node.value}", node)
            case ast.Constant(value=int() | float()):
                return self.number(node)
            case ast.Constant(value=complex()):
                raise self.refuse("an imaginary number", node)
            case ast.Constant(value=str() | bytes()):
                raise self.refuse("a text string", node)
            case ast.Constant():
                raise self.refuse(f"the constant {self.segment(node)}", node)
            case ast.Name():
                return self.name(node)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return _Negate(self.convert(operand))
            case ast.UnaryOp(op=ast.UAdd(), operand=operand):
                return self.convert(operand)
            case ast.BinOp(op=ast.Pow()):
                return self.power(node)
            case ast.BinOp(op=op, left=left, right=right) if type(op) in _ARITHMETIC:
                return _Arithmetic(_ARITHMETIC[type(op)], self.convert(left), self.convert(right))
            case ast.BinOp(op=op, left=left):
                raise self.refuse(f"the operator {_OPERATORS.get(type(op), type(op).__name__)}", node, after=left)
            case ast.UnaryOp(op=op):
                raise self.refuse(f"the operator {_OPERATORS.get(type(op), type(op).__name__)}", node)
            case ast.Call():
                return self.call(node)
        raise self.refuse(_DESCRIPTIONS.get(type(node), f"Python syntax ({type(node).__name__})"), node)

    def number(self, node: ast.Constant) -> _Number:
        written = self.segment(node)
        # From the text as written, never through float: 0.1 stays 0.1 and 9e9999 is not "inf".
        # An int is exact as it is (and covers 0x1f, which Decimal() would not read).
        value = Decimal(node.value) if isinstance(node.value, int) else Decimal(written.replace("_", ""))
        if not value.is_zero() and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
            raise FormulaError(
                f"The number {written} at {self.where(node)} is out of range; numbers in a formula lie "
                f"between 1e-{MAX_EXPONENT} and 1e{MAX_EXPONENT} in size."
            )
        with localcontext(CONTEXT):
            return _Number(+value)  # 28 significant digits, as every result

    def name(self, node: ast.Name) -> _Name:
        written = self.segment(node)
        if node.id.startswith("_"):
            raise self.refuse(f"the name {written}", node, hint="names cannot start with _")
        # Compare with the text too: Python folds look-alike letters (ｓpend) into plain ones.
        if written != node.id or not NAME.fullmatch(node.id):
            raise self.refuse(f"the name {written}", node, hint="names use lowercase letters, digits and _")
        if node.id in FUNCTIONS:
            raise FormulaError(
                f"{node.id} is a function; give it values in parentheses, e.g. {node.id}(cpl, 100) "
                f"(at {self.where(node)})."
            )
        self.names.add(node.id)
        return _Name(node.id)

    def power(self, node: ast.BinOp) -> _Power:
        exponent, sign = node.right, 1
        if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub | ast.UAdd):
            sign = -1 if isinstance(exponent.op, ast.USub) else 1
            exponent = exponent.operand
        if (
            not isinstance(exponent, ast.Constant)
            or type(exponent.value) is not int
            or not -MAX_POWER <= sign * exponent.value <= MAX_POWER
        ):
            raise FormulaError(
                f"A power (**) needs a whole number from -{MAX_POWER} to {MAX_POWER} written after it, "
                f"e.g. spend ** 2 (at {self.where(node, after=node.left)})."
            )
        return _Power(self.convert(node.left), sign * exponent.value)

    def call(self, node: ast.Call) -> _Call:
        if not isinstance(node.func, ast.Name):
            self.convert(node.func)  # refuses what is being called (an attribute, a lambda …) if it can
            raise self.refuse("a call", node)
        if node.func.id not in FUNCTIONS:
            raise self.refuse(f"a call to {self.segment(node.func)}", node)
        function = node.func.id
        if node.keywords:
            raise FormulaError(f"{function}() takes plain values, not named ones like key=… (at {self.where(node)}).")
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.refuse(_DESCRIPTIONS[ast.Starred], argument)
        if function == "abs" and len(node.args) != 1:
            raise FormulaError(f"abs() takes exactly one value, e.g. abs(variance_to_budget) (at {self.where(node)}).")
        if function != "abs" and len(node.args) < 2:
            raise FormulaError(
                f"{function}() needs at least two values, e.g. {function}(cpl, 100) (at {self.where(node)})."
            )
        return _Call(_FUNCTIONS[function], tuple(self.convert(argument) for argument in node.args))

    def refuse(self, what: str, node: ast.AST, *, after: ast.AST | None = None, hint: str = "") -> FormulaError:
        hint = f"; {hint}" if hint else ""
        return FormulaError(f"{ALLOWED} (found {what} at {self.where(node, after=after)}{hint}).")

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def where(self, node: ast.AST, *, after: ast.AST | None = None) -> str:
        """Line and column of ``node``, or of an operator: the first sign after its left operand."""
        if after is None:
            lineno, column = node.lineno, self.column(node.lineno, node.col_offset)
        else:
            lineno, column = after.end_lineno, self.column(after.end_lineno, after.end_col_offset)
            while lineno <= len(self.lines):
                rest = self.lines[lineno - 1][column - 1 :]
                skipped = len(rest) - len(rest.lstrip(" \t\r\\)"))
                if skipped < len(rest):
                    column += skipped
                    break
                lineno, column = lineno + 1, 1
        return f"line {lineno}, column {column}" if len(self.lines) > 1 else f"column {column}"

    def column(self, lineno: int, byte_offset: int) -> int:
        # The parser counts columns in UTF-8 bytes; people count characters.
        return len(self.lines[lineno - 1].encode()[:byte_offset].decode(errors="replace")) + 1
