import datetime
from decimal import Decimal

import pytest

from budgets import services
from mops.roles import Role
from planning.models import Period
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory, UserFactory
from tests.workflows.conftest import step
from workflows import services as workflow_services


@pytest.fixture
def year(db):
    return fiscal_year_ensure(year=2026)


@pytest.fixture
def month(year):
    """``month(3)`` is March 2026."""

    def get(number):
        return Period.objects.get(start_date=datetime.date(2026, number, 1))

    return get


@pytest.fixture
def budget(finance, year):
    return services.budget_create(actor=finance, fiscal_year=year, name="FY2026 marketing", target=Decimal("1000000"))


@pytest.fixture
def team_line(finance, budget, team, month):
    """The marketer's team line, 100,000 a month, with a paid-search sub-line of 60,000."""
    parent = services.line_create(actor=finance, budget=budget, name="North America", team=team)
    services.phasing_set(actor=finance, line=parent, amounts={month(m): Decimal("100000") for m in range(1, 13)})
    return parent


@pytest.fixture
def search_line(finance, budget, team, team_line, month):
    line = services.line_create(actor=finance, budget=budget, name="NA paid search", parent=team_line, team=team)
    services.phasing_set(actor=finance, line=line, amounts={month(m): Decimal("60000") for m in range(1, 13)})
    return line


@pytest.fixture
def campaign(team, marketer, year):
    channel = ChannelFactory(name="Paid search", slug="paid-search")
    return CampaignFactory(code="na-search-q1", team=team, owner=marketer, channel=channel)


@pytest.fixture
def second_finance(db):
    return UserFactory(username="fiona-finance", roles=[Role.FINANCE])


@pytest.fixture
def allocation_template(ops_admin):
    """Finance approves; the CMO too from 50,000 (the demo's "Budget allocation request")."""
    return workflow_services.template_create(
        actor=ops_admin,
        name="Budget allocation request",
        subject_type="budget_allocation",
        steps=[
            step("Finance approval", stage=1, role=Role.FINANCE),
            step(
                "CMO approval",
                stage=2,
                role=Role.CMO,
                condition_attribute="amount",
                condition_operator="gte",
                condition_value="50000",
            ),
        ],
    )
