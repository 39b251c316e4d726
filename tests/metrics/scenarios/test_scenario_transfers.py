"""From an accepted scenario to budget transfer requests through the budget workflow."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from budgets.models import RequestStatus, Transfer
from metrics.scenarios import services as scenario_services
from metrics.scenarios import transfers as scenario_transfers
from metrics.scenarios.models import Scenario, ScenarioStatus, ScenarioTransfer
from mops.errors import Conflict
from mops.roles import Role
from tests.factories import UserFactory
from tests.metrics.scenarios.scenario_data import SCENARIOS, D, fy2026_budget, optimised
from workflows.selectors import my_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_fits")]


# --- from a scenario to transfers ------------------------------------------------------------------


def test_propose_transfers_creates_pending_requests_for_finance(
    api_as, client, cmo, finance, org_model, budget_lines, transfer_template
):
    scenario = scenario_services.scenario_create(actor=cmo, model=org_model, name="Q2 optimum", inputs=optimised())
    url = f"{SCENARIOS}{scenario.pk}/"
    assert api_as(cmo).post(f"{url}propose-transfers/").status_code == 409  # accept first
    api_as(cmo).post(f"{url}accept/")

    response = api_as(cmo).post(f"{url}propose-transfers/")

    assert response.status_code == 201, response.json()
    transfers = Transfer.objects.order_by("id")
    assert transfers.count() == len(response.json()["transfers"]) > 0
    assert {t.status for t in transfers} == {RequestStatus.PENDING}
    assert {t.requested_by for t in transfers} == {cmo}
    assert ScenarioTransfer.objects.filter(scenario=scenario).count() == transfers.count()
    # The moves net out per channel to the difference between the scenario and the budget.
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.PROPOSED
    lines = {line.member: line for line in scenario.lines.all()}
    budgets = {"Paid search": D("60000.00"), "Paid social": D("45000.00"), "Events": D("30000.00")}
    for name, line in budget_lines.items():
        moved = sum(t.amount for t in transfers if t.to_line == line) - sum(
            t.amount for t in transfers if t.from_line == line
        )
        assert moved == lines[name].amount - budgets[name], name
    # Finance finds them waiting (the workflow's tasks); nothing moved yet.
    waiting = my_tasks(finance, subject_type="budget_transfer")
    assert sorted(int(task.instance.subject_id) for task in waiting) == [t.pk for t in transfers]
    client.force_login(finance)
    queue = client.get(reverse("budgets:queue")).content.decode()
    assert queue.count("data-transfer=") == transfers.count() and "Scenario “Q2 optimum”" in queue
    assert all(t.from_period == t.to_period for t in transfers)  # each move within its month
    assert api_as(cmo).post(f"{url}propose-transfers/").status_code == 409  # once


def test_propose_explains_a_channel_without_a_budget_line(cmo, finance, team, org_model, history, transfer_template):
    fy2026_budget(
        finance=finance, team=team, channels=history, monthly={"Paid search": D("20000"), "Events": D("10000")}
    )
    scenario = scenario_services.scenario_create(
        actor=cmo, model=org_model, name="Mix", inputs=optimised(locked={"Paid social": D("5000.00")})
    )
    assert scenario.lines.get(member="Paid social").plan_source == "run rate"
    scenario_services.scenario_accept(actor=cmo, scenario=scenario)

    with pytest.raises(ValidationError) as refused:
        scenario_transfers.scenario_propose_transfers(actor=cmo, scenario=scenario)

    assert "Paid social has no budget line in these months" in str(refused.value)
    assert Transfer.objects.count() == 0 and Scenario.objects.get().status == ScenarioStatus.ACCEPTED


def test_propose_refuses_a_scenario_that_spends_more_than_the_budget(cmo, org_model, budget_lines, transfer_template):
    scenario = scenario_services.scenario_create(
        actor=cmo, model=org_model, name="More", inputs=optimised(total_budget=D("150000.00"))
    )
    scenario_services.scenario_accept(actor=cmo, scenario=scenario)
    with pytest.raises(ValidationError) as refused:
        scenario_transfers.scenario_propose_transfers(actor=cmo, scenario=scenario)
    assert "spends 15,000.00 more than the current budget" in str(refused.value)


def test_transfer_moves_balance_to_the_cent(cmo, org_model, budget_lines):
    scenario = scenario_services.scenario_create(
        actor=cmo,
        model=org_model,
        name="Odd cents",
        inputs=optimised(locked={"Events": D("29999.99")}, minimum={"Paid search": D("1.01")}),
    )
    moves = scenario_transfers.transfer_moves(scenario)
    assert all(m.amount > 0 and m.amount == m.amount.quantize(D("0.01")) for m in moves)
    assert sum(m.amount for m in moves if m.from_line == budget_lines["Events"]) == D("0.01")
    assert all(m.from_line != m.to_line for m in moves)


def test_who_may_propose_reallocations(ops_admin, outsider, team_model, budget_lines, marketer):
    from budgets.transfers.services import reallocations_propose

    move = {
        "from_line": budget_lines["Events"],
        "from_period": budget_lines["Events"].budget.fiscal_year.periods.first(),
        "to_line": budget_lines["Paid search"],
        "to_period": budget_lines["Events"].budget.fiscal_year.periods.first(),
        "amount": D("1.00"),
        "reason": "test",
    }
    for user in (ops_admin, outsider):
        with pytest.raises(PermissionDenied):
            reallocations_propose(actor=user, moves=[move])
    scenario = scenario_services.scenario_create(actor=marketer, model=team_model, name="NA", inputs=optimised())
    teammate = UserFactory(username="tess", roles=[Role.MARKETER], teams=[team_model.team])
    with pytest.raises(PermissionDenied):
        scenario_transfers.scenario_propose_transfers(actor=teammate, scenario=scenario)
    with pytest.raises(Conflict):  # the owner may, once the scenario is accepted
        scenario_transfers.scenario_propose_transfers(actor=marketer, scenario=scenario)
