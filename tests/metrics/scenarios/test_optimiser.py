"""Scenarios: the optimiser's total to the cent and its bounds, equal marginal returns, bad input, a
hand edit, and a scenario's states."""

import pytest

from metrics.scenarios import services as scenario_services
from metrics.scenarios.models import FitStatus, ResponseModel, Scenario, ScenarioKind
from tests.metrics.scenarios.scenario_data import APRIL, SCENARIOS, D, optimised

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_fits")]


# --- the optimiser and scenarios -------------------------------------------------------------------


def test_the_optimiser_api_respects_the_total_to_the_cent_and_the_bounds(api_as, cmo, org_model, budget_lines):
    payload = {
        "response_model": org_model.pk,
        "start": "2026-04-15",
        "months": 3,
        "total_budget": "100000.01",
        "lines": [
            {"member": "Events", "locked": "10000.00"},
            {"member": "Paid search", "minimum": "20000.00"},
            {"member": "Paid social", "maximum": "50000.00"},
        ],
    }
    response = api_as(cmo).post(f"{SCENARIOS}optimise/", payload, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    amounts = {line["member"]: D(line["amount"]) for line in body["lines"]}
    assert sum(amounts.values()) == D("100000.01") == D(body["total_budget"])
    assert amounts["Events"] == D("10000.00")
    assert amounts["Paid search"] >= D("20000.00") and amounts["Paid social"] <= D("50000.00")
    # The current plan is the budget lines' three months (and nothing is saved by a preview).
    plan = {line["member"]: D(line["plan_amount"]) for line in body["lines"]}
    assert plan == {"Paid search": D("60000.00"), "Paid social": D("45000.00"), "Events": D("30000.00")}
    assert {line["plan_source"] for line in body["lines"]} == {"budget"}
    assert body["weeks"] == 13 and body["predicted"]["low"] <= body["predicted"]["value"] <= body["predicted"]["high"]
    assert Scenario.objects.count() == 0

    saved = api_as(cmo).post(f"{SCENARIOS}optimise/", payload | {"save": True, "name": "Q2 optimum"}, format="json")
    assert saved.status_code == 201
    scenario = Scenario.objects.get()
    assert scenario.total_budget == D("100000.01") == sum(line.amount for line in scenario.lines.all())
    assert (scenario.kind, scenario.start, scenario.weeks) == (ScenarioKind.OPTIMISED, APRIL, 13)


def test_free_channels_end_with_equal_marginal_returns(cmo, org_model, budget_lines):
    draft = scenario_services.scenario_compute(actor=cmo, model=org_model, inputs=optimised())
    allocation = draft.allocation
    assert allocation.proposed_total == allocation.current_total == D("135000.00")  # default: the plan's total
    assert allocation.proposed_outcome.value >= allocation.current_outcome.value
    free = [line.marginal_return for line in allocation.lines if line.constraint == "free"]
    if len(free) > 1:
        assert allocation.marginal_returns_equal and max(free) - min(free) <= 1e-3 * max(free)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"total_budget": "1000.00", "lines": [{"member": "Events", "minimum": "5000.00"}]}, "total_budget"),
        ({"lines": [{"member": "Radio", "maximum": "5.00"}]}, "lines"),
        ({"lines": [{"member": "Events", "minimum": "9.00", "maximum": "5.00"}]}, "lines"),
        ({"total_budget": "10.001"}, "total_budget"),
        ({"months": 13}, "months"),
        ({"lines": [{"member": "Events"}, {"member": "Events"}]}, "lines"),
        ({"save": True}, "name"),
    ],
)
def test_bad_optimiser_input_is_a_400_naming_the_field(api_as, cmo, org_model, payload, field):
    body = {"response_model": org_model.pk, "start": "2026-04-01", **payload}
    response = api_as(cmo).post(f"{SCENARIOS}optimise/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_an_unfitted_model_cannot_be_planned_with(api_as, cmo, team, fit, history):
    failed = ResponseModel.objects.create(
        outcome="pipeline", requested_by=cmo, status=FitStatus.FAILED, error="Only 3 weeks of history."
    )
    response = api_as(cmo).post(
        f"{SCENARIOS}optimise/", {"response_model": failed.pk, "start": "2026-04-01"}, format="json"
    )
    assert response.status_code == 400 and "Only 3 weeks" in response.json()["response_model"][0]


def test_a_hand_edit_changes_the_plan_by_percentages(api_as, marketer, team_model, budget_lines):
    payload = {
        "response_model": team_model.pk,
        "name": "+10 % social, −20 % events",
        "kind": "hand",
        "start": "2026-04-01",
        "lines": [
            {"member": "Paid social", "change_percent": "10"},
            {"member": "Events", "change_percent": "-20"},
        ],
    }
    response = api_as(marketer).post(SCENARIOS, payload, format="json")
    assert response.status_code == 201, response.json()
    lines = {line["member"]: line for line in response.json()["lines"]}
    assert D(lines["Paid social"]["amount"]) == D("49500.00")  # 45,000 + 10 %
    assert D(lines["Events"]["amount"]) == D("24000.00")  # 30,000 − 20 %
    assert D(lines["Paid search"]["amount"]) == D("60000.00")  # unchanged
    assert response.json()["team"] == team_model.team_id


def test_scenario_crud_and_states(api_as, marketer, team_model, budget_lines):
    created = api_as(marketer).post(
        SCENARIOS,
        {"response_model": team_model.pk, "name": "Plan as is", "kind": "plan", "start": "2026-04-01"},
        format="json",
    )
    assert created.status_code == 201
    url = f"{SCENARIOS}{created.json()['id']}/"
    assert D(created.json()["uplift"]) == 0

    changed = api_as(marketer).patch(url, {"kind": "optimised", "note": "let the model split it"}, format="json")
    assert changed.status_code == 200 and changed.json()["kind"] == "optimised"
    assert api_as(marketer).post(f"{url}accept/").json()["status"] == "accepted"
    assert api_as(marketer).post(f"{url}accept/").status_code == 409
    assert api_as(marketer).patch(url, {"name": "x"}, format="json").status_code == 409  # reopen first
    assert api_as(marketer).post(f"{url}reopen/").json()["status"] == "draft"
    assert api_as(marketer).delete(url).status_code == 204
    assert api_as(marketer).get(url).status_code == 404
