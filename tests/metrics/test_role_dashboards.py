"""The finance, marketer and ops dashboards: who may open them, what each shows (checked against an
independent ORM computation over the facts, to the cent), downloads, planted data-quality warnings,
pacing, constant query counts, and the figure builders as pure functions."""

import csv
import datetime
import io
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import Allocation, BudgetEntry, Commitment, CommitmentStatus
from campaigns.models import FactSource, ImportBatch, ResultFact, SpendEntry
from metrics.dashboards.finance import FinanceBoard
from metrics.dashboards.forecast import PacingStatus, spend_pacing
from metrics.dashboards.marketer import MarketerBoard
from metrics.dashboards.ops import OpsBoard
from metrics.dashboards.panels import Inputs
from metrics.rollups import services
from metrics.rollups.selectors import Filters, scope_of
from mops.roles import Role
from planning.models import Period
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory, UserFactory
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows import subjects
from workflows.models import StepStatus, StepTask
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
D = Decimal
YEAR = Filters(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
TODAY = datetime.date(2026, 3, 15)  # "today" of the board-level tests: mid-March of FY2026
FY = {"period": "fy2026"}


# --- the world ----------------------------------------------------------------------------------


def spend(campaign, day, amount, *, source=FactSource.MANUAL, key=None, currency="USD", base=None):
    return SpendEntry.objects.create(
        campaign=campaign,
        date=day,
        amount=D(amount),
        currency=currency,
        amount_base=D(base if base is not None else amount),
        source=source,
        external_key=key,
    )


def results(campaign, day, **values):
    return ResultFact.objects.create(campaign=campaign, date=day, **values)


@pytest.fixture
def templates(ops_admin):
    workflow_services.template_create(
        actor=ops_admin,
        name="Budget allocation request",
        subject_type="budget_allocation",
        steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
    )
    workflow_services.template_create(
        actor=ops_admin,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
    )
    return workflow_services.template_create(
        actor=ops_admin,
        name="Launch checklist",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[step("Check the landing page", stage=1, kind="task", assignee_type="team_role", role=Role.MARKETER)],
    )


@pytest.fixture
def world(templates, finance, marketer, outsider, ops_admin, team, other_team):
    """Two teams' budget lines, allocations to two NA campaigns (one pending), a pending transfer, an
    open commitment, spend and results in USD and EUR, and a task waiting for the NA marketer."""
    fiscal_year = fiscal_year_ensure(year=2026)
    month = {p.start_date.month: p for p in Period.objects.filter(fiscal_year=fiscal_year)}
    budget = budget_services.budget_create(actor=finance, fiscal_year=fiscal_year, name="FY2026", target=D("2000000"))
    na_line = budget_services.line_create(actor=finance, budget=budget, name="North America", team=team)
    budget_services.phasing_set(actor=finance, line=na_line, amounts={month[m]: D("100000") for m in range(1, 13)})
    emea_line = budget_services.line_create(actor=finance, budget=budget, name="EMEA", team=other_team)
    budget_services.phasing_set(actor=finance, line=emea_line, amounts={month[m]: D("50000") for m in range(1, 7)})

    search = ChannelFactory(name="Paid search", slug="paid-search")
    events = ChannelFactory(name="Events", slug="events")
    q1 = CampaignFactory(
        name="NA search Q1",
        code="na-search-q1",
        team=team,
        owner=marketer,
        channel=search,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 3, 31),
        expected_leads=400,
        expected_mqls=100,
        expected_pipeline=D("250000"),
        expected_revenue=D("50000"),
    )
    spring = CampaignFactory(
        name="NA spring events",
        code="na-events",
        team=team,
        owner=marketer,
        channel=events,
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 6, 30),
        expected_leads=0,
    )
    emea = CampaignFactory(
        name="EMEA launch",
        code="emea-launch",
        team=other_team,
        owner=outsider,
        channel=search,
        start_date=datetime.date(2026, 1, 15),
        end_date=datetime.date(2026, 4, 30),
    )
    budget_services.allocation_request_create(
        actor=marketer,
        line=na_line,
        campaign=q1,
        months={month[m]: D("3000") for m in (1, 2, 3)},
        currency="USD",
        justification="Search",
    )
    budget_services.allocation_request_create(
        actor=outsider, line=emea_line, campaign=emea, months={month[2]: D("20000")}, currency="USD", justification="x"
    )
    for task in list(my_tasks(finance)):
        workflow_services.task_act(actor=finance, task=task, action="approve")
    budget_services.allocation_request_create(
        actor=marketer,
        line=na_line,
        campaign=spring,
        months={month[4]: D("7500.50")},
        currency="USD",
        justification="x",
    )  # stays pending
    # A request finance makes needs another finance user to decide it (separation of duties).
    UserFactory(username="fiona-finance", roles=[Role.FINANCE])
    budget_services.transfer_request_create(
        actor=finance,
        from_line=emea_line,
        from_period=month[5],
        to_line=na_line,
        to_period=month[5],
        amount=D("1200"),
        reason="Trade show",
    )
    budget_services.commitment_create(
        actor=finance,
        line=na_line,
        campaign=spring,
        vendor="Venue",
        reference="PO-1",
        amount=D("4000"),
        currency="USD",
        period=month[4],
    )

    # Q1 search: 6,000.00 by mid-February on a 9,000 allocation → overspending at the run rate.
    for day in range(1, 46):
        spend(q1, datetime.date(2026, 1, 1) + datetime.timedelta(days=day - 1), "133.33")
        results(q1, datetime.date(2026, 1, 1) + datetime.timedelta(days=day - 1), leads=3, mqls=1, clicks=40)
    spend(q1, datetime.date(2026, 2, 14), "0.15")
    spend(q1, datetime.date(2026, 3, 20), "999.99")  # after the board's "today": not spent to date yet
    results(q1, datetime.date(2026, 3, 2), pipeline=D("12345.67"), revenue=D("2000.01"))
    spend(spring, datetime.date(2026, 2, 10), "1100", currency="EUR", base="1210.00")
    spend(emea, datetime.date(2026, 2, 1), "5000")
    results(emea, datetime.date(2026, 2, 1), leads=50)

    subjects.request_create(actor=ops_admin, template=templates, title="NA webinar launch", team=team)
    services.refresh_pending()
    return {"q1": q1, "spring": spring, "emea": emea, "na_line": na_line, "emea_line": emea_line, "month": month}


