"""What every importer shares: the parsed-row shapes, header normalisation, number/date/money
parsing, reading a file as a stream of rows (CSV/TSV in any common encoding, or XLSX), and finding
the header row and the format of a file (``sniff`` / ``detect_format``).

Importers only describe columns: each builds a ``Layout`` from the header, and ``parse_rows`` turns
the rows of a ``Table`` into ``ParsedRow`` or ``RowError`` one at a time (``RowParser``), so memory
never holds more than one row of the file. Imports read the same rows a block at a time, column by
column (``columns.parse_blocks``), with ``RowParser`` as the reference for any row out of the
ordinary. Money is read from the cell's text into ``Decimal``, never through float
(an XLSX number cell arrives as a float from openpyxl; its shortest ``repr`` is the text Excel
stored, so ``Decimal(repr(value))`` is exact for anything typed or exported with ≤ 15 digits).
"""

import codecs
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice
from pathlib import Path

# --- the shapes importers yield -----------------------------------------------------------------


@dataclass(slots=True)
class ParsedRow:
    """One data row of a file, read but not yet matched to a campaign."""

    row: int  # the row number a spreadsheet program shows (preamble and header rows count)
    ref: str  # how the file names the campaign: code, name or platform id
    date: datetime.date
    spend: Decimal | None  # None: the row states no spend (results only)
    currency: str | None  # None: the file names no currency; the campaign's currency applies
    measures: dict[str, Decimal]  # RESULT_MEASURES present in the file; money ones in ``currency``
    breakdown: tuple = ()  # segment values (device, network, ad …) that split one campaign-day
    channel: str = ""  # the generic format's optional channel column, checked against the campaign


