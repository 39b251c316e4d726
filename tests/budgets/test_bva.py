"""Budget vs actual: the selector checked against an independent pandas computation over the raw
rows, its query count, the page, its drill-down and its downloads."""

import csv
import datetime
import io
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets import selectors, services
from budgets.models import Allocation, BudgetEntry, BudgetLine, Commitment, CommitmentStatus, EntryKind
from budgets.reports import selectors as report_selectors
from budgets.requests import services as request_services
from budgets.transfers import services as transfer_services
from campaigns import services as campaign_services
from campaigns.models import SpendEntry
from mops.roles import Role
from tests.factories import CampaignFactory, ChannelFactory, FxRateFactory
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0.00")
AS_OF = datetime.date(2026, 3, 15)  # January and February are over: the forecast paces on them


@pytest.fixture
def transfer_template(ops_admin):
    return workflow_services.template_create(
        actor=ops_admin,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
    )


def _approve_all(approver):
    for task in list(my_tasks(approver)):
        workflow_services.task_act(actor=approver, task=task, action="approve")


def _allocate(actor, line, campaign, month, amounts):
    return request_services.allocation_request_create(
        actor=actor,
        line=line,
        campaign=campaign,
        months={month(m): D(a) for m, a in amounts.items()},
        currency="USD",
        justification="Plan",
    )


@pytest.fixture
def org(
    allocation_template,
    transfer_template,
    finance,
    second_finance,
    marketer,
    outsider,
    budget,
    team,
    other_team,
    team_line,
    search_line,
    month,
):
    """Two teams' lines (one with a sub-line), a teamless line, changed phasing, an approved
    transfer, allocations to two campaigns from two lines, commitments partly invoiced, spend in
    USD and EUR, and spend of a campaign nobody funded."""
    FxRateFactory(currency_id="EUR", date=datetime.date(2025, 12, 1), rate=D("1.10"))
    events = services.line_create(actor=finance, budget=budget, name="NA events", team=team)
    services.phasing_set(actor=finance, line=events, amounts={month(m): D("20000") for m in range(1, 13)})
    emea = services.line_create(actor=finance, budget=budget, name="EMEA", team=other_team)
    services.phasing_set(actor=finance, line=emea, amounts={month(m): D("50000") for m in (1, 2, 3, 4)})
    brand = services.line_create(actor=finance, budget=budget, name="Brand")
    services.phasing_set(actor=finance, line=brand, amounts={month(1): D("7000"), month(2): D("0")})
    services.phasing_set(actor=finance, line=team_line, amounts={month(3): D("80000")})  # a later change
    transfer_services.transfer_request_create(
        actor=finance,
        from_line=emea,
        from_period=month(3),
        to_line=events,
        to_period=month(3),
        amount=D("5000"),
        reason="Trade show",
    )
    _approve_all(second_finance)

    channel = ChannelFactory(name="Paid search", slug="paid-search")
    na_campaign = CampaignFactory(code="na-1", name="NA search", team=team, owner=marketer, channel=channel)
    emea_campaign = CampaignFactory(code="emea-1", name="EMEA launch", team=other_team, owner=outsider, channel=channel)
    unfunded = CampaignFactory(code="na-2", name="Unfunded", team=team, owner=marketer, channel=channel)
    _allocate(marketer, search_line, na_campaign, month, {1: "20000", 2: "10000"})
    _allocate(marketer, events, na_campaign, month, {1: "5000"})
    _allocate(outsider, emea, emea_campaign, month, {1: "15000", 2: "5000"})
    _approve_all(finance)
    assert Allocation.objects.count() == 5

    commit = services.commitment_create
    commit(
        actor=finance,
        line=search_line,
        campaign=na_campaign,
        vendor="Agency",
        reference="PO-1",
        amount=D("8000"),
        currency="USD",
        period=month(1),
    )
    commit(
        actor=finance,
        line=emea,
        campaign=emea_campaign,
        vendor="Venue",
        reference="PO-2",
        amount=D("4000"),
        currency="USD",
        period=month(2),
    )
    commit(
        actor=finance, line=brand, vendor="Print", reference="PO-3", amount=D("2500"), currency="USD", period=month(1)
    )
    closed = commit(
        actor=finance, line=brand, vendor="Old", reference="PO-4", amount=D("999"), currency="USD", period=month(1)
    )
    services.commitment_close(actor=finance, commitment=closed)

    spend = campaign_services.spend_log
    spend(
        actor=marketer,
        campaign=na_campaign,
        date=datetime.date(2026, 1, 9),
        amount=D("3000"),
        currency="USD",
        reference="PO-1",
    )
    spend(actor=marketer, campaign=na_campaign, date=datetime.date(2026, 1, 20), amount=D("7000"), currency="USD")
    spend(actor=marketer, campaign=na_campaign, date=datetime.date(2026, 2, 3), amount=D("2000"), currency="EUR")
    spend(actor=outsider, campaign=emea_campaign, date=datetime.date(2026, 1, 15), amount=D("1000.01"), currency="EUR")
    spend(actor=marketer, campaign=unfunded, date=datetime.date(2026, 1, 5), amount=D("123"), currency="USD")
    return {"events": events, "emea": emea, "brand": brand, "campaigns": (na_campaign, emea_campaign)}


