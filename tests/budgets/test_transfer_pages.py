"""Transfer pages and the transfers / budget-vs-actual API: as finance, a marketer of the team, an
outsider, the CMO and anonymous; create → workflow → approve → ledger entries."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets import services
from budgets.models import BudgetEntry, EntryKind, RequestStatus, Transfer, TransferKind
from budgets.reports import selectors as report_selectors
from budgets.transfers import services as transfer_services
from mops.roles import Role
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
D = Decimal
TRANSFERS = "/api/v1/transfers/"
BVA = "/api/v1/budget-vs-actual/"


@pytest.fixture
def transfer_template(ops_admin):
    """Like the demo's: two parallel finance approvals, by two different people."""
    return workflow_services.template_create(
        actor=ops_admin,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[
            step("Finance approval — source line", stage=1, role=Role.FINANCE),
            step("Finance approval — destination line", stage=1, role=Role.FINANCE),
        ],
    )


@pytest.fixture
def events_line(finance, budget, team, month):
    line = services.line_create(actor=finance, budget=budget, name="NA events", team=team)
    services.phasing_set(actor=finance, line=line, amounts={month(m): D("20000") for m in range(1, 13)})
    return line


@pytest.fixture
def emea_line(finance, budget, other_team, month):
    line = services.line_create(actor=finance, budget=budget, name="EMEA", team=other_team)
    services.phasing_set(actor=finance, line=line, amounts={month(m): D("50000") for m in range(1, 13)})
    return line


@pytest.fixture
def transfer(transfer_template, marketer, team_line, events_line, month):
    return transfer_services.transfer_request_create(
        actor=marketer,
        from_line=team_line,
        from_period=month(3),
        to_line=events_line,
        to_period=month(3),
        amount=D("5000"),
        reason="Events need more",
    )


def _login(client, user):
    client.force_login(user)
    return client


def _approve_all(*approvers):
    for approver in approvers:
        workflow_services.task_act(actor=approver, task=my_tasks(approver).first(), action="approve")


# --- pages ----------------------------------------------------------------------------------