def board(board_class, user, *, filters=YEAR, today=TODAY):
    inputs = Inputs(filters=filters, scope=scope_of(user), user=user, today=today, currency="USD")
    return board_class(inputs)


def by_first_column(rows):
    return {row[0]: row for row in rows}


# --- permissions ------------------------------------------------------------------------------

ALLOWED = {
    "metrics:finance": {"finance", "cmo"},
    "metrics:marketer": {"marketer", "outsider"},
    "metrics:ops": {"ops_admin", "cmo"},
}


@pytest.mark.parametrize("url_name", list(ALLOWED))
@pytest.mark.parametrize("who", ["marketer", "outsider", "cmo", "finance", "ops_admin"])
def test_each_dashboard_is_for_its_roles(client, request, url_name, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse(url_name))
    if who in ALLOWED[url_name]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "dashboard is for" in response.content.decode()


@pytest.mark.parametrize("url_name", list(ALLOWED))
def test_anonymous_is_sent_to_log_in(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url_name", list(ALLOWED))
def test_a_refused_download_is_refused_too(client, marketer, finance, url_name):
    other = finance if url_name == "metrics:marketer" else marketer
    client.force_login(other)
    assert client.get(reverse(url_name), {"download": "pacing", "format": "csv"}).status_code == 403


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


# --- ops --------------------------------------------------------------------------------------


@pytest.fixture
def planted(world, team, marketer):
    """Campaigns of February 2026 with one data problem each, and controls that look fine."""
    search = world["q1"].channel

    def campaign(code):
        return CampaignFactory(
            name=code,
            code=code,
            team=team,
            owner=marketer,
            channel=search,
            start_date=datetime.date(2025, 11, 1),
            end_date=datetime.date(2026, 6, 30),
        )

    silent = campaign("spends-no-results")
    spend(silent, datetime.date(2026, 2, 3), "700")
    organic = campaign("results-no-spend")
    results(organic, datetime.date(2026, 2, 4), leads=9)
    trailing = campaign("revenue-after-spend")  # revenue in February from January's spend: not a warning
    spend(trailing, datetime.date(2026, 1, 20), "300")
    results(trailing, datetime.date(2026, 1, 20), clicks=30)
    results(trailing, datetime.date(2026, 2, 10), revenue=D("900"))
    doubled = campaign("doubled")
    spend(doubled, datetime.date(2026, 2, 5), "450", source=FactSource.MANUAL)
    spend(doubled, datetime.date(2026, 2, 5), "450", source=FactSource.GOOGLE_ADS, key="g-1")
    spend(doubled, datetime.date(2026, 2, 6), "450", source=FactSource.GOOGLE_ADS, key="g-2")  # another day
    spend(doubled, datetime.date(2026, 2, 7), "80", source=FactSource.GOOGLE_ADS, key="a")  # same source, keyed
    spend(doubled, datetime.date(2026, 2, 7), "80", source=FactSource.GOOGLE_ADS, key="b")
    results(doubled, datetime.date(2026, 2, 5), clicks=5)
    typed_twice = campaign("typed-twice")
    spend(typed_twice, datetime.date(2026, 2, 9), "75.10")  # two invoices by hand, same day and amount
    spend(typed_twice, datetime.date(2026, 2, 9), "75.10")
    spend(typed_twice, datetime.date(2026, 2, 9), "75.10", currency="EUR", base="82.00")  # another currency
    results(typed_twice, datetime.date(2026, 2, 9), clicks=5)
    jumpy, steady = campaign("jumpy"), campaign("steady")
    monday = datetime.date(2025, 12, 29)
    for week in range(9):
        day = monday + datetime.timedelta(weeks=week)
        spend(jumpy, day, "1000" if week == 7 else "100")  # week of 16 Feb: 10× the weeks before
        spend(steady, day, "250" if week == 7 else "100")  # 2.5×: not a jump
        results(jumpy, day, clicks=1)
        results(steady, day, clicks=1)
    newcomer = campaign("newcomer")  # a big first week has no history to jump from
    spend(newcomer, datetime.date(2026, 2, 16), "5000")
    results(newcomer, datetime.date(2026, 2, 16), clicks=1)
    services.refresh_pending()
    return {"silent": silent, "organic": organic, "doubled": doubled, "jumpy": jumpy}


FEBRUARY = Filters(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))