# --- the independent computation --------------------------------------------------------------


def _frame(rows, columns):
    return pd.DataFrame(list(rows), columns=columns)


def _expected(budget, group_by, *, visible_ids=None, start=1, end=12):
    """Budget vs actual from the raw rows with pandas, following the rules in the selector's
    docstring — written without any of the selector's helpers."""
    lines = _frame(
        BudgetLine.objects.filter(budget=budget).values_list("id", "parent_id", "name", "team_id"),
        ["line", "parent", "name", "team"],
    )
    periods = _frame(budget.fiscal_year.periods.values_list("id", "start_date", "end_date"), ["period", "start", "end"])
    periods["month"] = periods["start"].map(lambda d: d.month)
    in_range = periods[(periods["month"] >= start) & (periods["month"] <= end)]
    entries = _frame(
        BudgetEntry.objects.filter(line__budget=budget).values_list("line_id", "period_id", "amount"),
        ["line", "period", "amount"],
    )
    full = entries.groupby(["line", "period"])["amount"].sum().rename("full").reset_index()
    children = full.merge(lines[["line", "parent"]], on="line").dropna(subset=["parent"])
    children = children.groupby(["parent", "period"])["full"].sum().rename("kids").reset_index()
    children["parent"] = children["parent"].astype(int)
    own = full.merge(children, left_on=["line", "period"], right_on=["parent", "period"], how="left")
    own["budget"] = own["full"] - own["kids"].map(lambda v: ZERO if pd.isna(v) else v)
    own = own[["line", "period", "budget"]]

    allocations = _frame(
        Allocation.objects.values_list("line_id", "period_id", "campaign_id", "amount_base"),
        ["line", "period", "campaign", "amount"],
    )
    allocated = allocations.groupby(["line", "period"])["amount"].sum().rename("allocated").reset_index()

    spend = _frame(
        SpendEntry.objects.values_list("campaign_id", "date", "reference", "amount_base"),
        ["campaign", "date", "reference", "amount"],
    )
    commitments = _frame(
        Commitment.objects.filter(status=CommitmentStatus.OPEN).values_list(
            "line_id", "period_id", "campaign_id", "reference", "amount_base"
        ),
        ["line", "period", "campaign", "reference", "amount"],
    )
    invoiced = spend.groupby(["campaign", "reference"])["amount"].sum().rename("invoiced").reset_index()
    commitments = commitments.merge(invoiced, on=["campaign", "reference"], how="left")
    commitments["open"] = [
        max(a - (ZERO if pd.isna(i) else i), ZERO)
        for a, i in zip(commitments["amount"], commitments["invoiced"], strict=True)
    ]
    committed = commitments.groupby(["line", "period"])["open"].sum().rename("committed").reset_index()

    funded = allocations.dropna(subset=["campaign"])
    by_line = funded.groupby(["line", "campaign"])["amount"].sum().rename("from_line").reset_index()
    by_campaign = funded.groupby("campaign")["amount"].sum().rename("of_campaign").reset_index()
    shares = by_line.merge(by_campaign, on="campaign")
    spend["first"] = spend["date"].map(lambda d: d.replace(day=1))
    monthly = spend.groupby(["campaign", "first"])["amount"].sum().rename("spent").reset_index()
    monthly = monthly.merge(periods[["period", "start"]], left_on="first", right_on="start")
    attributed = monthly.merge(shares, on="campaign").sort_values(["campaign", "period", "line"])
    # Each month's spend of a campaign is split over its lines to the cent, the parts adding up to
    # the spend: rounded down, the cents left over to the largest remainders.
    parts = []
    for _, group in attributed.groupby(["campaign", "period"]):
        spent = group["spent"].iloc[0]
        exact = [spent * a / t for a, t in zip(group["from_line"], group["of_campaign"], strict=True)]
        floors = [int(e * 100) / D(100) for e in exact]
        left = int((spent - sum(floors)) * 100)
        order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:left]:
            floors[i] += D("0.01")
        parts += floors
    attributed["actual"] = parts
    actual = attributed.groupby(["line", "period"])["actual"].sum().reset_index()
    # Spend of the campaigns no line funds: the row "Spend outside any budget line".
    unfunded = monthly[~monthly["campaign"].isin(funded["campaign"])]
    unfunded = unfunded[unfunded["period"].isin(in_range["period"])]

    cells = own
    for frame in (allocated, committed, actual):
        cells = cells.merge(frame, on=["line", "period"], how="outer")
    cells = cells.map(lambda v: ZERO if v is None or (isinstance(v, float) and pd.isna(v)) else v)
    cells = cells[cells["period"].isin(in_range["period"])]
    if visible_ids is not None:
        cells = cells[cells["line"].isin(visible_ids)]
    cells["available"] = [
        b - max(a, c + x)
        for b, a, c, x in zip(cells["budget"], cells["allocated"], cells["committed"], cells["actual"], strict=True)
    ]
    over = set(periods[periods["end"] < AS_OF]["period"])
    cells["forecast"] = [
        x if p in over else b for p, x, b in zip(cells["period"], cells["actual"], cells["budget"], strict=True)
    ]
    cells = cells.merge(lines, on="line")
    measures = ["budget", "allocated", "committed", "actual", "available", "forecast"]
    if group_by == "line":  # a line's row rolls up its sub-lines
        parent_of = dict(zip(lines["line"], lines["parent"], strict=True))
        exploded = []
        for _, cell in cells.iterrows():
            node = cell["line"]
            while node is not None and not pd.isna(node):
                if visible_ids is None or node in visible_ids:
                    exploded.append({**cell.to_dict(), "group": int(node)})
                node = parent_of.get(int(node))
        cells = pd.DataFrame(exploded)
    elif group_by == "team":
        cells["group"] = cells["team"].map(lambda t: None if pd.isna(t) else int(t))
    else:
        cells["group"] = cells["period"]
    grouped = cells.groupby("group", dropna=False)[measures].sum()
    result = {}
    for group, values in grouped.iterrows():
        key = None if (group is None or (isinstance(group, float) and pd.isna(group))) else int(group)
        result[key] = {m: D(values[m]).quantize(D("0.01")) for m in measures}
    if len(unfunded):
        outside = {m: ZERO for m in measures}
        outside["actual"] = sum(unfunded["spent"], ZERO)
        outside["forecast"] = sum(
            (x for p, x in zip(unfunded["period"], unfunded["spent"], strict=True) if p in over), ZERO
        )
        result[selectors.OUTSIDE] = outside
    return result


