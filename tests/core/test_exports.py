"""Downloads: formula-looking text is neutralised in CSV and XLSX, numbers stay numbers, and any
title makes a valid sheet name."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from mops.exports import table_response

ROWS = [['=HYPERLINK("http://evil")', Decimal("12.50"), None], ["+1", 3, "@SUM(A1)"], ["-2", 0, "\tTab"]]


def test_csv_neutralises_formulas_and_writes_no_value_as_a_dash():
    response = table_response(["Name", "Spend", "Note"], ROWS, filename="x y", fmt="csv")
    assert response["Content-Disposition"] == 'attachment; filename="x-y.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "12.50", "—"]
    assert rows[2][0] == "'+1" and rows[2][2] == "'@SUM(A1)"
    assert rows[3][0] == "'-2" and rows[3][2] == "'\tTab"


def test_xlsx_keeps_numbers_as_numbers_and_accepts_any_title():
    response = table_response(
        ["Name", "Spend", "Note"], ROWS, filename="f", fmt="xlsx", sheet="ROI: by channel / [Q1]?*"
    )
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert ":" not in sheet.title and len(sheet.title) <= 31
    assert sheet["A2"].value == '\'=HYPERLINK("http://evil")' and sheet["B2"].value == 12.5
    assert sheet["C2"].value is None


def test_unknown_formats_are_refused():
    with pytest.raises(ValueError, match="csv or xlsx"):
        table_response([], [], filename="f", fmt="pdf")
