"""The formats and how a file finds its own: ``IMPORTERS`` (one module per source format),
``detection_order``, ``sniff`` (the header row and the format of a file, from its first rows),
``choose_format`` when several fit, ``detect_format`` and ``parse_file`` (a file end to end, row by
row). Imports the format modules; they never import this one."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from campaigns.importers import generic, google_ads, linkedin_ads, meta_ads, microsoft_ads
from campaigns.importers.layouts import column_names, layout_columns
from campaigns.importers.shapes import (
    AmbiguousFormat,
    ImportFileError,
    LayoutError,
    NotASpreadsheet,
    ParsedRow,
    RowError,
    UnknownFormat,
)
from campaigns.importers.sheets import DELIMITERS, SNIFF_BYTES, SNIFF_ROWS, Table, container, xlsx_rows


def sniff(path, *, format: str | None = None) -> tuple[str, Table]:
    """Find the header row of a file and the format whose columns it has: (format, Table).

    Reads only the first rows, skipping a platform's preamble (report name, date range …). With
    ``format`` given, only that importer is tried. Raises ``NotASpreadsheet``, ``UnknownFormat``
    or ``LayoutError`` with a message for the person who uploaded the file.
    """
    path = Path(path)
    kind, encoding = container(path)
    candidates = [IMPORTERS[format]] if format else detection_order()
    if kind == "xlsx":
        try:
            rows = {None: [cells for _, cells in _take(xlsx_rows(path), SNIFF_ROWS)]}
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


def detect_format(path) -> str:
    """The format of the file at ``path`` (a ``FactSource`` value); raises ``ImportFileError``."""
    return sniff(path)[0]


def _take(iterable, n):
    for i, item in enumerate(iterable):
        if i >= n:
            return
        yield item


def _unknown(rows: dict, format: str | None) -> ImportFileError:
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


IMPORTERS = {module.SOURCE: module for module in (google_ads, meta_ads, linkedin_ads, microsoft_ads, generic)}


def detection_order():
    """Platform exports first (their headers are distinctive), the generic sheet last. Microsoft
    comes before Google: its UI export shares Google's "Impr." but says "Spend", not "Cost"."""
    return [microsoft_ads, google_ads, meta_ads, linkedin_ads, generic]


def parse_file(path, format: str | None = None) -> Iterator[ParsedRow | RowError]:
    format, table = sniff(path, format=format)
    return IMPORTERS[format].parse(table)