def _measured(report):
    return {
        row.key: {
            m: getattr(row.total, m) for m in ("budget", "allocated", "committed", "actual", "available", "forecast")
        }
        for row in report.rows
        if any(row.total.__dict__.values())
    }


@pytest.mark.parametrize("group_by", ["line", "team", "month"])
def test_budget_vs_actual_matches_an_independent_computation(org, budget, group_by):
    report = report_selectors.budget_vs_actual(budget=budget, group_by=group_by, as_of=AS_OF)
    expected = _expected(budget, group_by)
    assert _measured(report) == {k: v for k, v in expected.items() if any(v.values())}
    totals = _expected(budget, "month")
    for measure in ("budget", "allocated", "committed", "actual", "available"):
        assert getattr(report.totals.total, measure) == sum((v[measure] for v in totals.values()), ZERO)


def test_a_date_range_keeps_only_its_months(org, budget, month):
    report = report_selectors.budget_vs_actual(
        budget=budget, group_by="team", start=month(2), end=datetime.date(2026, 3, 31), as_of=AS_OF
    )
    assert [p.start_date.month for p in report.periods] == [2, 3]
    assert _measured(report) == {k: v for k, v in _expected(budget, "team", start=2, end=3).items() if any(v.values())}


def test_figures_that_can_be_checked_by_hand(org, budget, team, search_line, month):
    rows = {r.key: r for r in report_selectors.budget_vs_actual(budget=budget, group_by="line", as_of=AS_OF).rows}
    search = rows[search_line.pk].months[month(1).pk]
    # 20,000 allocated; PO-1 8,000 of which 3,000 invoiced; NA search spent 10,000 in January,
    # 30,000/35,000 of it against this line (its share of the campaign's allocations over the year).
    assert search.allocated == D("20000.00")
    assert search.committed == D("5000.00")
    assert search.actual == (D("10000") * 30 / 35).quantize(D("0.01"))
    assert search.available == D("60000.00") - max(D("20000.00"), search.committed + search.actual)
    # March: the transfer moved 5,000 from EMEA to NA events; NA was re-phased to 80,000.
    assert rows[org["events"].pk].months[month(3).pk].budget == D("25000.00")
    assert rows[org["emea"].pk].months[month(3).pk].budget == D("45000.00")
    assert rows[search_line.parent_id].months[month(3).pk].budget == D("80000.00")


