"""Reading a table a block of rows at a time, column by column.

``parse_blocks(table, layout)`` gives what ``layouts.parse_rows`` gives — the same rows, values and
errors — as ``Block``s of ``BLOCK_ROWS`` rows with every field a column (a numpy array), so that
the check and the write of an import handle columns instead of a Python object per row.

How it stays exactly ``parse_rows``: each distinct cell of a column is read once, by the same
functions (a file repeats the same dates, campaigns and currencies on every row); numbers written
the way platforms and spreadsheets write them (``1234.50``, ``$1,234.50``) are recognised by the
expression ``parse_number`` itself tries first; and a row with anything unusual in it — an error,
a blank, "Total:" or "©" row, bytes that are not text, a format's own row rule — is handed whole
to ``layouts.RowParser``, the reference reading, so its outcome and message are the reference's.

Numbers stay decimal text (``"1234.50"``): exact, the form ``COPY`` takes, and what ``Decimal``
reads back without loss.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain

import numpy as np
import pandas as pd

from campaigns.importers import layouts, parsing, shapes, sheets

BLOCK_ROWS = 5_000  # rows per block: a few MB of cells, whatever the file's size
_BAD = object()  # a cell the reference reading refuses: the row goes to it for the message
_SAME_DAY = -2  # an empty end date: the row's own day


@dataclass
class Block:
    """The rows of a block that were read, as columns in file order, and the ones that were not."""

    row: np.ndarray  # int64: the row number a spreadsheet program shows
    ref: np.ndarray  # object: how the row names its campaign
    day: np.ndarray  # int64: the date's ordinal
    spend: np.ndarray  # object: decimal text, or None when the row states no spend
    currency: np.ndarray  # object: the row's currency code, or None (the campaign's applies)
    measures: dict[str, np.ndarray]  # object: decimal text, "0" for an empty cell
    segment: np.ndarray  # int64: the row's breakdown values, numbered per file (0: none)
    channel: np.ndarray | None  # object: the generic format's channel, when it has the column
    errors: list[shapes.RowError]  # in row order

    def __len__(self) -> int:
        return len(self.row)


def parse_blocks(table: sheets.Table, layout: layouts.Layout, size: int | None = None) -> Iterator[Block]:
    """The table's data rows as ``Block``s of ``size`` (``BLOCK_ROWS``) rows; a file that breaks (an
    unterminated quote …) ends with a block holding the rows before the break and its ``RowError``."""
    parse = BlockParser(table, layout)
    for first, rows, broken in table.blocks(size or BLOCK_ROWS):
        block = parse(first, rows)
        if broken is not None:
            block.errors.append(shapes.RowError(broken.row, broken.message))
        yield block


class BlockParser:
    """``parser(first_row_number, rows) -> Block``; keeps what it learns across the blocks of a file
    (dates already read, segment numbers)."""

    def __init__(self, table: sheets.Table, layout: layouts.Layout):
        self.layout = layout
        self.reference = layouts.RowParser(table, layout)
        self.text_only = table.kind == "csv"  # csv cells are str
        used = [*layout.ref, layout.date, layout.spend, layout.currency, *layout.measures.values()]
        used += [*layout.breakdown, layout.channel, layout.end_date]
        # Every column of the header (a format's row rule may read any), and those the layout names.
        self.width = max(len(table.header), 1 + max(i for i in used if i is not None))
        self.dates: dict = {}  # cell → ordinal, -1 when it is no date
        self.segments: dict[tuple, int] = {(): 0}
        self.spend = _NumberReader("spend", layout.spend_scale, None, empty=None)
        self.measures = [
            (
                measure,
                index,
                _NumberReader(
                    measure.replace("_", " "),
                    None,
                    layouts.count_bound(measure),
                    empty="0",  # an empty cell counts nothing
                ),
            )
            for measure, index in layout.measures.items()
        ]

    def __call__(self, first: int, rows: list[list]) -> Block:
        layout, n = self.layout, len(rows)
        numbers = np.arange(first, first + n, dtype=np.int64)
        width = self.width
        lengths = set(map(len, rows))
        if len(lengths) == 1 and min(lengths) >= width:
            matrix = np.array(rows, dtype=object)
        else:  # short rows read as empty cells, as ``layouts.cell`` does (csv cells stay str)
            pad = [""] * width if self.text_only else [None] * width
            matrix = np.array([(r + pad[len(r) :])[:width] for r in rows], dtype=object)
        if matrix.ndim != 2:  # cells that are sequences themselves: leave the block to the reference
            return self._reference_only(numbers, rows)
        column = matrix.__getitem__
        slow = np.zeros(n, dtype=bool)

        if self.text_only and "\ufffd" in "".join(chain.from_iterable(rows)):
            slow |= np.fromiter(("\ufffd" in "".join(r) for r in rows), bool, n)
        slow |= ~self._map(column((slice(None), 0)), _surely_data, bool)

        ref = None
        for index in layout.ref:
            text = self._map(column((slice(None), index)), parsing.cell_text, object)
            ref = text if ref is None else np.where(ref == "", text, ref)
        slow |= ref == ""

        day = self._map(column((slice(None), layout.date)), self._ordinal, np.int64)
        slow |= day < 0
        if layout.end_date is not None:
            end = self._map(column((slice(None), layout.end_date)), self._end_ordinal, np.int64)
            slow |= (end == -1) | ((end != _SAME_DAY) & (end != day))

        if layout.spend is not None:
            spend = self._numbers(column((slice(None), layout.spend)), self.spend)
            slow |= spend == _BAD
        else:
            spend = np.full(n, None, dtype=object)

        if layout.currency is not None:
            fixed = layout.currency_fixed

            def currency_of(value):
                try:
                    return parsing.parse_currency(value) or fixed
                except ValueError:
                    return _BAD

            currency = self._map(column((slice(None), layout.currency)), currency_of, object)
            slow |= currency == _BAD
        else:
            currency = np.full(n, layout.currency_fixed, dtype=object)

        measures = {}
        for measure, index, read in self.measures:
            values = self._numbers(column((slice(None), index)), read)
            slow |= values == _BAD
            measures[measure] = values

        segment = np.zeros(n, dtype=np.int64)
        if layout.breakdown:
            texts = [self._map(column((slice(None), i)), parsing.cell_text, object) for i in layout.breakdown]
            segments = self.segments
            segment = np.fromiter(
                (segments.setdefault(t, len(segments)) for t in zip(*texts, strict=True)), np.int64, n
            )
        channel = None
        if layout.channel is not None:
            channel = self._map(column((slice(None), layout.channel)), parsing.cell_text, object)

        if layout.check is not None:
            if layout.check_columns is None:
                slow[:] = True
            else:
                parsed = {"spend": spend, "measures": measures}
                flagged = layout.check_columns(lambda i: column((slice(None), i)), parsed, self._map)
                if flagged is not None:
                    slow |= flagged

        fast = np.flatnonzero(~slow)
        block = Block(
            row=numbers[fast],
            ref=ref[fast],
            day=day[fast],
            spend=spend[fast],
            currency=currency[fast],
            measures={m: v[fast] for m, v in measures.items()},
            segment=segment[fast],
            channel=None if channel is None else channel[fast],
            errors=[],
        )
        if fast.size < n:
            self._add_reference_rows(block, numbers, rows, np.flatnonzero(slow))
        return block

    # --- helpers ---------------------------------------------------------------------------------

    def _map(self, values: np.ndarray, read: Callable, dtype) -> np.ndarray:
        """``read`` applied to each distinct cell once, spread back over the rows."""
        if self.text_only:
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
        else:  # spreadsheet cells of any type: 1, 1.0 and True are equal but do not read alike
            seen: dict = {}
            codes = np.fromiter((seen.setdefault((v.__class__, v), len(seen)) for v in values), np.intp, len(values))
            uniques = [v for _, v in seen]
        results = np.empty(len(uniques), dtype=dtype)
        results[:] = [read(v) for v in uniques]
        return results[codes]

    def _numbers(self, values: np.ndarray, read: "_NumberReader") -> np.ndarray:
        """A column of numbers: the usual shapes checked all at once, each other distinct cell by ``read``."""
        if not self.text_only:
            return self._map(values, read, object)
        usual, text = _usual_numbers(values, read.digits)
        if read.scale is not None and usual.any():
            text[usual] = self._map(text[usual], read.scaled, object)
        if not usual.all():
            other = ~usual
            text[other] = self._map(values[other], read, object)
        return text

    def _ordinal(self, value) -> int:
        if value.__class__ is str:
            known = self.dates.get(value)
            if known is not None:
                return known
        try:
            ordinal = parsing.parse_date(value, month_first=self.layout.month_first).toordinal()
        except ValueError:
            ordinal = -1
        if value.__class__ is str and len(self.dates) < 50_000:
            self.dates[value] = ordinal
        return ordinal

    def _end_ordinal(self, value) -> int:
        if not parsing.cell_text(value):
            return _SAME_DAY
        return self._ordinal(value)

    def _reference_only(self, numbers: np.ndarray, rows: list[list]) -> Block:
        block = Block(
            row=numbers[:0],
            ref=np.empty(0, dtype=object),
            day=numbers[:0],
            spend=np.empty(0, dtype=object),
            currency=np.empty(0, dtype=object),
            measures={m: np.empty(0, dtype=object) for m in self.layout.measures},
            segment=numbers[:0],
            channel=None if self.layout.channel is None else np.empty(0, dtype=object),
            errors=[],
        )
        self._add_reference_rows(block, numbers, rows, np.arange(len(rows)))
        return block

    def _add_reference_rows(self, block: Block, numbers: np.ndarray, rows: list[list], which: np.ndarray) -> None:
        """Read the rows at ``which`` with the reference reader and merge them into ``block``."""
        parsed: list[shapes.ParsedRow] = []
        for i in which.tolist():
            item = self.reference(int(numbers[i]), rows[i])
            if item is None:
                continue
            if isinstance(item, shapes.RowError):
                block.errors.append(item)
            else:
                parsed.append(item)
        if not parsed:
            return
        segments = self.segments
        extra = Block(
            row=np.array([p.row for p in parsed], dtype=np.int64),
            ref=_objects([p.ref for p in parsed]),
            day=np.array([p.date.toordinal() for p in parsed], dtype=np.int64),
            spend=_objects([None if p.spend is None else str(p.spend) for p in parsed]),
            currency=_objects([p.currency for p in parsed]),
            measures={m: _objects([str(p.measures[m]) for p in parsed]) for m in self.layout.measures},
            segment=np.array([segments.setdefault(p.breakdown, len(segments)) for p in parsed], dtype=np.int64),
            channel=None if block.channel is None else _objects([p.channel for p in parsed]),
            errors=[],
        )
        order = np.argsort(np.concatenate([block.row, extra.row]), kind="stable")
        for name in ("row", "ref", "day", "spend", "currency", "segment", "channel"):
            mine = getattr(block, name)
            if mine is not None:
                setattr(block, name, np.concatenate([mine, getattr(extra, name)])[order])
        block.measures = {m: np.concatenate([v, extra.measures[m]])[order] for m, v in block.measures.items()}


def _objects(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _surely_data(value) -> bool:
    """True when a row whose first cell is ``value`` is data whatever its other cells (``layouts._skippable``
    says no); False sends the row to the reference reader, which decides."""
    if value is None:
        return False
    if value.__class__ is not str:
        return True
    text = value.strip()
    if not text:
        return False
    if text[0] in layouts._SUMMARY_INITIALS:
        return not (text.startswith("©") or text.lower().startswith("copyright") or layouts._TOTAL.match(text))
    return True


class _NumberReader:
    """A cell → its number as decimal text, ``empty`` for an empty cell, or ``_BAD`` for what
    ``layouts._amount`` refuses (past ``bound``: a count's largest value; None is money's MONEY_MAX)."""

    def __init__(self, what: str, scale: Decimal | None, bound, *, empty: str | None):
        self.what, self.scale, self.bound, self.empty = what, scale, bound, empty
        # Integer digits that stay within the bound whatever the decimals: 11 for money (MONEY_MAX
        # is just under 10**12), 15 for the big counts (below 10**15), 9 for the small ones (2**31 - 1).
        # Longer numbers go the exact way.
        if bound is None:
            self.digits = 11
        else:
            self.digits = 9 if bound < 10**15 - 1 else 15
        if scale is not None and scale > 1:
            self.digits = 0  # nothing is usual: every cell goes the exact way

    def scaled(self, text: str) -> str:
        return str(Decimal(text) * self.scale)

    def __call__(self, value):
        if value.__class__ is str and self.digits:
            match = parsing._DOLLARS.fullmatch(value)
            if match is not None:
                text = match[1]
                if "," in text:
                    text = text.replace(",", "")
                point = text.find(".")
                if (point if point >= 0 else len(text)) <= self.digits:
                    return text if self.scale is None else self.scaled(text)
        errors: list[str] = []
        number = layouts._amount(value, self.what, errors, scale=self.scale, bound=self.bound)
        if errors:
            return _BAD
        if number is None:
            return self.empty
        return str(number)


_WIDTH = 32  # characters of a cell the matrix below looks at: more than any usual number has


def _usual_numbers(values: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Which cells of a column of text are numbers in the shapes ``parsing._DOLLARS`` matches — "1234",
    "1234.50", "$1,234.50", "12,345" — with at most ``digits`` integer digits, all at once on a
    matrix of code points; and every cell's text with "$" and "," taken out (meaningful where usual).
    Exactly what ``_NumberReader`` (and ``parsing.parse_number``) makes of such a cell."""
    n = len(values)
    if not digits:
        return np.zeros(n, dtype=bool), values.copy()
    # At most _WIDTH characters of each cell (a longer one is cut, and is not usual), as few as the
    # longest cell has.
    text = values.astype(f"U{_WIDTH}")
    length = np.strings.str_len(text)
    width = max(int(length.max(initial=0)), 1)
    if width < _WIDTH:
        text = text.astype(f"U{width}")
    c = text.view(np.uint32).reshape(n, width)
    pos = np.arange(width)
    start = (c[:, 0] == 36).astype(np.int64)  # after a "$"
    body = (pos < length[:, None]) & (pos >= start[:, None])
    digit = (c >= 48) & (c <= 57)
    dot = (c == 46) & body
    comma = (c == 44) & body
    dots = dot.sum(1)
    point = np.where(dots == 1, dot.argmax(1), length)  # where the integer part ends
    whole = point - start  # characters of the integer part
    commas = comma.sum(1)
    # With commas, the integer part is groups of three: every fourth character before the point.
    comma_place = (pos < point[:, None]) & body & ((point[:, None] - 1 - pos) % 4 == 3) & (commas > 0)[:, None]
    first = c[np.arange(n), np.minimum(start, width - 1)]
    usual = (
        np.where(comma_place, comma, (digit & body) | dot | ~body).all(1)
        & (length < _WIDTH)
        & (dots <= 1)
        & (whole >= 1)
        & ((dots == 0) | (length - point >= 2))  # "12." and ".5" are read the exact way
        & ((commas == 0) | ((whole % 4 != 0) & (first != 48) & (whole >= 5)))  # "1,234", not "0,123"
        & (whole - commas <= digits)
    )
    if not (commas.any() or start.any()):
        return usual, values.copy()  # the usual cells are their own text
    return usual, np.strings.replace(np.strings.replace(text, ",", ""), "$", "").astype(object)
