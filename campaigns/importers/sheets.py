"""Reading a file as a stream of rows: CSV/TSV in any common encoding, or XLSX (``Table``), a
block at a time, within the limits (rows, columns, unpacked size) and refusing what is not a
spreadsheet (``NotASpreadsheet``, ``LimitError``) as soon as it is seen.

An XLSX number cell arrives as a float from openpyxl; its shortest ``repr`` is the text Excel
stored, so ``Decimal(repr(value))`` is exact for anything typed or exported with ≤ 15 digits."""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from django.conf import settings

from campaigns.importers.parsing import show
from campaigns.importers.shapes import LimitError, NotASpreadsheet

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
            yield from xlsx_rows(self.path, start=self.header_row + 1)
        else:
            yield from _csv_rows(self.path, self.encoding, self.delimiter, start=self.header_row + 1)

    def blocks(self, size: int) -> Iterator[tuple[int, list[list], "TableError | None"]]:
        """The rows after the header ``size`` at a time: (number of the first, rows, None); the last
        block of a file that breaks ends with the ``TableError`` instead of None. The numbers of a
        block's rows follow each other, as in ``records``."""
        if self.kind == "xlsx":
            records = xlsx_rows(self.path, start=self.header_row + 1)
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


def xlsx_rows(path: Path, *, start: int = 1) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the first sheet, by its real cells: a row is as wide as its last cell
    and rows the sheet skips are empty. Never the size the sheet declares (``<dimension>``), which
    openpyxl pads every row to (``A1:XFD1048576`` is 16,384 cells a row for a million rows). A cell
    past ``IMPORT_MAX_ROWS`` or ``IMPORT_MAX_COLUMNS`` raises ``LimitError`` as soon as it is read."""
    # openpyxl takes ~0.2 s to import: loaded only when a workbook is read or named.
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
    # openpyxl takes ~0.2 s to import: loaded only when a workbook is read or named.
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
    return settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS


def too_many_rows(row: int, limit: int) -> str:
    return (
        f"The file has data in row {row:,}; imports read at most {limit:,} rows. "
        "Split the file, or delete what lies below the data."
    )


def too_many_columns(column: int, row: int, limit: int) -> str:
    # openpyxl takes ~0.2 s to import: loaded only when a workbook is read or named.
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


def container(path: Path) -> tuple[str, str]:
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
