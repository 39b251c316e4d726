"""Turning rows into ``ParsedRow``: where an importer finds each field (``Layout``), the
reference row-by-row reading (``RowParser``, ``parse_rows``: memory never holds more than one row of
the file) and what an import does with each column (``column_report``)."""

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from campaigns.importers.parsing import cell_text, parse_currency, parse_date, parse_number, show
from campaigns.importers.shapes import MAX_COUNT, MAX_SMALL_COUNT, MONEY_MEASURES, ParsedRow, RowError
from campaigns.importers.sheets import Table, TableError
from mops.money import MONEY_MAX, MONEY_MAX_TEXT


def column_names(header: list) -> list[str]:
    """The header's cells as names to show (an unnamed column: "column C")."""
    # openpyxl takes ~0.2 s to import: loaded only when a workbook is read or named.
    from openpyxl.utils import get_column_letter

    names = []
    for index, value in enumerate(header):
        text = cell_text(value)
        names.append(text if text else f"column {get_column_letter(index + 1)}")
    return names


def layout_columns(layout: "Layout") -> dict[int, str]:
    """Column index → the field it is read into, for every column ``layout`` reads."""
    read: dict[int, str] = {}
    for index in layout.ref:
        read.setdefault(index, "campaign")
    read.setdefault(layout.date, "date")
    if layout.end_date is not None:
        read.setdefault(layout.end_date, "end date")
    if layout.spend is not None:
        read.setdefault(layout.spend, "spend")
    if layout.currency is not None:
        read.setdefault(layout.currency, "currency")
    for measure, index in layout.measures.items():
        read.setdefault(index, measure.replace("_", " "))
    for index in layout.breakdown:
        read.setdefault(index, "segment")
    if layout.channel is not None:
        read.setdefault(layout.channel, "channel")
    for index, what in layout.also_reads.items():
        read.setdefault(index, what)
    return read


def column_report(header: list, layout: "Layout") -> list[dict]:
    """What an import does with each column of the header, in order: ``{"column": "Leads",
    "field": "leads"}``, ``"field": None`` for a column it ignores. Unnamed empty columns are left
    out (a sheet's trailing blanks)."""
    read = layout_columns(layout)
    names = column_names(header)
    return [
        {"column": names[index], "field": read.get(index)}
        for index in range(len(header))
        if index in read or cell_text(header[index])
    ]


# --- turning rows into ParsedRow ----------------------------------------------------------------


@dataclass
class Layout:
    """Where an importer finds each field in a row (column indexes into the header)."""

    ref: list[int]  # campaign columns, the first non-empty one names the campaign
    date: int
    spend: int | None = None
    spend_scale: Decimal | None = None  # e.g. 1e-6 for cost in micros
    currency: int | None = None  # a currency column …
    currency_fixed: str | None = None  # … or one currency for the whole file (from a header)
    measures: dict[str, int] = field(default_factory=dict)
    breakdown: list[int] = field(default_factory=list)  # segment columns that split a campaign-day
    channel: int | None = None
    end_date: int | None = None  # a row must cover one day: this column must equal ``date``
    month_first: bool | None = True
    ref_in_breakdown: bool = True  # platform rows of two refs mapped to one campaign add up
    # A format's own rule for a row: may adjust it; returns an error message or None.
    check: Callable[[list, ParsedRow], str | None] | None = None
    # Columns a format's own rule reads (index → what for), besides the fields above.
    also_reads: dict[int, str] = field(default_factory=dict)
    # The same rule for a block of rows (``columns.parse_blocks``): ``check_columns(column, parsed,
    # read)`` gets the block's cells of a column by index, the parsed "spend" and "measures"
    # columns to adjust in place, and ``read(cells, fn, dtype)`` (``fn`` once per distinct cell);
    # it returns a mask of the rows the row rule must see (their message), or None. Without it,
    # every row of a format with a ``check`` is read row by row.
    check_columns: Callable | None = None

    @property
    def has_breakdown(self) -> bool:
        return bool(self.breakdown) or self.ref_in_breakdown


_TOTAL = re.compile(r"^(grand\s+)?totals?\b", re.IGNORECASE)


def _skippable(cells: list, layout: Layout) -> bool:
    """Blank rows, and the summary rows platforms add ("Total: Account", "©2026 Microsoft …")."""
    first = cells[0] if cells else None
    if first is None or (isinstance(first, str) and not first.strip()):
        first = next((c for c in cells if cell_text(c)), None)
        if first is None:
            return True
    if isinstance(first, str) and first.lstrip()[:1] in _SUMMARY_INITIALS:
        text = first.strip()
        if text.startswith("©") or text.lower().startswith("copyright"):
            return True
        if _TOTAL.match(text):
            date_cell = cells[layout.date] if layout.date < len(cells) else None
            try:
                parse_date(date_cell, month_first=layout.month_first)
            except ValueError:
                return True
    return False


_SUMMARY_INITIALS = frozenset("©TtGgCc")