def test_marketer_asks_for_a_transfer_from_the_page_and_finance_approves_it(
    client, marketer, finance, second_finance, transfer_template, team_line, events_line, month
):
    page = _login(client, marketer).get(reverse("budgets:transfer-create"))
    assert page.status_code == 200
    assert b"carry_forward" not in page.content  # carry-forward is finance's
    response = client.post(
        reverse("budgets:transfer-create"),
        {
            "kind": "reallocation",
            "from_line": team_line.pk,
            "from_period": month(3).pk,
            "to_line": events_line.pk,
            "to_period": month(3).pk,
            "amount": "15000",
            "reason": "Events need more",
        },
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and response.url == reverse("budgets:transfer-detail", args=[transfer.pk])
    detail = client.get(response.url)
    assert detail.status_code == 200
    assert b"Finance approval \xe2\x80\x94 source line" in detail.content  # the workflow strip
    _approve_all(finance, second_finance)
    transfer.refresh_from_db()
    assert transfer.status == RequestStatus.APPROVED
    assert sorted(BudgetEntry.objects.filter(transfer=transfer).values_list("line_id", "amount")) == sorted(
        [(team_line.pk, D("-15000.00")), (events_line.pk, D("15000.00"))]
    )
    assert b"-15000.00" in client.get(response.url).content
    assert b"Approved" in client.get(reverse("budgets:transfer-list")).content


def test_service_errors_are_shown_and_input_kept(client, marketer, transfer_template, team_line, emea_line, month):
    response = _login(client, marketer).post(
        reverse("budgets:transfer-create"),
        {
            "kind": "reallocation",
            "from_line": team_line.pk,
            "from_period": month(3).pk,
            "to_line": team_line.pk,
            "to_period": month(3).pk,
            "amount": "123.45",
            "reason": "Kept reason",
        },
    )
    assert response.status_code == 200
    assert b"another line or month" in response.content
    assert b"123.45" in response.content and b"Kept reason" in response.content
    assert not Transfer.objects.exists()
    # Another team's line is not even offered to a marketer.
    response = client.post(
        reverse("budgets:transfer-create"),
        {"kind": "reallocation", "from_line": emea_line.pk, "from_period": month(3).pk, "to_line": team_line.pk}
        | {"to_period": month(3).pk, "amount": "1", "reason": "x"},
    )
    assert response.status_code == 200 and not Transfer.objects.exists()


def test_finance_carries_forward_from_the_page(client, finance, team_line, month):
    response = _login(client, finance).post(
        reverse("budgets:transfer-create"),
        {
            "kind": "carry_forward",
            "from_line": team_line.pk,
            "from_period": month(4).pk,
            "to_line": team_line.pk,
            "to_period": month(6).pk,
            "amount": "1000",
            "reason": "Unspent April",
        },
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302
    assert (transfer.kind, transfer.status) == (TransferKind.CARRY_FORWARD, RequestStatus.APPROVED)
    assert set(BudgetEntry.objects.filter(transfer=transfer).values_list("kind", flat=True)) == {
        EntryKind.CARRY_FORWARD
    }


def test_who_sees_the_transfer_pages(client, transfer, marketer, outsider, finance, cmo):
    detail = reverse("budgets:transfer-detail", args=[transfer.pk])
    lists, create = reverse("budgets:transfer-list"), reverse("budgets:transfer-create")
    for url in (detail, lists, create):
        assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (marketer, finance, cmo):
        assert _login(client, user).get(detail).status_code == 200
        assert b"#%d" % transfer.pk in client.get(lists).content
    assert _login(client, cmo).get(create).status_code == 403  # the CMO reads
    assert _login(client, outsider).get(detail).status_code == 404
    assert b"#%d" % transfer.pk not in client.get(lists).content


def test_home_links_the_transfers(client, finance, budget):
    assert reverse("budgets:transfer-list").encode() in _login(client, finance).get(reverse("budgets:home")).content


def test_the_workflow_subject_links_to_the_detail_page(transfer):
    from workflows import registry

    assert registry.get("budget_transfer").url_of(transfer) == reverse("budgets:transfer-detail", args=[transfer.pk])


# --- transfers API --------------------------------------------------------------------------


def test_marketer_creates_a_transfer_and_finance_approves_through_the_tasks_api(
    api_as, marketer, finance, second_finance, transfer_template, team_line, events_line
):
    payload = {
        "from_line": team_line.pk,
        "from_month": "2026-03-15",
        "to_line": events_line.pk,
        "to_month": "2026-03-01",
        "amount": "2500.00",
        "reason": "Events need more",
    }
    response = api_as(marketer).post(TRANSFERS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["amount"], body["from_month"], body["kind"]) == (
        "pending",
        "2500.00",
        "2026-03-01",
        "reallocation",
    )
    for approver in (finance, second_finance):
        task = my_tasks(approver).first()
        assert api_as(approver).post(f"/api/v1/tasks/{task.pk}/approve/", {}, format="json").status_code == 200
    assert api_as(marketer).get(f"{TRANSFERS}{body['id']}/").json()["status"] == "approved"
    assert BudgetEntry.objects.filter(transfer_id=body["id"]).count() == 2


def test_transfer_api_permissions(api, api_as, transfer, marketer, outsider, finance, cmo, team_line, emea_line):
    assert api.get(TRANSFERS).status_code in (401, 403)
    for user in (marketer, finance, cmo):
        assert [row["id"] for row in api_as(user).get(TRANSFERS).json()["results"]] == [transfer.pk]
    assert api_as(outsider).get(TRANSFERS).json()["results"] == []
    assert api_as(outsider).get(f"{TRANSFERS}{transfer.pk}/").status_code == 404
    payload = {"from_line": team_line.pk, "from_month": "2026-03-01", "to_line": team_line.pk}
    payload |= {"to_month": "2026-04-01", "amount": "10", "reason": "x"}
    assert api_as(cmo).post(TRANSFERS, payload, format="json").status_code == 403
    # The outsider cannot name the other team's lines: they "do not exist" for them.
    response = api_as(outsider).post(TRANSFERS, payload, format="json")
    assert response.status_code == 400 and "from_line" in response.json()
    response = api_as(marketer).post(TRANSFERS, payload | {"to_line": emea_line.pk}, format="json")
    assert response.status_code == 400 and "to_line" in response.json()  # not visible to the marketer
    response = api_as(finance).post(TRANSFERS, payload | {"amount": "0"}, format="json")
    assert response.status_code == 400 and "amount" in response.json()


# --- budget vs actual API -------------------------------------------------------------------


def _s(value):
    return None if value is None else str(value)


@pytest.mark.parametrize("group_by", ["line", "team", "month"])
def test_bva_api_numbers_equal_the_selector(api_as, finance, budget, team_line, search_line, emea_line, group_by):
    response = api_as(finance).get(BVA, {"group_by": group_by, "start": "2026-02", "end": "2026-04"})
    assert response.status_code == 200, response.json()
    body = response.json()
    report = report_selectors.budget_vs_actual(
        budget=budget, group_by=group_by, start=datetime.date(2026, 2, 1), end=datetime.date(2026, 4, 1)
    )
    assert body["budget"] == budget.pk and body["months"] == ["2026-02-01", "2026-03-01", "2026-04-01"]
    assert [row["label"] for row in body["rows"]] == [row.label for row in report.rows]
    for got, want in zip([*body["rows"], body["totals"]], [*report.rows, report.totals], strict=True):
        for name in ("budget", "allocated", "committed", "actual", "available", "forecast"):
            assert got["total"][name] == str(getattr(want.total, name))
        assert got["total"]["utilisation"] == _s(want.total.utilisation)
        assert len(got["months"]) == 3
    assert body["totals"]["total"]["budget"] == "450000.00"  # NA 100,000 + EMEA 50,000, three months


def test_bva_api_for_a_marketer_counts_only_their_lines(api_as, marketer, budget, team_line, emea_line):
    body = api_as(marketer).get(BVA, {"group_by": "team"}).json()
    assert [(row["key"], row["outside"]) for row in body["rows"]] == [(team_line.team_id, False), (None, True)]
    assert body["totals"]["total"]["budget"] == "1200000.00"


def test_bva_api_permissions_and_parameters(api, api_as, finance, cmo, ops_admin, budget, team_line):
    assert api.get(BVA).status_code in (401, 403)
    assert api_as(ops_admin).get(BVA).status_code == 403
    assert api_as(cmo).get(BVA).status_code == 200
    for params, field in [
        ({"group_by": "colour"}, "group_by"),
        ({"start": "2026-13"}, "start"),
        ({"end": "March"}, "end"),
        ({"start": "2030-01"}, "start"),
        ({"start": "2026-05", "end": "2026-02"}, "end"),
        ({"budget": "999999"}, "budget"),
    ]:
        response = api_as(finance).get(BVA, params)
        assert response.status_code == 400 and field in response.json(), (params, response.json())
    assert api_as(finance).get(BVA, {"budget": budget.pk, "group_by": "campaign"}).status_code == 200
