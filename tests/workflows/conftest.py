"""Fixtures for workflow tests: a two-stage approval template on general requests and a request."""

from decimal import Decimal

import pytest

from mops.roles import Role
from tests.factories import UserFactory
from workflows import services, subjects
from workflows.models import Request


def step(name, *, stage, kind="approval", assignee_type="role", role="", user=None, **extra):
    return {
        "name": name,
        "stage": stage,
        "kind": kind,
        "assignee_type": assignee_type,
        "role": role,
        "user": user,
        **extra,
    }


@pytest.fixture
def second_finance(db):
    return UserFactory(username="fiona-finance", roles=[Role.FINANCE])


@pytest.fixture
def template(ops_admin):
    """Stage 1: team lead approves. Stage 2: finance approves; the CMO too from 50,000."""
    return services.template_create(
        actor=ops_admin,
        name="Spend approval",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[
            step("Lead approval", stage=1, assignee_type="team_lead"),
            step("Finance approval", stage=2, role=Role.FINANCE),
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


@pytest.fixture
def start_request(marketer, team, template):
    def start(amount="1000", actor=None, **kwargs):
        return subjects.request_create(
            actor=actor or marketer,
            template=template,
            title=kwargs.pop("title", "Trade show booth"),
            team=team,
            amount=Decimal(amount) if amount is not None else None,
            currency="USD",
            **kwargs,
        )

    return start


def instance_of(request: Request):
    from workflows.selectors import instances_of

    return instances_of(request).get()