@dataclass(slots=True)
class RowError:
    row: int
    message: str


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why, for the person who uploaded it."""


class NotASpreadsheet(ImportFileError):
    pass


class UnknownFormat(ImportFileError):
    pass


class LayoutError(ImportFileError):
    """A header an importer recognises but cannot use (a required column is missing)."""


class AmbiguousFormat(UnknownFormat):
    """The header fits several formats and none of them reads every column the others read."""


class LimitError(ImportFileError):
    """The file is past a limit (rows, columns, unpacked size): refused as soon as it is seen."""


# Result measures that are money (converted to the base currency like spend); the others are counts.
MONEY_MEASURES = frozenset({"pipeline", "revenue"})
# Money (spend, pipeline, revenue) is bounded by the one money bound, ``mops.money.MONEY_MAX``;
# counts by what their columns hold (a count must be below its ceiling).
MAX_COUNT = {
    "impressions": 10**15,
    "clicks": 10**15,
}
MAX_SMALL_COUNT = 2_147_483_647  # PositiveIntegerField
EARLIEST, LATEST = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)

# Column names of our measures and their usual synonyms, after ``normalise_header``.
MEASURE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "impressions": ("impressions", "impr", "imps", "impression"),
    "clicks": ("clicks", "click", "link clicks"),
    "leads": ("leads", "lead"),
    "mqls": ("mqls", "mql", "marketing qualified leads"),
    "sqls": ("sqls", "sql", "sales qualified leads"),
    "opportunities": ("opportunities", "opportunity", "opps", "opp"),
    "pipeline": ("pipeline", "pipeline value", "pipeline amount"),
    "new_customers": ("new customers", "customers", "won deals", "deals won", "closed won", "new logos"),
    "revenue": ("revenue", "won revenue", "closed won revenue", "bookings"),
}

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


# --- reading a file -----------------------------------------------------------------------------

SNIFF_BYTES = 64 * 1024
SNIFF_ROWS = 30  # the header is among the first rows (after a platform's preamble)
DELIMITERS = ("\t", ",", ";", "|")


@dataclass(frozen=True)
class Table:
    """How to read one file: its container, encoding, delimiter and where the header is."""

    path: Path
    kind: str  # "csv" (any delimiter) or "xlsx"
    header_row: int  # 1-based
    header: list
    encoding: str = "utf-8-sig"
    delimiter: str = ","

    def records(self) -> Iterator[tuple[int, list]]:
        """(row number, cells) for every row after the header, streamed."""
        if self.kind == "xlsx":
            yield from _xlsx_rows(self.path, start=self.header_row + 1)
        else:
            yield from _csv_rows(self.path, self.encoding, self.delimiter, start=self.header_row + 1)

    def blocks(self, size: int) -> Iterator[tuple[int, list[list], "TableError | None"]]:
        """The rows after the header ``size`` at a time: (number of the first, rows, None); the last
        block of a file that breaks ends with the ``TableError`` instead of None. The numbers of a
        block's rows follow each other, as in ``records``."""
        if self.kind == "xlsx":
            records = _xlsx_rows(self.path, start=self.header_row + 1)
            while block := list(islice(records, size)):
                yield block[0][0], [cells for _, cells in block], None
            return
        start = self.header_row + 1
        max_rows, max_columns = limits()
        with open(self.path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, errors="replace", newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            number = 1  # of the next record
            while True:
                rows: list[list] = []
                append = rows.append
                try:
                    # The preamble and header are read and dropped; then ``size`` rows at a time.
                    for cells in islice(reader, size if number >= start else start - number):
                        append(cells)
                except csv.Error as exc:
                    broken = TableError(number + len(rows), f"the file cannot be read from here on ({exc})")
                    yield max(number, start), rows[max(0, start - number) :], broken
                    return
                if not rows:
                    return
                _check_block(number, rows, max_rows, max_columns)
                if number >= start:
                    yield number, rows, None
                number += len(rows)


def _check_block(number: int, rows: list[list], max_rows: int, max_columns: int) -> None:
    """A block of CSV rows, the first numbered ``number``, within the limits (else ``LimitError``)."""
    last = number + len(rows) - 1
    if last > max_rows:
        raise LimitError(too_many_rows(max_rows + 1, max_rows))
    widest = max(map(len, rows))
    if widest > max_columns:
        at = next(i for i, r in enumerate(rows) if len(r) == widest)
        raise LimitError(too_many_columns(widest, number + at, max_columns))


def _csv_rows(path: Path, encoding: str, delimiter: str, *, start: int = 1) -> Iterator[tuple[int, list]]:
    # errors="replace": a byte that is not text in the file's encoding becomes U+FFFD, and the row
    # holding it is reported (``parse_rows``) instead of the whole file failing without a row number.
    max_rows, max_columns = limits()
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                raise TableError(number, f"the file cannot be read from here on ({exc})") from None
            number += 1
            if number > max_rows:
                raise LimitError(too_many_rows(number, max_rows))
            if len(cells) > max_columns:
                raise LimitError(too_many_columns(len(cells), number, max_columns))
            if number >= start:
                yield number, cells


def _xlsx_rows(path: Path, *, start: int = 1) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the first sheet, by its real cells: a row is as wide as its last cell
    and rows the sheet skips are empty. Never the size the sheet declares (``<dimension>``), which
    openpyxl pads every row to (``A1:XFD1048576`` is 16,384 cells a row for a million rows). A cell
    past ``IMPORT_MAX_ROWS`` or ``IMPORT_MAX_COLUMNS`` raises ``LimitError`` as soon as it is read."""
    from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse  # defusedxml's when installed, as openpyxl reads

    max_rows, max_columns = limits()
    # A file object, not the path: openpyxl refuses paths without an .xlsx extension (uploads
    # are stored under any name).
    with open(path, "rb") as fh:
        reader, sheet_path = _first_sheet(fh)
        workbook = reader.wb
        try:
            with reader.archive.open(sheet_path) as source:
                # openpyxl's own reading of a cell (shared strings, dates by number format …).
                cells = WorkSheetParser(
                    source,
                    reader.shared_strings,
                    data_only=True,
                    epoch=workbook.epoch,
                    date_formats=workbook._date_formats,
                    timedelta_formats=workbook._timedelta_formats,
                )
                expected = 1  # the number of the next row to yield
                values: dict[int, object] = {}
                parent = None
                for event, element in iterparse(source, events=("start", "end")):
                    tag = element.tag
                    if event == "start":
                        if tag == ROW_TAG:
                            number = _row_number(element.get("r"), cells.row_counter + 1)
                            if number > max_rows:
                                raise LimitError(too_many_rows(number, max_rows))
                            cells.row_counter, cells.col_counter = number, 0
                            values = {}
                        elif parent is None and tag.endswith("}sheetData"):
                            parent = element
                        continue
                    if tag == CELL_TAG:
                        cell = cells.parse_cell(element)
                        if cell["column"] > max_columns:
                            raise LimitError(too_many_columns(cell["column"], cell["row"], max_columns))
                        if cell["value"] is not None:
                            values[cell["column"]] = cell["value"]
                        element.clear()
                    elif tag == ROW_TAG:
                        number = cells.row_counter
                        if number >= expected:
                            for empty in range(max(expected, start), number):
                                yield empty, []
                            if number >= start:
                                row = [None] * (max(values) if values else 0)
                                for column, value in values.items():
                                    row[column - 1] = value
                                yield number, row
                            expected = number + 1
                        if parent is not None:
                            parent.clear()  # rows already read: let them go
        finally:
            reader.archive.close()


def _first_sheet(fh):
    """(openpyxl's reader of the workbook, the archive path of the sheet to import: the active one,
    else the first). What ``load_workbook(read_only=True)`` reads, but not the sheets themselves:
    it parses every sheet whole to find a size the sheet may not declare."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(fh, read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [
            (rel.target, "chartsheet" not in rel.Type)
            for _, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files
        ]
        worksheets = [target for target, is_worksheet in sheets if is_worksheet]
        if not worksheets:
            raise NotASpreadsheet("The workbook has no worksheet.")
        active = reader.wb._active_sheet_index
        target, is_worksheet = sheets[active] if 0 <= active < len(sheets) else (None, False)
        return reader, target if is_worksheet else worksheets[0]
    except BaseException:
        reader.archive.close()
        raise