def test_zero_budget_has_no_utilisation(org, budget, month):
    report = report_selectors.budget_vs_actual(
        budget=budget, group_by="line", start=month(2), end=month(2), as_of=AS_OF
    )
    brand = next(r for r in report.rows if r.label == "Brand")
    assert brand.total.budget == ZERO
    assert brand.total.utilisation is None
    assert report.totals.total.utilisation is not None


def test_campaign_grouping_uses_allocations_and_actuals_by_campaign(org, budget, month):
    na_campaign, emea_campaign = org["campaigns"]
    report = report_selectors.budget_vs_actual(budget=budget, group_by="campaign", as_of=AS_OF)
    rows = {r.key: r.total for r in report.rows}
    assert rows[na_campaign.pk].budget == rows[na_campaign.pk].allocated == D("35000.00")
    assert rows[na_campaign.pk].actual == D("12200.00")  # 3,000 + 7,000 USD + 2,000 EUR at 1.10
    assert rows[emea_campaign.pk].committed == D("4000.00")
    assert rows[None].committed == D("2500.00")  # PO-3 has no campaign
    assert sum((r.budget for r in rows.values()), ZERO) == report.totals.total.budget
    assert sum((r.actual for r in rows.values()), ZERO) == report.totals.total.actual


def test_a_marketer_sees_only_their_teams_and_teamless_lines(org, budget, marketer, team):
    report = report_selectors.budget_vs_actual(budget=budget, group_by="team", user=marketer, as_of=AS_OF)
    assert {r.key for r in report.rows} == {team.pk, None, selectors.OUTSIDE}
    visible = set(BudgetLine.objects.filter(budget=budget).exclude(name="EMEA").values_list("pk", flat=True))
    expected = _expected(budget, "team", visible_ids=visible)
    assert _measured(report) == {k: v for k, v in expected.items() if any(v.values())}


def _synthetic_lines(finance, budget, team, month, count, start):
    lines = BudgetLine.objects.bulk_create(
        [BudgetLine(budget=budget, name=f"Line {i}", code=f"line-{start + i}", team=team) for i in range(count)]
    )
    now = timezone.now()
    BudgetEntry.objects.bulk_create(
        [
            BudgetEntry(line=line, period=month(m), amount=D("1000"), kind=EntryKind.PHASING, effective_at=now)
            for line in lines
            for m in (1, 2, 3)
        ]
    )


