"""Every panel of the finance, marketer and ops dashboards downloads as CSV and XLSX with the values
shown."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from metrics.dashboards.finance import FinanceBoard
from metrics.dashboards.marketer import MarketerBoard
from metrics.dashboards.ops import OpsBoard
from tests.metrics.dashboards.roles.helpers import FY, D, board

pytestmark = pytest.mark.django_db


# --- downloads --------------------------------------------------------------------------------

PANELS = {
    "metrics:finance": ("finance", ["by-month", "by-team", "pacing", "pending"]),
    "metrics:marketer": ("marketer", ["pacing", "results", "tasks"]),
    "metrics:ops": (
        "ops_admin",
        [
            "throughput",
            "sla",
            "overdue",
            "imports",
            "rollups",
            "spend-without-results",
            "results-without-spend",
            "duplicates",
            "jumps",
        ],
    ),
}


def _cell(value):
    if value is None:
        return "—"
    return str(value)


@pytest.mark.parametrize("url_name", list(PANELS))
def test_every_panel_downloads_as_csv_and_xlsx_with_the_values_shown(world, client, request, url_name):
    who, panel_ids = PANELS[url_name]
    user = request.getfixturevalue(who)
    client.force_login(user)
    board_class = {"metrics:finance": FinanceBoard, "metrics:marketer": MarketerBoard, "metrics:ops": OpsBoard}
    expected = board(board_class[url_name], user, today=timezone.localdate())
    for panel_id in panel_ids:
        panel = expected.builders[panel_id]()
        response = client.get(reverse(url_name), {**FY, "download": panel_id, "format": "csv"})
        assert response.status_code == 200, panel_id
        assert response["Content-Type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(response.content.decode())))
        assert table[0] == panel.header
        assert table[1:] == [[_cell(v) for v in row] for row in panel.rows], panel_id

        response = client.get(reverse(url_name), {**FY, "download": panel_id, "format": "xlsx"})
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == panel.header
        assert len(values) == len(panel.rows) + 1
        for got, row in zip(values[1:], panel.rows, strict=True):
            for cell, value in zip(got, row, strict=True):
                if isinstance(value, Decimal):
                    assert D(str(cell)).quantize(value) == value
                elif isinstance(value, datetime.date):
                    assert cell.date() == value
                else:
                    assert cell == value
    assert client.get(reverse(url_name), {"download": "nope"}).status_code == 404
