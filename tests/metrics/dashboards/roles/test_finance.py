"""The finance dashboard, checked against an independent ORM computation over the facts, to the cent:
by month and team, the outside row, pending approvals and pacing to year end."""

import csv
import datetime
import io
from decimal import ROUND_HALF_UP

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from budgets.models import Allocation, BudgetEntry, Commitment, CommitmentStatus
from campaigns.models import SpendEntry
from metrics.dashboards.finance import FinanceBoard
from metrics.dashboards.forecast import PacingStatus, spend_pacing
from metrics.rollups import services
from metrics.rollups.selectors import Filters
from tests.metrics.dashboards.roles.helpers import FY, TODAY, YEAR, D, board, by_first_column

pytestmark = pytest.mark.django_db


# --- finance ----------------------------------------------------------------------------------


def _independent_finance_by_month():
    """Budget, allocated, committed and actual per month straight from the ledger, allocations,
    commitments and spend entries (no invoices quote the PO here, so committed is its amount). The
    actual is the spend of campaigns a budget line funds; "outside" the spend of the others."""
    months = {}

    def add(month_start, measure, amount):
        months.setdefault(month_start, dict.fromkeys(("budget", "allocated", "committed", "spend", "outside"), D("0")))
        months[month_start][measure] += amount

    now = timezone.now()
    entries = BudgetEntry.objects.filter(line__budget__is_current=True, effective_at__lte=now)
    for start, amount in entries.values_list("period__start_date").annotate(s=Sum("amount")):
        add(start, "budget", amount)
    for start, amount in Allocation.objects.values_list("period__start_date").annotate(s=Sum("amount_base")):
        add(start, "allocated", amount)
    open_commitments = Commitment.objects.filter(status=CommitmentStatus.OPEN)
    for start, amount in open_commitments.values_list("period__start_date").annotate(s=Sum("amount_base")):
        add(start, "committed", amount)
    funded = set(Allocation.objects.exclude(campaign=None).values_list("campaign_id", flat=True))
    for entry in SpendEntry.objects.all():
        add(entry.date.replace(day=1), "spend" if entry.campaign_id in funded else "outside", entry.amount_base)
    return months


def test_finance_by_month_equals_the_facts_to_the_cent(world, finance):
    panel = board(FinanceBoard, finance).by_month_panel()
    expected = _independent_finance_by_month()
    rows = by_first_column(panel.rows)
    for month_start, measures in expected.items():
        row = rows[month_start.strftime("%b %Y")]
        assert row[1:5] == [measures["budget"], measures["allocated"], measures["committed"], measures["spend"]]
        assert row[5] == measures["budget"] - measures["spend"]  # variance = budget − actual
        utilisation = (measures["spend"] + measures["committed"]) / measures["budget"] * 100
        assert row[6] == utilisation.quantize(D("0.1"), ROUND_HALF_UP)
    # The spend of NA spring events (its allocation is still pending) counts against no line.
    assert rows["Spend outside any budget line"][1:5] == [D("0.00"), D("0.00"), D("0.00"), D("1210.00")]
    total = rows["Total"]
    assert total[4] == sum(m["spend"] + m["outside"] for m in expected.values()) == D("13209.99")
    assert "Budget utilisation = (spend + committed) ÷ budget" in panel.help


def test_finance_by_team_shows_no_value_where_there_is_no_budget(world, finance, team, other_team):
    panel = board(FinanceBoard, finance).by_team_panel()
    rows = by_first_column(panel.rows)
    assert rows["North America"][1] == D("1200000.00")
    assert rows["North America"][4] == D("6999.99")  # NA spring events' 1,210.00: no line funds it
    assert rows["Spend outside any budget line"][4] == D("1210.00")
    assert rows["EMEA"][1] == D("300000.00") and rows["EMEA"][4] == D("5000.00")
    assert rows["Total"][4] == D("13209.99")
    figure_names = [trace.name for trace in panel.figure.data]
    assert figure_names == ["Budget", "Allocated", "Committed", "Actual"]

    # A team with spend and no budget: utilisation has no value, shown as "—".
    world["emea_line"].team = None
    world["emea_line"].save()
    services.refresh_pending()
    panel = board(FinanceBoard, finance).by_team_panel()
    shown = by_first_column(panel.display_rows)
    assert shown["EMEA"][6] == "—" and by_first_column(panel.rows)["EMEA"][6] is None


def test_finance_goes_from_the_outside_row_to_the_campaigns_behind_it(world, finance, client):
    client.force_login(finance)
    page = client.get(reverse("metrics:finance"), FY).content.decode()
    assert "Spend outside any budget line" in page
    budget = world["na_line"].budget
    url = f"{reverse('budgets:bva-cell')}?key=outside&amp;group_by=team&amp;budget={budget.pk}"
    assert f'href="{url}"' in page
    behind = client.get(url.replace("&amp;", "&")).content.decode()
    assert "NA spring events" in behind and "NA search Q1" not in behind


def test_finance_pending_approvals_count_and_value(world, finance, client):
    rows = by_first_column(board(FinanceBoard, finance).pending_panel().rows)
    assert rows["Allocation requests"][1:] == [1, D("7500.50")]
    assert rows["Transfers"][1:] == [1, D("1200.00")]
    assert rows["Total"][1:] == [2, D("8700.50")]

    client.force_login(finance)
    page = client.get(reverse("metrics:finance"), FY).content.decode()
    assert f'href="{reverse("budgets:queue")}"' in page
    assert "8,700.50" in page


def test_finance_pacing_to_year_end(world, finance):
    pacing_board = board(FinanceBoard, finance)
    spent = SpendEntry.objects.filter(date__lte=TODAY).aggregate(s=Sum("amount_base"))["s"]
    budget = BudgetEntry.objects.aggregate(s=Sum("amount"))["s"]
    expected = spend_pacing(
        spent=spent, start=YEAR.start, end=YEAR.end, today=TODAY, allocation=budget
    )  # independent figures, same formula
    year = pacing_board.year_pacing
    assert year.pacing == expected
    assert year.pacing.spent == D("12210.00")  # the 999.99 dated after "today" is not spent yet
    assert year.pacing.status == PacingStatus.UNDERSPENDING
    panel = pacing_board.pacing_panel()
    assert by_first_column(panel.rows)["Status"][1] == "underspending"
    names = [trace.name for trace in panel.figure.data]
    assert "Projected at the run rate" in names


def test_finance_pacing_of_a_past_month_paces_its_fiscal_year(world, finance):
    march = Filters(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31))
    year = board(FinanceBoard, finance, filters=march, today=datetime.date(2027, 2, 1)).year_pacing
    assert year.fiscal_year == 2026
    assert year.pacing.status == PacingStatus.FINISHED
    assert year.pacing.spent == D("13209.99")


def test_finance_download_matches_the_independent_computation(world, client, finance):
    client.force_login(finance)
    response = client.get(reverse("metrics:finance"), {**FY, "download": "by-month", "format": "csv"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(response.content.decode()))}
    for month_start, measures in _independent_finance_by_month().items():
        row = rows[month_start.strftime("%b %Y")]
        assert [D(v) for v in row[1:5]] == [measures[m] for m in ("budget", "allocated", "committed", "spend")]