@pytest.mark.parametrize("group_by", ["line", "team", "channel", "program", "campaign", "month"])
def test_the_query_count_does_not_grow_with_the_lines(
    org, finance, budget, team, month, group_by, django_assert_max_num_queries
):
    _synthetic_lines(finance, budget, team, month, 10, 0)
    with CaptureQueriesContext(connection) as small:
        report_selectors.budget_vs_actual(budget=budget, group_by=group_by, user=finance)
    _synthetic_lines(finance, budget, team, month, 90, 100)
    with django_assert_max_num_queries(len(small.captured_queries)):
        report = report_selectors.budget_vs_actual(budget=budget, group_by=group_by, user=finance)
    assert len(small.captured_queries) <= 12
    if group_by == "line":
        assert len(report.rows) >= 100


# --- the page, drill-down and downloads --------------------------------------------------------

URL = "/budgets/budget-vs-actual/"


def test_the_url_is_named():
    assert reverse("budgets:bva") == URL
    assert reverse("budgets:bva-cell") == URL + "cell/"


@pytest.mark.parametrize(("who", "status"), [("marketer", 403), ("ops_admin", 403), ("cmo", 200), ("finance", 200)])
def test_page_permissions(client, request, org, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == status
    assert client.get(URL + "cell/?group_by=team&key=none").status_code == status


def test_anonymous_users_are_sent_to_log_in(client, org):
    assert client.get(URL).status_code == 302


def _page_rows(response):
    rows = []
    for row in response.context["grid"]:
        values = [v for _, v in row["months"]] + list(row["rest"])
        rows.append([row["label"], *["—" if v is None else str(v) for v in values]])
    return rows


@pytest.mark.parametrize("group_by", ["line", "team", "month", "campaign"])
def test_csv_and_xlsx_equal_the_page(client, cmo, org, budget, group_by):
    from openpyxl import load_workbook

    client.force_login(cmo)
    query = f"?budget={budget.pk}&group_by={group_by}&measure=available"
    page = client.get(URL + query)
    assert page.status_code == 200
    shown = _page_rows(page)
    assert shown[-1][0] == "Total"
    download = client.get(URL + query + "&format=csv")
    assert download["Content-Type"].startswith("text/csv")
    written = list(csv.reader(io.StringIO(download.content.decode())))
    assert written[0] == page.context["header"]
    assert written[1:] == shown
    book = load_workbook(io.BytesIO(client.get(URL + query + "&format=xlsx").content))
    cells = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert [str(c) for c in cells[0]] == page.context["header"]
    as_text = [
        [
            c if isinstance(c, str) else "—" if c is None else str(D(str(c)).quantize(D(v) if "." in v else D(1)))
            for c, v in zip(r, s, strict=True)
        ]
        for r, s in zip(cells[1:], shown, strict=True)
    ]
    assert as_text == shown


def test_downloads_neutralise_formulas(client, finance, budget, month):
    line = services.line_create(actor=finance, budget=budget, name='=HYPERLINK("http://x")', code="evil")
    services.phasing_set(actor=finance, line=line, amounts={month(1): D("10")})
    services.line_create(actor=finance, budget=budget, name="@SUM(A1)", code="evil-2")
    client.force_login(finance)
    query = f"?budget={budget.pk}&group_by=line"
    written = list(csv.reader(io.StringIO(client.get(URL + query + "&format=csv").content.decode())))
    labels = [r[0] for r in written[1:]]
    assert '\'=HYPERLINK("http://x")' in labels and "'@SUM(A1)" in labels
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get(URL + query + "&format=xlsx").content))
    column = [r[0] for r in book.active.iter_rows(values_only=True)]
    assert '\'=HYPERLINK("http://x")' in column and "'@SUM(A1)" in column
    assert not any(isinstance(c, str) and c.startswith("=") for c in column)


def test_the_drill_down_lists_what_is_behind_a_cell(client, cmo, org, budget, search_line, month):
    client.force_login(cmo)
    response = client.get(URL + f"cell/?budget={budget.pk}&group_by=line&key={search_line.pk}&period={month(1).pk}")
    assert response.status_code == 200
    assert [e.amount for e in response.context["entries"]] == [D("60000.00")]
    assert [a.amount_base for a in response.context["allocations"]] == [D("20000.00")]
    assert [c.reference for c in response.context["commitments"]] == ["PO-1"]
    assert {s.amount for s in response.context["spend"]} == {D("3000.00"), D("7000.00")}
    page = client.get(URL + f"?budget={budget.pk}&group_by=line")
    assert f"key={search_line.pk}&amp;period={month(1).pk}" in page.content.decode()