def _row_number(text: str | None, default: int) -> int:
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise LimitError(f"The workbook names a row {show(text)!r}, which is not a row number.") from None


def limits() -> tuple[int, int]:
    """(rows, columns) an import reads at most (settings ``IMPORT_MAX_ROWS``, ``IMPORT_MAX_COLUMNS``)."""
    from django.conf import settings

    return settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS


def too_many_rows(row: int, limit: int) -> str:
    return (
        f"The file has data in row {row:,}; imports read at most {limit:,} rows. "
        "Split the file, or delete what lies below the data."
    )


def too_many_columns(column: int, row: int, limit: int) -> str:
    from openpyxl.utils import get_column_letter

    where = f"column {get_column_letter(column)} ({column:,})" if column <= 18_278 else f"column {column:,}"
    return (
        f"The file has data in {where} of row {row:,}; imports read at most {limit:,} columns. "
        "Delete the columns to the right of the data."
    )


class TableError(Exception):
    """The container broke at a row (e.g. an unterminated quote): nothing after it can be read."""

    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row, self.message = row, message


_BINARY_SIGNATURES = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]
_XLS_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SUPPORTED = "a CSV or tab-separated text file, or an Excel .xlsx workbook"


def _text_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    sample = head[:4096]
    if len(sample) >= 4:
        # UTF-16 without a BOM: every other byte of ASCII text is NUL.
        if sample[1::2].count(0) > len(sample) * 0.4 and sample[0::2].count(0) < len(sample) * 0.05:
            return "utf-16-le"
        if sample[0::2].count(0) > len(sample) * 0.4 and sample[1::2].count(0) < len(sample) * 0.05:
            return "utf-16-be"
    return "utf-8-sig"