def test_data_quality_warnings_find_the_planted_cases(planted, ops_admin):
    ops = board(OpsBoard, ops_admin, filters=FEBRUARY)
    silent = [r[0] for r in ops.quality_panel("spend-without-results").rows]
    assert silent == ["NA spring events", "spends-no-results"]  # spring events logged spend, no results
    organic = ops.quality_panel("results-without-spend").rows
    assert [r for r in organic if r[0] == "results-no-spend"] == [["results-no-spend", planted["organic"].pk, 0, 0, 9]]
    assert "doubled" not in [r[0] for r in organic] and "revenue-after-spend" not in [r[0] for r in organic]
    duplicates = ops.duplicates_panel().rows
    assert [(r[0], r[2], r[3], r[4], r[5], r[6], r[7]) for r in duplicates] == [
        ("typed-twice", datetime.date(2026, 2, 9), D("75.10"), "USD", 2, 1, D("150.20")),
        ("doubled", datetime.date(2026, 2, 5), D("450.00"), "USD", 2, 2, D("900.00")),
    ]
    jumps = ops.jumps_panel().rows
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in jumps] == [
        ("jumpy", datetime.date(2026, 2, 16), D("1000.00"), D("100.00"), D("10.0"))
    ]


def test_data_quality_follows_the_filters(planted, ops_admin, other_team):
    narrowed = Filters(start=FEBRUARY.start, end=FEBRUARY.end, team=(other_team.pk,))
    ops = board(OpsBoard, ops_admin, filters=narrowed)
    assert ops.duplicates_panel().rows == [] and ops.jumps_panel().rows == []
    assert [r[0] for r in ops.quality_panel("spend-without-results").rows] == []