def test_the_filter_selects_show_what_the_grid_shows_by_default(client, cmo, org):
    client.force_login(cmo)
    form = client.get(URL).context["form"]
    assert (form["group_by"].value(), form["measure"].value()) == ("line", "actual")


# --- spend outside any budget line (issue 19, section 3) ---------------------------------------


def _facts_spend(budget, first=1, last=12):
    periods = budget.fiscal_year.periods.order_by("start_date")
    chosen = [p for p in periods if first <= p.start_date.month <= last]
    return sum(
        SpendEntry.objects.filter(date__gte=chosen[0].start_date, date__lte=chosen[-1].end_date).values_list(
            "amount_base", flat=True
        ),
        ZERO,
    )


@pytest.mark.parametrize("group_by", report_selectors.GROUPINGS)
@pytest.mark.parametrize(("first", "last"), [(1, 12), (1, 1), (2, 3)])
def test_the_actual_total_is_all_the_spend_of_the_facts(org, budget, month, group_by, first, last):
    report = report_selectors.budget_vs_actual(
        budget=budget, group_by=group_by, start=month(first), end=month(last), as_of=AS_OF
    )
    assert report.totals.total.actual == _facts_spend(budget, first, last)
    outside = next(r for r in report.rows if r.key == selectors.OUTSIDE)
    assert outside.label == "Spend outside any budget line"
    assert outside.total.actual == (D("123.00") if first == 1 else ZERO)  # the unfunded campaign's January
    assert outside.total.budget == outside.total.available == ZERO
    if group_by != "line":  # grouped by line, a parent's row also holds its sub-lines'
        assert sum((r.total.actual for r in report.rows), ZERO) == report.totals.total.actual


def test_campaign_rows_add_up_to_the_total_after_a_program_allocation(org, budget, finance, marketer, team, month):
    from campaigns.models import Program

    program = Program.objects.create(name="Always on", team=team)
    request_services.allocation_request_create(
        actor=marketer,
        line=org["events"],
        program=program,
        months={month(1): D("1500")},
        currency="USD",
        justification="Program money",
    )
    _approve_all(finance)
    report = report_selectors.budget_vs_actual(budget=budget, group_by="campaign", as_of=AS_OF)
    for measure in ("budget", "allocated", "committed", "actual"):
        assert sum((getattr(r.total, measure) for r in report.rows), ZERO) == getattr(report.totals.total, measure)
    assert {r.key: r.total.allocated for r in report.rows}[None] == D("1500.00")


def test_the_outside_row_is_in_the_page_the_api_and_the_downloads(client, finance, org, budget):
    client.force_login(finance)
    query = f"?budget={budget.pk}&group_by=team&measure=actual"
    page = client.get(URL + query)
    labels = [row["label"] for row in page.context["grid"]]
    assert labels[-2:] == ["Spend outside any budget line", "Total"]
    assert "key=outside" in page.content.decode()
    written = list(csv.reader(io.StringIO(client.get(URL + query + "&format=csv").content.decode())))
    outside = next(r for r in written if r[0] == "Spend outside any budget line")
    assert outside[1] == "123.00"  # January
    body = client.get("/api/v1/budget-vs-actual/", {"budget": budget.pk, "group_by": "channel"}).json()
    row = next(r for r in body["rows"] if r["outside"])
    assert (row["key"], row["label"], row["total"]["actual"]) == (None, "Spend outside any budget line", "123.00")
    assert D(body["totals"]["total"]["actual"]) == _facts_spend(budget)


def test_finance_reaches_the_campaigns_behind_the_outside_row(client, finance, org, budget, month):
    client.force_login(finance)
    response = client.get(URL + f"cell/?budget={budget.pk}&group_by=month&key=outside")
    assert response.status_code == 200
    campaigns = response.context["campaigns"]
    assert [(c.name, c.spent) for c in campaigns] == [("Unfunded", D("123.00"))]
    assert reverse("campaigns:campaign-detail", args=[campaigns[0].pk]) in response.content.decode()
    february = client.get(URL + f"cell/?budget={budget.pk}&group_by=team&key=outside&period={month(2).pk}")
    assert list(february.context["campaigns"]) == []
