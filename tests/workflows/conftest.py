"""Fixtures and helpers for workflow tests: a two-stage approval template on general requests, a request,
and the small helpers the page and API tests share (url, flash, formset_data, results, task_of)."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from mops.roles import Role
from tests.factories import UserFactory
from workflows import services, subjects
from workflows.models import (
    Request,
    StepTask,
)
from workflows.selectors import my_tasks


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


def results(response):
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def task_of(user):
    return my_tasks(user).get()


def url(name, *args):
    return reverse(f"workflows:{name}", args=args)


def lead_task():
    return StepTask.objects.get(name="Lead approval", round=1)


def flash(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def formset_data(steps, *, prefix="steps", extra=2, **fields):
    """POST data of the template editor: ``steps`` as rows, then ``extra`` untouched blank rows."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(steps) + extra),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        **fields,
    }
    blank = {"kind": "approval", "stage_rule": "all", "assignee_type": "role", "sla_days": "2"}
    for index, row in enumerate([*steps, *([blank] * extra)]):
        for key, value in {**blank, **row}.items():
            data[f"{prefix}-{index}-{key}"] = "" if value is None else str(value)
    return data
