"""The marketing dashboard: only the marketer's teams' campaigns, pacing per campaign, results and
their tasks."""

import datetime

import pytest
from django.db.models import Sum
from django.urls import reverse

from budgets.models import Allocation
from campaigns.models import ResultFact, SpendEntry
from metrics.dashboards.forecast import PacingStatus
from metrics.dashboards.marketer import MarketerBoard
from tests.metrics.dashboards.roles.helpers import FY, TODAY, D, board, by_first_column
from workflows.models import StepTask

pytestmark = pytest.mark.django_db


# --- marketer ---------------------------------------------------------------------------------


def test_marketer_sees_only_their_teams_campaigns_and_the_numbers_match_the_facts(world, marketer):
    mine = board(MarketerBoard, marketer)
    pacing = by_first_column(mine.pacing_panel().rows)
    assert set(pacing) == {"NA search Q1", "NA spring events"}
    for campaign in (world["q1"], world["spring"]):
        spent = SpendEntry.objects.filter(campaign=campaign, date__lte=TODAY).aggregate(s=Sum("amount_base"))["s"]
        allocated = Allocation.objects.filter(campaign=campaign).aggregate(s=Sum("amount_base"))["s"] or D("0")
        row = pacing[campaign.name]
        assert row[4] == allocated and row[5] == spent
        facts = ResultFact.objects.filter(campaign=campaign, date__lte=TODAY).aggregate(
            leads=Sum("leads"), mqls=Sum("mqls"), pipeline=Sum("pipeline"), revenue=Sum("revenue")
        )
        result_row = by_first_column(mine.results_panel().rows)[campaign.name]
        assert result_row[1] == (facts["leads"] or 0)
        assert result_row[4] == (facts["mqls"] or 0)
        assert result_row[7] == (facts["pipeline"] or D("0"))
        assert result_row[10] == (facts["revenue"] or D("0"))
    assert pacing["NA search Q1"][4:6] == [D("9000.00"), D("6000.00")]
    assert by_first_column(mine.results_panel().rows)["NA search Q1"][7] == D("12345.67")


def test_marketer_pacing_status_per_campaign(world, marketer):
    rows = by_first_column(board(MarketerBoard, marketer).pacing_panel().rows)
    # 6,000 in 74 days of a 90-day campaign: 6,000 + 6,000/74 × 16 = 7,297.30, below 9,000 − 10 %.
    assert rows["NA search Q1"][7] == D("7297.30")
    assert rows["NA search Q1"][9] == PacingStatus.UNDERSPENDING
    # 1,210 spent with nothing allocated: overspending.
    assert rows["NA spring events"][9] == PacingStatus.OVERSPENDING
    early = by_first_column(
        board(MarketerBoard, marketer, today=datetime.date(2026, 2, 14)).pacing_panel().rows
    )  # 45 days, 6,000: projected 6,000 + 133.33 × 45 ≈ 12,000 against 9,000
    assert early["NA search Q1"][9] == PacingStatus.OVERSPENDING


def test_marketer_results_show_no_value_when_nothing_was_expected(world, marketer):
    panel = board(MarketerBoard, marketer).results_panel()
    assert by_first_column(panel.rows)["NA spring events"][3] is None  # leads % of expected: nothing expected
    display = panel.display_rows[[r[0] for r in panel.rows].index("NA spring events")]
    assert display[3] == "—"
    total = panel.rows[-1]
    assert total[0] == "Total" and total[1] == 135 and total[2] == 400


def test_marketer_page_lists_my_tasks_and_not_other_teams(world, client, marketer, outsider):
    client.force_login(marketer)
    page = client.get(reverse("metrics:marketer"), FY).content.decode()
    assert "NA search Q1" in page and "EMEA launch" not in page
    task = StepTask.objects.get(name="Check the landing page")
    assert reverse("workflows:task-detail", args=[task.pk]) in page

    client.force_login(outsider)
    page = client.get(reverse("metrics:marketer"), FY).content.decode()
    assert "EMEA launch" in page and "NA search Q1" not in page and "Check the landing page" not in page