def test_ops_workflows_throughput_and_sla_breaches(world, ops_admin, finance):
    pending = StepTask.objects.filter(status=StepStatus.ACTIVE, instance__template__name="Budget transfer").get()
    StepTask.objects.filter(pk=pending.pk).update(due_at=timezone.now() - datetime.timedelta(days=3))
    today = timezone.localdate()
    this_week = today - datetime.timedelta(days=today.weekday())
    # The period is last week and this one, whatever the date: the world's steps start today, the
    # transfer's step was due three days ago.
    filters = Filters(start=this_week - datetime.timedelta(days=7), end=this_week + datetime.timedelta(days=6))
    ops = board(OpsBoard, ops_admin, filters=filters, today=today)
    week = by_first_column([[r[1], *r[2:]] for r in ops.throughput_panel().rows])
    # Started: three allocation requests, a transfer, a launch checklist; completed: two approvals.
    assert week[this_week][1:] == [5, 2, 0]
    overdue = ops.overdue_panel().rows
    assert [(r[0], r[1], r[5]) for r in overdue] == [("Finance approval", "Budget transfer", 3)]
    sla = by_first_column(ops.sla_panel().rows)
    assert sla["Budget transfer"][2] == 1 and sla["Budget transfer"][4] == 1


def test_ops_freshness_shows_the_last_import_per_source_and_the_rollup_status(world, ops_admin, marketer):
    finished = timezone.make_aware(datetime.datetime(2026, 11, 2, 9, 30))
    for status, at in (("done", finished - datetime.timedelta(days=1)), ("done", finished), ("failed", None)):
        ImportBatch.objects.create(
            file="imports/x.csv",
            filename="x.csv",
            file_sha256="0" * 64,
            format=FactSource.GOOGLE_ADS,
            status=status,
            uploaded_by=marketer,
            finished_at=at,
        )
    ops = board(OpsBoard, ops_admin)
    imports = by_first_column(ops.imports_panel().rows)
    assert list(imports) == ["Google Ads"]
    assert imports["Google Ads"][1:4] == [timezone.localtime(finished).strftime("%Y-%m-%d %H:%M"), 2, 1]
    status = by_first_column(ops.rollups_panel().rows)
    assert status["Pending dirty marks"][1] == 0
    assert status["Last refresh"][1] is not None
    assert status["Rebuild agreed with incremental"][1] is None  # no nightly rebuild yet: no value
    services.rebuild_all()
    status = by_first_column(board(OpsBoard, ops_admin).rollups_panel().rows)
    assert status["Rebuild agreed with incremental"][1] == "yes"


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


def test_finance_download_matches_the_independent_computation(world, client, finance):
    client.force_login(finance)
    response = client.get(reverse("metrics:finance"), {**FY, "download": "by-month", "format": "csv"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(response.content.decode()))}
    for month_start, measures in _independent_finance_by_month().items():
        row = rows[month_start.strftime("%b %Y")]
        assert [D(v) for v in row[1:5]] == [measures[m] for m in ("budget", "allocated", "committed", "spend")]


# --- pages: filters, formulas, currency, no value, query counts -------------------------------


