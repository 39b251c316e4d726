"""The world the finance, marketer and ops dashboard tests read: workflow templates, budgets,
campaigns, facts and a pending request (see ``helpers`` for the builders)."""

import datetime

import pytest

from budgets import services as budget_services
from budgets.requests import services as request_services
from budgets.transfers import services as transfer_services
from metrics.rollups import services
from mops.roles import Role
from planning.models import Period
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory, UserFactory
from tests.metrics.dashboards.roles.helpers import D, results, spend
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows import subjects
from workflows.selectors import my_tasks


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
    request_services.allocation_request_create(
        actor=marketer,
        line=na_line,
        campaign=q1,
        months={month[m]: D("3000") for m in (1, 2, 3)},
        currency="USD",
        justification="Search",
    )
    request_services.allocation_request_create(
        actor=outsider, line=emea_line, campaign=emea, months={month[2]: D("20000")}, currency="USD", justification="x"
    )
    for task in list(my_tasks(finance)):
        workflow_services.task_act(actor=finance, task=task, action="approve")
    request_services.allocation_request_create(
        actor=marketer,
        line=na_line,
        campaign=spring,
        months={month[4]: D("7500.50")},
        currency="USD",
        justification="x",
    )  # stays pending
    # A request finance makes needs another finance user to decide it (separation of duties).
    UserFactory(username="fiona-finance", roles=[Role.FINANCE])
    transfer_services.transfer_request_create(
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
