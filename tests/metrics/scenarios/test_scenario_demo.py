"""The demo organisation and scenario planning: its history (a year and a bit of weekly facts) gives a
response model by program, and a plain refusal by channel — never an error page."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from budgets import demo as budgets_demo
from campaigns import demo as campaigns_demo
from metrics import demo
from metrics.scenarios import services as scenario_services
from metrics.scenarios.models import FitStatus, ResponseModel
from mops import demo as core_demo
from planning import demo as planning_demo
from workflows import demo as workflows_demo

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def quiet(*args):
    pass


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch, transaction.atomic():
        patch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
        patch.setattr(scenario_services, "BOOTSTRAP", 40)
        for module in (core_demo, planning_demo, campaigns_demo, workflows_demo, budgets_demo):
            module.seed(log=quiet)
        first = demo.seed(log=quiet)  # the model is queued: its task runs after the demo commits
        second = demo.seed(log=quiet)
        model = ResponseModel.objects.get()
        scenario_services.response_model_fit(model_id=model.pk)  # what the task does after commit
        cmo = get_user_model().objects.get(username="cmo")
        by_channel = ResponseModel.objects.create(outcome="pipeline", level="channel", requested_by=cmo)
        scenario_services.response_model_fit(model_id=by_channel.pk)
        yield {"first": first, "second": second, "program": model.pk, "channel": by_channel.pk}
        transaction.set_rollback(True)


def test_the_demo_asks_for_one_model(seeded):
    assert (seeded["first"], seeded["second"]) == (1, 0)


def test_the_demo_fits_by_program(seeded):
    model = ResponseModel.objects.get(pk=seeded["program"])
    assert model.status == FitStatus.DONE, model.error
    assert model.weeks >= 52
    assert any("yearly seasonality" in warning for warning in model.result["warnings"])


def test_by_channel_the_demo_says_why_not(seeded):
    model = ResponseModel.objects.get(pk=seeded["channel"])
    assert model.status == FitStatus.FAILED
    assert "cannot support" in model.error and "group small ones" in model.error
