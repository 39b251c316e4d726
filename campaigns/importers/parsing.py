"""Reading one cell: header normalisation (``normalise_header``, ``find_column``,
``find_measures``), numbers and money (``parse_number``: from the cell's text into ``Decimal``,
never through float), dates (``parse_date``, day or month first) and currencies."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from campaigns.importers.shapes import EARLIEST, LATEST

# --- header normalisation -----------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise_header(value) -> str:
    """``"Amount spent (USD)"`` → ``"amount spent usd"``, ``"CampaignName"`` → ``"campaign name"``,
    ``"Impr."`` → ``"impr"``, ``"cost_micros"`` → ``"cost micros"``."""
    text = "" if value is None else str(value)
    text = _CAMEL.sub(" ", text.replace("\ufeff", "").strip())
    return _NOT_WORD.sub(" ", text.lower()).strip()


def find_column(normalised: list[str], *names: str) -> int | None:
    """The index of the first column whose normalised name is one of ``names`` (in their order)."""
    for name in names:
        if name in normalised:
            return normalised.index(name)
    return None


def find_measures(normalised: list[str], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    found = {}
    for measure, names in synonyms.items():
        index = find_column(normalised, *names)
        if index is not None:
            found[measure] = index
    return found


# --- numbers, money and dates -------------------------------------------------------------------

_EMPTY = {"", "-", "--", "—", "n/a", "na", "null", "none"}
_SPACES = str.maketrans("", "", " \u00a0\u202f'’")
_NUMERIC_LEFT = re.compile(r"[^0-9.,\-()]")
# Dollars with thousands separators, which ``_parse_formatted`` reads the same way, read faster: a
# leading "1,234" group (never "0,123", a decimal comma) and a decimal point.
_DOLLARS = re.compile(r"\$?([1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)")


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return str(value).strip()


def parse_number(value) -> Decimal | None:
    """A number from a cell: ``1234.5``, ``"1,234.50"``, ``"$1,234.50"``, ``"€1.234,50"``,
    ``"(12.00)"`` (negative), ``"144."``. ``None`` for an empty cell or the platforms' ``--``.
    Raises ``ValueError`` for anything else."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text[0] == "$" or "," in text:  # not Decimal's syntax: skip the costly exception
            match = _DOLLARS.fullmatch(text)  # "$1,234.50", "12,345": what platform exports write
            if match:
                return Decimal(match[1].replace(",", ""))
            return _parse_formatted(text)
        try:
            number = Decimal(text)  # the common case: plain digits
        except InvalidOperation:
            return _parse_formatted(text)
        if not number.is_finite():
            raise ValueError(text)
        return number
    if value is None:
        return None
    if isinstance(value, bool | datetime.date):
        raise ValueError(str(value))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(str(value))
        return Decimal(repr(value))  # the shortest text that round-trips: what the cell holds
    return parse_number(str(value))


def _parse_formatted(text: str) -> Decimal | None:
    if text.lower() in _EMPTY:
        return None
    negative = False
    body = text.translate(_SPACES)
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1]
    # Currency symbols and codes ("$", "US$", "EUR", "kr") around the digits.
    body = body.strip("$€£¥₹₩₽¤ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    if body.startswith("-"):
        negative, body = not negative, body[1:]
    elif body.endswith("-"):
        negative, body = not negative, body[:-1]
    body = body.strip("$€£¥₹₩₽¤ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    if not body or _NUMERIC_LEFT.search(body) or "-" in body or "(" in body or ")" in body:
        raise ValueError(text)
    if "," in body and "." in body:
        # Both separators: the last one is the decimal point ("1,234.50" or "1.234,50").
        decimal_comma = body.rfind(",") > body.rfind(".")
        body = body.replace(".", "").replace(",", ".") if decimal_comma else body.replace(",", "")
    elif "," in body:
        groups = body.split(",")
        if len(groups) > 2 or (len(groups[-1]) == 3 and groups[0] not in ("", "0")):
            body = body.replace(",", "")  # thousands: "1,234" or "1,234,567"
        else:
            body = body.replace(",", ".")  # a decimal comma: "12,5"
    elif body.count(".") > 1:
        body = body.replace(".", "")  # "1.234.567" thousands
    try:
        number = Decimal(body)
    except InvalidOperation:
        raise ValueError(text) from None
    return -number if negative else number


def show(value) -> str:
    """A cell as the user typed it, for error messages."""
    text = cell_text(value)
    return text if len(text) <= 40 else text[:37] + "…"


_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_NUMERIC_DATE = re.compile(r"^(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})(?:[ T].*)?$")
_NAMED_DATE = re.compile(
    r"^(?:[a-z]+,?\s+)?(?:(\d{1,2})[\s\-]+([a-z]+)\.?,?[\s\-]+(\d{4})|([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4}))$"
)


class DateError(ValueError):
    pass


def parse_date(value, *, month_first: bool | None) -> datetime.date:
    """A day from a cell: ISO ``2026-01-05`` (with or without a time), an XLSX date, ``Jan 5, 2026``,
    ``5 Jan 2026``, ``05.01.2026`` (day first) and slash dates. ``month_first`` says how to read an
    ambiguous slash date such as ``01/05/2026``: US exports say True; ``None`` refuses to guess."""
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    else:
        text = cell_text(value)
        if not text:
            raise DateError("the date is missing")
        day = _parse_date_text(text, month_first)
    if not EARLIEST <= day <= LATEST:
        raise DateError(f"the date {day:%Y-%m-%d} is outside {EARLIEST.year}–{LATEST.year}")
    return day


def _parse_date_text(text: str, month_first: bool | None) -> datetime.date:
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        try:
            return datetime.date.fromisoformat(text[:10])
        except ValueError:
            raise DateError(f"{show(text)!r} is not a valid date") from None
    match = _NUMERIC_DATE.match(text)
    if match:
        first, sep, second, third = match.groups()
        a, b, c = int(first), int(second), int(third)
        if len(first) == 4:  # 2026/01/05
            year, month, day = a, b, c
        else:
            year = c + 2000 if len(third) <= 2 else c
            if len(third) == 3:
                raise DateError(f"{show(text)!r} is not a valid date")
            if sep == "." or a > 12:
                day, month = a, b
            elif b > 12:
                month, day = a, b
            elif month_first is None:
                raise DateError(f"{show(text)!r} is ambiguous (day or month first?); write dates as YYYY-MM-DD")
            elif month_first:
                month, day = a, b
            else:
                day, month = a, b
        try:
            return datetime.date(year, month, day)
        except ValueError:
            raise DateError(f"{show(text)!r} is not a valid date") from None
    match = _NAMED_DATE.match(text.lower())
    if match:
        d1, m1, y1, m2, d2, y2 = match.groups()
        month = _MONTHS.get(m1 or m2)
        if month:
            try:
                return datetime.date(int(y1 or y2), month, int(d1 or d2))
            except ValueError:
                pass
    raise DateError(f"{show(text)!r} is not a date")


def parse_currency(value) -> str | None:
    text = cell_text(value).upper()
    if not text:
        return None
    if len(text) != 3 or not text.isalpha():
        raise ValueError(text)
    return text
