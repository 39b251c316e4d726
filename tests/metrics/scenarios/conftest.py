"""Fixtures of the scenario-planning tests: fitted response models, budget lines and the budget
transfer workflow. ``fast_fits`` (fewer bootstrap draws) is asked for by the modules that fit."""

import pytest

from metrics.scenarios import services as scenario_services
from metrics.scenarios.models import FitStatus
from mops.roles import Role
from tests.metrics.scenarios.scenario_data import D, fy2026_budget, simulated_history
from tests.workflows.conftest import step
from workflows import services as workflow_services


@pytest.fixture
def fast_fits(monkeypatch):
    monkeypatch.setattr(scenario_services, "BOOTSTRAP", 40)  # bands from 40 draws: enough to test with


@pytest.fixture
def history(team, marketer):
    return simulated_history(team=team, owner=marketer)


@pytest.fixture
def fit(django_capture_on_commit_callbacks):
    """``fit(actor, **inputs)``: ask for a model and let the (eager) task fit it after commit."""

    def run(actor, **inputs):
        inputs.setdefault("outcome", "pipeline")
        with django_capture_on_commit_callbacks(execute=True):
            model = scenario_services.response_model_request(actor=actor, **inputs)
        model.refresh_from_db()
        return model

    return run


@pytest.fixture
def org_model(cmo, history, fit):
    model = fit(cmo)
    assert model.status == FitStatus.DONE, model.error
    return model


@pytest.fixture
def team_model(marketer, team, history, fit):
    model = fit(marketer, team=team)
    assert model.status == FitStatus.DONE, model.error
    return model


@pytest.fixture
def budget_lines(finance, team, history):
    monthly = {"Paid search": D("20000"), "Paid social": D("15000"), "Events": D("10000")}
    return fy2026_budget(finance=finance, team=team, channels=history, monthly=monthly)


@pytest.fixture
def transfer_template(ops_admin):
    return workflow_services.template_create(
        actor=ops_admin,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
    )
