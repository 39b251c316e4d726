"""Downloads of tables (the data behind a chart or a grid) as CSV or XLSX, one way for every app.

Text cells that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a carriage
return) are written with a leading quote, so an exported campaign name can never run as a formula.
Numbers stay numbers; None ("no value") is written as an em dash in CSV and an empty cell in XLSX.
"""

import csv
import io
import re
from decimal import Decimal

from django.http import HttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def _xlsx_cell(value):
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Decimal):
        return float(value)  # the spreadsheet boundary: numbers stay numbers
    return value


def table_response(header, rows, *, filename: str, fmt: str, sheet: str = "Data") -> HttpResponse:
    """An attachment holding ``header`` and ``rows`` as ``fmt`` ("csv" or "xlsx")."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown download format {fmt!r}; use csv or xlsx.")
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "-", filename).strip("-") or "data"
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response)
        writer.writerow([_csv_cell(h) for h in header])
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
    else:
        from openpyxl import Workbook  # here: openpyxl takes ~0.2 s to load and CSV needs none of it

        book = Workbook(write_only=True)
        worksheet = book.create_sheet(re.sub(r"[:/\\?*\[\]]", " ", sheet)[:31] or "Data")  # Excel's rules
        worksheet.append([_xlsx_cell(h) for h in header])
        for row in rows:
            worksheet.append([_xlsx_cell(v) for v in row])
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
