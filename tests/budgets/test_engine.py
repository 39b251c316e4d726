"""The budget ledger, hierarchy limits, allocation requests through the workflow, commitments."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from budgets import selectors, services
from budgets.models import Allocation, AllocationRequest, BudgetEntry, RequestStatus
from budgets.requests import services as request_services
from campaigns import services as campaign_services
from mops.models import AuditEvent
from mops.roles import Role
from planning import services as planning_services
from tests.factories import FxRateFactory, UserFactory
from workflows import services as workflow_services
from workflows.models import StepTask
from workflows.selectors import my_tasks
from workflows.services import ActionRefused

pytestmark = pytest.mark.django_db
D = Decimal


def test_phasing_is_a_ledger_the_budget_at_any_date_can_be_rebuilt(finance, team_line, month):
    march = (team_line.pk, month(3).pk)
    before_change = timezone.now()
    services.phasing_set(actor=finance, line=team_line, amounts={month(3): D("80000")})
    assert selectors.budget_cells([team_line.pk])[march] == D("80000.00")
    # Nothing was edited in place: the earlier figure is still there at its date.
    assert selectors.budget_cells([team_line.pk], at=before_change)[march] == D("100000.00")
    assert list(BudgetEntry.objects.filter(line=team_line, period=month(3)).values_list("amount", flat=True)) == [
        D("100000.00"),
        D("-20000.00"),
    ]
    assert AuditEvent.objects.filter(action="budget.phasing").count() == 2


def test_setting_the_same_amount_again_writes_nothing(finance, team_line, month):
    count = BudgetEntry.objects.count()
    services.phasing_set(actor=finance, line=team_line, amounts={month(1): D("100000")})
    assert BudgetEntry.objects.count() == count


def test_children_may_not_exceed_a_hard_parent(finance, budget, team, team_line, search_line, month):
    events = services.line_create(actor=finance, budget=budget, name="NA events", parent=team_line, team=team)
    with pytest.raises(ValidationError, match=re.escape("would add up to 100000.01, more than its 100000.00")):
        services.phasing_set(actor=finance, line=events, amounts={month(1): D("40000.01")})
    services.phasing_set(actor=finance, line=events, amounts={month(1): D("40000")})
    with pytest.raises(ValidationError, match=re.escape("sub-lines of North America already add up to 100000.00")):
        services.phasing_set(actor=finance, line=team_line, amounts={month(1): D("99999")})


def test_a_soft_parent_only_warns(finance, budget, team, month):
    parent = services.line_create(actor=finance, budget=budget, name="Brand", team=team, is_soft=True)
    services.phasing_set(actor=finance, line=parent, amounts={month(2): D("1000")})
    child = services.line_create(actor=finance, budget=budget, name="Brand video", parent=parent, team=team)
    result = services.phasing_set(actor=finance, line=child, amounts={month(2): D("1500")})
    assert result.warnings == ["Feb 2026: the lines under Brand would add up to 1500.00, more than its 1000.00."]


def test_a_closed_month_freezes_budget_movements(finance, team_line, month):
    planning_services.period_close(actor=finance, period=month(1))
    with pytest.raises(ValidationError, match="Jan 2026 is closed by finance"):
        services.phasing_set(actor=finance, line=team_line, amounts={month(1): D("1")})


@pytest.mark.parametrize("who", ["marketer", "cmo", "ops_admin"])
def test_only_finance_sets_envelopes(request, who, year, month):
    with pytest.raises(PermissionDenied):
        services.budget_create(actor=request.getfixturevalue(who), fiscal_year=year, name="Rogue")


def test_new_budget_versions_keep_the_old_ones(finance, budget, year):
    reforecast = services.budget_create(actor=finance, fiscal_year=year, name="Q2 reforecast", kind="reforecast")
    budget.refresh_from_db()
    assert (budget.is_current, reforecast.is_current, reforecast.version) == (False, True, 2)


def _request(marketer, line, campaign, month, amounts, currency="USD"):
    return request_services.allocation_request_create(
        actor=marketer,
        line=line,
        campaign=campaign,
        months={month(m): D(a) for m, a in amounts.items()},
        currency=currency,
        justification="Q1 search push",
    )


def test_request_runs_through_the_workflow_and_becomes_allocations(
    allocation_template, marketer, finance, search_line, campaign, month
):
    request = _request(marketer, search_line, campaign, month, {1: "10000", 2: "5000"})
    assert request.status == RequestStatus.PENDING
    assert not Allocation.objects.exists()  # nothing is promised before approval
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert sorted(Allocation.objects.values_list("period__start_date__month", "amount_base")) == [
        (1, D("10000.00")),
        (2, D("5000.00")),
    ]
    assert selectors.available(line=search_line, period=month(1)) == D("50000.00")


def test_the_cmo_approves_at_or_above_the_threshold(
    allocation_template, marketer, finance, cmo, search_line, campaign, month
):
    request = _request(marketer, search_line, campaign, month, {3: "30000", 4: "20000"})  # 50,000 in all
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING  # waiting for the CMO
    workflow_services.task_act(actor=cmo, task=my_tasks(cmo).get(), action="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_rejection_carries_the_comment_back_and_allocates_nothing(
    allocation_template, marketer, finance, search_line, campaign, month
):
    request = _request(marketer, search_line, campaign, month, {1: "10000"})
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="reject", comment="Use the Q2 line")
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert not Allocation.objects.exists()
    assert AuditEvent.objects.filter(action="step.reject", after__comment="Use the Q2 line").exists()


def test_approval_is_refused_when_the_line_no_longer_has_the_money(
    allocation_template, marketer, teammate, finance, search_line, campaign, month
):
    first = _request(marketer, search_line, campaign, month, {1: "40000"})
    second = _request(teammate, search_line, campaign, month, {1: "30000"})
    tasks = {t.instance.subject_id: t for t in my_tasks(finance)}
    workflow_services.task_act(actor=finance, task=tasks[str(first.pk)], action="approve")
    with pytest.raises(ValidationError, match=re.escape("Jan 2026: NA paid search has 20000.00 available")):
        workflow_services.task_act(actor=finance, task=tasks[str(second.pk)], action="approve")
    second.refresh_from_db()
    assert second.status == RequestStatus.PENDING  # the refused approval rolled back whole
    assert my_tasks(finance).get().instance.subject_id == str(second.pk)


def test_a_marketer_never_approves_their_own_request(allocation_template, team, search_line, campaign, month):
    dual = UserFactory(username="mia-dual", roles=[Role.MARKETER, Role.FINANCE], teams=[team])
    request = _request(dual, search_line, campaign, month, {1: "100"})
    assert AllocationRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING
    assert list(my_tasks(dual)) == []  # not routed to the requester …
    task = StepTask.objects.get(name="Finance approval")
    task.assignments.create(user=dual)
    with pytest.raises(ActionRefused, match="separation of duties"):  # … and refused if routed anyway
        workflow_services.task_act(actor=dual, task=task, action="approve")


def test_requests_in_another_currency_are_converted_at_todays_rate(
    allocation_template, marketer, search_line, campaign, month
):
    FxRateFactory(currency_id="EUR", date=timezone.localdate() - datetime.timedelta(days=3), rate=D("1.10"))
    request = _request(marketer, search_line, campaign, month, {1: "1000.005"}, currency="EUR")
    assert (request.amount, request.amount_base, request.fx_rate) == (D("1000.01"), D("1100.01"), D("1.10"))


def test_outsiders_cannot_ask_for_money_for_another_teams_campaign(
    allocation_template, outsider, search_line, campaign, month
):
    with pytest.raises(PermissionDenied):
        _request(outsider, search_line, campaign, month, {1: "100"})


def test_commitments_hold_money_until_invoices_release_them(finance, marketer, search_line, campaign, month):
    services.commitment_create(
        actor=finance,
        line=search_line,
        campaign=campaign,
        vendor="Search Agency",
        reference="PO-123",
        amount=D("10000"),
        currency="USD",
        period=month(1),
    )
    assert selectors.open_commitment_cells([search_line.pk]) == {(search_line.pk, month(1).pk): D("10000.00")}
    campaign_services.spend_log(
        actor=marketer,
        campaign=campaign,
        date=datetime.date(2026, 1, 20),
        amount=D("4000"),
        currency="USD",
        reference="PO-123",
    )
    assert selectors.open_commitment_cells([search_line.pk]) == {(search_line.pk, month(1).pk): D("6000.00")}


def test_available_never_counts_a_dollar_twice(allocation_template, finance, marketer, search_line, campaign, month):
    _request(marketer, search_line, campaign, month, {1: "20000"})  # of the line's 60,000
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    services.commitment_create(
        actor=finance,
        line=search_line,
        campaign=campaign,
        vendor="Agency",
        reference="PO-9",
        amount=D("8000"),
        currency="USD",
        period=month(1),
    )
    campaign_services.spend_log(
        actor=marketer,
        campaign=campaign,
        date=datetime.date(2026, 1, 10),
        amount=D("5000"),
        currency="USD",
        reference="PO-9",
    )
    # The allocation covers the commitment and the invoice: 60,000 − 20,000 whatever the split.
    assert selectors.available(line=search_line, period=month(1)) == D("40000.00")
    campaign_services.spend_log(
        actor=marketer, campaign=campaign, date=datetime.date(2026, 1, 11), amount=D("18000"), currency="USD"
    )
    # Spent (23,000) + still committed (3,000) now exceed the allocation: 60,000 − 26,000.
    assert selectors.available(line=search_line, period=month(1)) == D("34000.00")


def test_an_approved_or_rejected_request_names_who_decided(
    allocation_template, marketer, finance, search_line, campaign, month
):
    approved = _request(marketer, search_line, campaign, month, {1: "1000"})
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    rejected = _request(marketer, search_line, campaign, month, {2: "1000"})
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="reject", comment="No")
    events = AuditEvent.objects.filter(action__in=["allocation_request.approved", "allocation_request.rejected"])
    assert {(e.object_id, e.action, e.actor) for e in events} == {
        (str(approved.pk), "allocation_request.approved", finance),
        (str(rejected.pk), "allocation_request.rejected", finance),
    }