def _container(path: Path) -> tuple[str, str]:
    """("xlsx", "") or ("csv", encoding); raises NotASpreadsheet with what the file is instead."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        raise NotASpreadsheet("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise NotASpreadsheet(f"The file is a damaged ZIP archive, not {SUPPORTED}.") from None
        if "xl/workbook.xml" in names:
            _check_unpacked(path)
            return "xlsx", ""
        if "content.xml" in names:
            raise NotASpreadsheet("The file is an OpenDocument spreadsheet: save it as .xlsx or CSV.")
        raise NotASpreadsheet(f"The file is a ZIP archive, not {SUPPORTED}.")
    if head.startswith(_XLS_SIGNATURE):
        raise NotASpreadsheet("The file is an old Excel .xls workbook: save it as .xlsx or CSV.")
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise NotASpreadsheet(f"The file is {what}, not {SUPPORTED}.")
    encoding = _text_encoding(head)
    text = head.decode(encoding, errors="replace")
    if len(head) == SNIFF_BYTES:
        text = text[:-1]  # the cut may split a character
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    if controls + text.count("\ufffd") > max(2, len(text) // 20):
        raise NotASpreadsheet(f"The file holds binary data, not {SUPPORTED}.")
    return "csv", encoding


def _check_unpacked(path: Path) -> None:
    """Refuse a workbook whose parts unpack to more than ``IMPORT_MAX_UNPACKED_BYTES`` (a ZIP bomb:
    openpyxl holds the shared strings in memory). The sizes are the archive's own; a part that
    lies about its size stops at the size it declares."""
    from django.conf import settings

    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > limit:
        mb = 1024 * 1024
        raise LimitError(
            f"The workbook unpacks to {unpacked / mb:,.0f} MB; imports read workbooks of at most "
            f"{limit / mb:,.0f} MB unpacked. Save it as CSV, or split it."
        )


def read_size(path) -> int:
    """How much a file reads to: its size, or for a workbook the unpacked size of its parts (what
    decides whether it is checked in the request or by the worker)."""
    path = Path(path)
    with open(path, "rb") as fh:
        workbook = fh.read(4) == b"PK\x03\x04"
    if workbook:
        try:
            with zipfile.ZipFile(path) as archive:
                return sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile:
            pass
    return path.stat().st_size


def sniff(path, *, format: str | None = None) -> tuple[str, Table]:
    """Find the header row of a file and the format whose columns it has: (format, Table).

    Reads only the first rows, skipping a platform's preamble (report name, date range …). With
    ``format`` given, only that importer is tried. Raises ``NotASpreadsheet``, ``UnknownFormat``
    or ``LayoutError`` with a message for the person who uploaded the file.
    """
    from campaigns.importers import IMPORTERS, detection_order

    path = Path(path)
    kind, encoding = _container(path)
    candidates = [IMPORTERS[format]] if format else detection_order()
    if kind == "xlsx":
        try:
            rows = {None: [cells for _, cells in _take(_xlsx_rows(path), SNIFF_ROWS)]}
        except ImportFileError:
            raise
        except Exception as exc:  # openpyxl raises many kinds on a broken workbook
            raise NotASpreadsheet(f"The workbook cannot be read ({exc.__class__.__name__}).") from None
    else:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        text = head.decode(encoding, errors="replace")
        if len(head) == SNIFF_BYTES and "\n" in text:
            text = text[: text.rfind("\n") + 1]
        rows = {}
        for delimiter in DELIMITERS:
            try:
                rows[delimiter] = list(
                    _take(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), SNIFF_ROWS)
                )
            except csv.Error:
                rows[delimiter] = []
    best = None  # (row index, -cells, delimiter, the importers that recognise the row)
    for delimiter, records in rows.items():
        for index, cells in enumerate(records):
            if best is not None and index > best[0]:
                break
            header = [("" if c is None else str(c)) for c in cells]
            fitting = [importer for importer in candidates if importer.detect(header)]
            if fitting:
                candidate = (index, -len(header), delimiter, fitting)
                if best is None or candidate[:2] < best[:2]:
                    best = candidate
    if best is None:
        raise _unknown(rows, format)
    index, _, delimiter, fitting = best
    header = [("" if c is None else str(c)) for c in rows[delimiter][index]]
    importer = choose_format(header, fitting)
    table = Table(
        path=path,
        kind=kind,
        header_row=index + 1,
        header=header,
        encoding=encoding or "utf-8-sig",
        delimiter=delimiter or ",",
    )
    return importer.SOURCE, table


def choose_format(header: list[str], fitting: list):
    """Of the importers that recognise ``header`` (in detection order), the one that reads the most
    of its columns: one whose columns read include every other one's. Equal readings go to the first
    (a platform's export before the generic sheet). When each leaves out a column another would read,
    no format is picked: ``AmbiguousFormat`` names what each would leave out, and the user chooses.
    A header no importer can lay out raises the first one's ``LayoutError``."""
    laid_out, first_error = [], None
    for importer in fitting:
        try:
            layout = importer.layout(header)
        except LayoutError as exc:
            first_error = first_error or exc
            continue
        laid_out.append((importer, set(layout_columns(layout))))
    if not laid_out:
        raise first_error
    for importer, read in laid_out:
        if all(other <= read for _, other in laid_out):
            return importer
    names = column_names(header)
    options = []
    for importer, read in laid_out:
        left = sorted(set().union(*(other - read for _, other in laid_out)))
        options.append(f"read as {importer.LABEL}, {_and([names[i] for i in left])} would be ignored")
    choices = " or ".join(f"{importer.LABEL} ({importer.SOURCE})" for importer, _ in laid_out)
    raise AmbiguousFormat(
        "The columns fit more than one format, and each would ignore a column another one reads: "
        f"{'; '.join(options)}. Choose the format — {choices} — and upload the file again."
    )


def _and(items: list[str]) -> str:
    items = [f"“{item}”" for item in items]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def column_names(header: list) -> list[str]:
    """The header's cells as names to show (an unnamed column: "column C")."""
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


def detect_format(path) -> str:
    """The format of the file at ``path`` (a ``FactSource`` value); raises ``ImportFileError``."""
    return sniff(path)[0]


def _take(iterable, n):
    for i, item in enumerate(iterable):
        if i >= n:
            return
        yield item


def _unknown(rows: dict, format: str | None) -> ImportFileError:
    from campaigns.importers import IMPORTERS

    # The row that most looks like a header: the first with the most non-empty cells.
    shown, best_count = None, 0
    for records in rows.values():
        for index, cells in enumerate(records):
            filled = [str(c).strip() for c in cells if c is not None and str(c).strip()]
            if len(filled) > best_count:
                shown, best_count = (index + 1, filled), len(filled)
    if shown is None:
        return UnknownFormat("The file has no header row: the first rows are empty.")
    number, filled = shown
    columns = ", ".join(filled[:12]) + (" …" if len(filled) > 12 else "")
    if format:
        label = IMPORTERS[format].LABEL
        return UnknownFormat(f"This does not look like a {label} export: row {number} has the columns {columns}.")
    missing = IMPORTERS["generic"].missing_columns(filled)
    hint = f" It lacks {' and '.join(missing)}." if missing else ""
    return UnknownFormat(
        "The file's columns match no known export (Google Ads, Meta Ads, LinkedIn Ads, Microsoft Advertising) "
        f"nor a spreadsheet with a date, a campaign and spend or result columns: row {number} has {columns}.{hint}"
    )


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
    from mops.money import MONEY_MAX, MONEY_MAX_TEXT

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