def cell(cells: list, index: int | None):
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _amount(value, what: str, errors: list[str], *, scale: Decimal | None = None, bound: Decimal | int | None = None):
    """A cell's number (times ``scale``), or None for an empty cell; a message in ``errors`` for a
    cell that is not a number, is negative or is past ``bound`` (money: ``MONEY_MAX``)."""
    try:
        number = parse_number(value)
    except ValueError:
        errors.append(f"{what} {show(value)!r} is not a number")
        return None
    if number is None:
        return None
    if scale is not None:
        number *= scale
    if number < 0:
        errors.append(f"{what} {show(value)} is negative")
        return None
    if bound is None:
        bound = MONEY_MAX
    if number > bound:
        limit = MONEY_MAX_TEXT if bound == MONEY_MAX else f"{bound:,}"
        errors.append(f"{what} {show(value)} is too large: the most it may be is {limit}")
        return None
    return number


def count_bound(measure: str) -> int | None:
    """The largest value of a count measure; None for money (bounded by ``MONEY_MAX``)."""
    if measure in MONEY_MEASURES:
        return None
    return MAX_COUNT.get(measure, MAX_SMALL_COUNT + 1) - 1


class _Dates:
    """parse_date with a memory: an export repeats the same few hundred dates in every row."""

    def __init__(self, month_first: bool | None):
        self.month_first = month_first
        self.known: dict[str, datetime.date] = {}

    def __call__(self, value) -> datetime.date:
        if isinstance(value, str):
            day = self.known.get(value)
            if day is None:
                day = parse_date(value, month_first=self.month_first)
                if len(self.known) < 50_000:
                    self.known[value] = day
            return day
        return parse_date(value, month_first=self.month_first)


ENCODING_ERROR = (
    "the row holds bytes that are not valid text in the file's encoding; "
    "save the file as UTF-8 (Excel: “CSV UTF-8”) and upload it again"
)


class RowParser:
    """Reads one data row: ``parser(number, cells)`` is a ``ParsedRow``, a ``RowError`` naming every
    problem in the row, or None for a row that is no data (blank, "Total: …", "© …").

    The reference for what a row means: ``columns.parse_blocks`` reads most rows column-wise and
    hands every row it is not sure of to this."""

    def __init__(self, table: Table, layout: Layout):
        self.layout = layout
        self.measures = [(m, i, m.replace("_", " "), count_bound(m)) for m, i in layout.measures.items()]
        self.dates = _Dates(layout.month_first)
        self.is_text = table.kind == "csv"

    def __call__(self, number: int, cells: list) -> ParsedRow | RowError | None:
        layout, dates = self.layout, self.dates
        if _skippable(cells, layout):
            return None
        if self.is_text and "\ufffd" in "".join(cells):
            return RowError(number, ENCODING_ERROR)
        errors: list[str] = []
        width = len(cells)
        ref = ""
        for index in layout.ref:
            ref = cell_text(cells[index]) if index < width else ""
            if ref:
                break
        if not ref:
            errors.append("the campaign is missing")
        day = None
        try:
            day = dates(cells[layout.date] if layout.date < width else None)
        except ValueError as exc:
            errors.append(str(exc))
        if day is not None and layout.end_date is not None:
            end_cell = cell(cells, layout.end_date)
            try:
                end = dates(end_cell) if cell_text(end_cell) else day
            except ValueError as exc:
                errors.append(str(exc))
            else:
                if end != day:
                    errors.append(
                        f"the row covers {day:%Y-%m-%d} to {end:%Y-%m-%d}; export one row per day (breakdown by day)"
                    )
        spend = None
        if layout.spend is not None and layout.spend < width:
            spend = _amount(cells[layout.spend], "spend", errors, scale=layout.spend_scale)
        currency = layout.currency_fixed
        if layout.currency is not None:
            try:
                currency = parse_currency(cell(cells, layout.currency)) or currency
            except ValueError:
                errors.append(f"{show(cell(cells, layout.currency))!r} is not a currency code")
        values: dict[str, Decimal] = {}
        for measure, index, label, bound in self.measures:
            value = _amount(cells[index], label, errors, bound=bound) if index < width else None
            values[measure] = ZERO if value is None else value
        breakdown, channel = layout.breakdown, layout.channel
        parsed = ParsedRow(
            number,
            ref,
            day,
            spend,
            currency,
            values,
            tuple([cell_text(cells[i]) if i < width else "" for i in breakdown]) if breakdown else (),
            cell_text(cell(cells, channel)) if channel is not None else "",
        )
        if layout.check is not None and not errors:
            message = layout.check(cells, parsed)
            if message:
                errors.append(message)
        if errors:
            return RowError(number, "; ".join(errors))
        return parsed


ZERO = Decimal(0)


def parse_rows(table: Table, layout: Layout) -> Iterator[ParsedRow | RowError]:
    """Stream a table's data rows as ParsedRow, or RowError naming the row and every problem in it."""
    parse = RowParser(table, layout)
    records = table.records()
    while True:
        try:
            number, cells = next(records)
        except StopIteration:
            return
        except TableError as exc:
            yield RowError(exc.row, exc.message)
            return
        item = parse(number, cells)
        if item is not None:
            yield item
