"""One rule for a line-month's money (issue 19, 3b): ``selectors.ledger_cells``. The approval checks
(allocations, transfers, carry-forward) and budget vs actual read the same figures, so what finance
sees available is exactly what a request may take."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import selectors, services
from budgets.models import Allocation, RequestStatus, Transfer
from budgets.reports import selectors as report_selectors
from budgets.requests import services as request_services
from budgets.transfers import services as transfer_services
from campaigns import services as campaign_services
from mops.roles import Role
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0.00")


@pytest.fixture
def transfer_template(ops_admin):
    return workflow_services.template_create(
        actor=ops_admin,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
    )


def _approve(approver):
    for task in list(my_tasks(approver)):
        workflow_services.task_act(actor=approver, task=task, action="approve")


def _bva_cell(budget, line, period):
    report = report_selectors.budget_vs_actual(budget=budget, group_by="line")
    row = next(r for r in report.rows if r.key == line.pk)
    return row.months[period.pk]


def test_ledger_cells_give_the_own_budget_and_every_measure(finance, budget, team_line, search_line, month):
    cells = selectors.ledger_cells(budget=budget)
    assert cells[(team_line.pk, month(3).pk)].budget == D("40000.00")  # 100,000 − its sub-line's 60,000
    assert cells[(search_line.pk, month(3).pk)].budget == D("60000.00")
    assert cells[(team_line.pk, month(3).pk)].available == D("40000.00")
    narrowed = selectors.ledger_cells(budget=budget, line_ids=[team_line.pk], period_ids=[month(3).pk])
    assert narrowed == {(team_line.pk, month(3).pk): cells[(team_line.pk, month(3).pk)]}


def test_a_transfer_of_a_cent_more_than_budget_vs_actual_shows_available_is_refused(
    transfer_template, allocation_template, finance, marketer, budget, team, campaign, month
):
    """The issue's case: a campaign funded by an allocation in February spends in March. Budget vs
    actual counts that spend against the line in March; the check at approval used to look only at
    March's allocations, found none, and let 3,514.29 go where 3,514.28 was available."""
    line = services.line_create(actor=finance, budget=budget, name="NA display", team=team)
    services.phasing_set(actor=finance, line=line, amounts={month(2): D("5000"), month(3): D("10000")})
    events = services.line_create(actor=finance, budget=budget, name="NA events", team=team)
    request_services.allocation_request_create(
        actor=marketer,
        line=line,
        campaign=campaign,
        months={month(2): D("5000")},
        currency="USD",
        justification="February flight",
    )
    _approve(finance)
    campaign_services.spend_log(
        actor=marketer, campaign=campaign, date=datetime.date(2026, 3, 10), amount=D("6485.72"), currency="USD"
    )
    shown = _bva_cell(budget, line, month(3)).available
    assert shown == D("3514.28")
    assert selectors.available(line=line, period=month(3)) == shown
    transfer_services.transfer_request_create(
        actor=marketer,
        from_line=line,
        from_period=month(3),
        to_line=events,
        to_period=month(3),
        amount=D("3514.29"),
        reason="Events",
    )
    with pytest.raises(ValidationError, match=re.escape("has 3514.28 available, the transfer needs 3514.29")):
        _approve(finance)
    assert Transfer.objects.get().status == RequestStatus.PENDING


def test_an_allocation_from_a_parent_is_checked_against_what_it_kept(
    allocation_template, finance, marketer, budget, team, campaign, month
):
    """A soft parent of 10,000 whose sub-line holds 10,357.42 keeps −357.42 of its own: a 1,000
    allocation from it is refused (it was checked against the parent's whole 10,000)."""
    parent = services.line_create(actor=finance, budget=budget, name="EMEA field", team=team, is_soft=True)
    services.phasing_set(actor=finance, line=parent, amounts={month(9): D("10000")})
    child = services.line_create(actor=finance, budget=budget, name="EMEA partner", team=team, parent=parent)
    assert services.phasing_set(actor=finance, line=child, amounts={month(9): D("10357.42")}).warnings
    assert _bva_cell(budget, parent, month(9)).budget == D("10000.00")  # its row rolls its sub-line up
    assert selectors.ledger_cells(budget=budget)[(parent.pk, month(9).pk)].available == D("-357.42")
    assert selectors.available(line=parent, period=month(9)) == D("-357.42")
    request_services.allocation_request_create(
        actor=marketer,
        line=parent,
        campaign=campaign,
        months={month(9): D("1000")},
        currency="USD",
        justification="Partner event",
    )
    with pytest.raises(ValidationError, match=re.escape("Sep 2026: EMEA field has -357.42 available")):
        _approve(finance)
    assert not Allocation.objects.exists()


def test_available_is_budget_vs_actual_available_for_every_line_month(
    allocation_template, finance, marketer, budget, team, team_line, search_line, campaign, month
):
    request_services.allocation_request_create(
        actor=marketer,
        line=search_line,
        campaign=campaign,
        months={month(1): D("1000"), month(4): D("2000")},
        currency="USD",
        justification="Plan",
    )
    request_services.allocation_request_create(
        actor=marketer,
        line=team_line,
        campaign=campaign,
        months={month(2): D("3000")},
        currency="USD",
        justification="Plan",
    )
    _approve(finance)
    for day, amount in ((datetime.date(2026, 1, 5), "333.33"), (datetime.date(2026, 5, 7), "1000.01")):
        campaign_services.spend_log(actor=marketer, campaign=campaign, date=day, amount=D(amount), currency="USD")
    report = report_selectors.budget_vs_actual(budget=budget, group_by="team")
    cells = selectors.ledger_cells(budget=budget)
    for line in (team_line, search_line):
        for period in budget.fiscal_year.periods.all():
            assert selectors.available(line=line, period=period) == cells[(line.pk, period.pk)].available
    assert report.totals.total.available == sum((c.available for c in cells.values()), ZERO)
    assert report.totals.total.actual == D("1333.34")
    may = month(5).pk
    assert cells[(team_line.pk, may)].actual + cells[(search_line.pk, may)].actual == D("1000.01")