def test_pages_show_the_filter_bar_formulas_and_currency(world, client, finance, marketer, ops_admin):
    for user, url_name, formula in (
        (finance, "metrics:finance", "Budget utilisation = (spend + committed) ÷ budget"),
        (marketer, "metrics:marketer", "run rate = spent ÷ days since the start"),
        (ops_admin, "metrics:ops", "breach rate = breached ÷ steps due"),
    ):
        client.force_login(user)
        page = client.get(reverse(url_name), FY).content.decode()
        assert 'data-testid="filter-bar"' in page
        assert "FY2026: 1 Jan – 31 Dec 2026" in page and "no changes waiting" in page
        assert formula in page
        assert "(USD)" in page
        assert "mops-figure" in page


def test_the_team_filter_narrows_the_finance_dashboard(world, client, finance, other_team):
    client.force_login(finance)
    response = client.get(reverse("metrics:finance"), {**FY, "team": other_team.pk, "download": "by-team"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(response.content.decode()))}
    assert set(rows) == {"Team", "EMEA", "Total"}
    page = client.get(reverse("metrics:finance"), {**FY, "team": other_team.pk}).content.decode()
    assert "Team: EMEA" in page
    assert D(rows["Total"][4]) == D("5000.00")


def _grow(world, team, other_team, marketer, outsider, ops_admin, templates, size):
    """More of everything: campaigns with facts and allocations, workflows, imports."""
    month = world["month"]
    for index in range(size):
        for owner, owner_team, line in ((marketer, team, world["na_line"]), (outsider, other_team, world["emea_line"])):
            campaign = CampaignFactory(
                team=owner_team,
                owner=owner,
                channel=world["q1"].channel,
                start_date=datetime.date(2026, 1, 1),
                end_date=datetime.date(2026, 12, 31),
            )
            for day in (datetime.date(2026, 1, 5 + index), datetime.date(2026, 2, 9 + index)):
                spend(campaign, day, "100")
                spend(campaign, day, "100", source=FactSource.META_ADS, key="m")
                results(campaign, day, leads=2)
            budget_services.allocation_request_create(
                actor=owner,
                line=line,
                campaign=campaign,
                months={month[1]: D("500")},
                currency="USD",
                justification="more",
            )
        subjects.request_create(actor=ops_admin, template=templates, title=f"Launch {index}", team=team)
        ImportBatch.objects.create(
            file="imports/y.csv",
            filename="y.csv",
            file_sha256="1" * 64,
            format=FactSource.META_ADS,
            status="done",
            uploaded_by=marketer,
            finished_at=timezone.now(),
        )
    StepTask.objects.filter(status=StepStatus.ACTIVE).update(due_at=timezone.now() - datetime.timedelta(days=1))
    services.refresh_pending()


@pytest.mark.parametrize(
    ("url_name", "who", "limit"),
    [("metrics:finance", "finance", 29), ("metrics:marketer", "marketer", 15), ("metrics:ops", "ops_admin", 24)],
)
def test_query_count_is_constant_in_the_size_of_the_data(
    world,
    client,
    request,
    django_assert_max_num_queries,
    team,
    other_team,
    marketer,
    outsider,
    ops_admin,
    templates,
    url_name,
    who,
    limit,
):
    client.force_login(request.getfixturevalue(who))
    counts = []
    for size in (1, 6):
        _grow(world, team, other_team, marketer, outsider, ops_admin, templates, size)
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(url_name), FY).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_pages_work_with_no_data_at_all(client, finance, marketer, ops_admin):
    for user, url_name in ((finance, "metrics:finance"), (marketer, "metrics:marketer"), (ops_admin, "metrics:ops")):
        client.force_login(user)
        page = client.get(reverse(url_name)).content.decode()
        assert "No data for these filters." in page or "—" in page


def test_a_bad_filter_shows_the_error_and_the_default_period(world, client, finance):
    client.force_login(finance)
    page = client.get(reverse("metrics:finance"), {"start": "2026-05-01", "end": "2026-01-01"}).content.decode()
    assert 'data-testid="filter-errors"' in page
