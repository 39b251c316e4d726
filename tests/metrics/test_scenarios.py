"""Scenario planning (issue 7) through Django: the weekly series from the rollups, response models
fitted by the task (and the plain messages when the data cannot support one), scenarios on the
pages and the API with their permissions, the optimiser's total to the cent, proposing transfers
through the budget workflow, and the funnel back-solve."""

import csv
import datetime
import io
from decimal import Decimal

import numpy as np
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from budgets.models import RequestStatus, Transfer
from campaigns.models import Campaign, ResultFact
from metrics.rollups import services as metrics_services
from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios import services as scenario_services
from metrics.scenarios import transfers as scenario_transfers
from metrics.scenarios.models import FitStatus, ResponseModel, Scenario, ScenarioKind, ScenarioStatus, ScenarioTransfer
from mops.errors import Conflict
from mops.roles import Role
from tests.factories import UserFactory
from tests.metrics.scenario_data import CHANNELS, constant, fy2026_budget, simulated_history, write_weekly
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
D = Decimal
APRIL = datetime.date(2026, 4, 1)
MODELS, SCENARIOS = "/api/v1/response-models/", "/api/v1/scenarios/"


@pytest.fixture(autouse=True)
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


def optimised(**kwargs) -> scenario_services.ScenarioInputs:
    return scenario_services.ScenarioInputs(kind=ScenarioKind.OPTIMISED, start=APRIL, months=3, **kwargs)


# --- the weekly series -----------------------------------------------------------------------------


def test_weekly_series_fills_gaps_and_leaves_out_members_that_never_spent(team, marketer, other_team, outsider):
    weeks = [datetime.date(2025, 1, 6) + datetime.timedelta(weeks=j) for j in range(10)]
    spend = np.array([100, 0, 0, 50, 80, 0, 10, 20, 30, 40.0])
    write_weekly(team=team, owner=marketer, weeks=weeks, spend={"Paid search": spend}, outcome=np.arange(10) * 1000.0)
    # Another team's figures stay out of a team's series.
    write_weekly(
        team=other_team, owner=outsider, weeks=weeks[:3], spend={"Radio": constant(3, 999)}, outcome=constant(3, 5e5)
    )

    series = scenario_selectors.weekly_series(
        outcome="pipeline", level="channel", team_id=team.pk, today=datetime.date(2025, 6, 1)
    )

    assert series.weeks == weeks  # consecutive Mondays, weeks with no spend included
    assert list(series.spend) == ["Paid search"]  # "Baseline" carries pipeline only: no curve to learn
    assert series.spend["Paid search"].tolist() == spend.tolist()
    assert series.outcome.tolist() == (np.arange(10) * 1000.0).tolist()
    assert set(series.members) == {"Baseline", "Paid search"}

    everyone = scenario_selectors.weekly_series(outcome="pipeline", level="channel", today=datetime.date(2025, 6, 1))
    assert set(everyone.spend) == {"Paid search", "Radio"}
    # The week that has not ended is left out: its facts are still coming.
    cut = scenario_selectors.weekly_series(outcome="pipeline", level="channel", today=weeks[5] + datetime.timedelta(1))
    assert cut.weeks[-1] == weeks[4]


# --- response models -------------------------------------------------------------------------------


def test_a_fitted_model_stores_its_result_and_members(org_model, history):
    result = scenario_selectors.fit_result(org_model)
    assert sorted(c.key for c in result.channels) == sorted(CHANNELS)
    assert org_model.members["Paid search"] == history["Paid search"].pk
    assert (org_model.weeks, org_model.first_week) == (104, datetime.date(2022, 1, 3))
    assert org_model.fit_seconds < 10 and org_model.finished_at >= org_model.started_at
    assert result.holdout is not None and 0 <= result.ranking_stability <= 1


def test_fitting_twice_is_harmless(org_model):
    before = org_model.result
    again = scenario_services.response_model_fit(model_id=org_model.pk)
    assert again.status == FitStatus.DONE and again.result == before


@pytest.mark.parametrize(
    ("weeks", "spend", "message"),
    [
        (0, None, "no weekly spend or pipeline"),
        (30, "varied", "Only 30 weeks of history"),
        (70, "constant", "No channel has spend that varies"),
    ],
)
def test_degenerate_data_fails_with_a_plain_message(team, marketer, fit, weeks, spend, message):
    if weeks:
        days = [datetime.date(2024, 1, 1) + datetime.timedelta(weeks=j) for j in range(weeks)]
        rng = np.random.default_rng(0)
        values = rng.uniform(100, 1000, weeks) if spend == "varied" else constant(weeks, 500)
        write_weekly(
            team=team, owner=marketer, weeks=days, spend={"Paid search": values}, outcome=rng.uniform(1, 9, weeks) * 1e4
        )

    model = fit(marketer, team=team)

    assert model.status == FitStatus.FAILED
    assert message in model.error
    assert model.result is None


def test_degenerate_data_messages_reach_the_api_and_the_page(
    api_as, client, team, marketer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(marketer).post(MODELS, {"outcome": "revenue", "team": team.pk}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "queued"
    body = api_as(marketer).get(f"{MODELS}{response.json()['id']}/").json()
    assert body["status"] == "failed" and body["fit"] is None
    assert "nothing to fit" in body["error"]

    client.force_login(marketer)
    page = client.get(reverse("metrics:scenario-model", args=[body["id"]]))
    assert page.status_code == 200 and b"nothing to fit" in page.content


def test_a_marketer_fits_only_for_their_own_team(marketer, other_team, history, fit):
    with pytest.raises(ValidationError) as refused:
        fit(marketer)
    assert "team" in refused.value.message_dict
    with pytest.raises(ValidationError) as foreign:
        fit(marketer, team=other_team)
    assert "your own teams" in str(foreign.value)


def test_the_api_serves_the_fit_with_its_curves(api_as, finance, org_model):
    body = api_as(finance).get(f"{MODELS}{org_model.pk}/").json()
    fit = body["fit"]
    assert body["status"] == "done" and fit["holdout"]["weeks"] == 13
    assert [c["name"] for c in fit["channels"]] == fit["ranking"]
    channel = fit["channels"][0]
    assert channel["rank"] == 1 and len(channel["curve"]) == 41 and channel["curve"][0]["weekly_spend"] == 0
    assert (
        channel["marginal_return"]["low"] <= channel["marginal_return"]["value"] <= channel["marginal_return"]["high"]
    )


# --- permissions -----------------------------------------------------------------------------------


def test_marketers_see_their_teams_models_and_scenarios_cmo_and_finance_all(
    api_as, marketer, teammate, outsider, cmo, finance, ops_admin, org_model, team_model
):
    team_scenario = scenario_services.scenario_create(
        actor=marketer, model=team_model, name="NA push", inputs=optimised()
    )
    org_scenario = scenario_services.scenario_create(actor=cmo, model=org_model, name="Org mix", inputs=optimised())

    def ids(user, url):
        return sorted(row["id"] for row in api_as(user).get(url).json()["results"])

    for user in (cmo, finance):
        assert ids(user, SCENARIOS) == sorted([team_scenario.pk, org_scenario.pk])
        assert ids(user, MODELS) == sorted([team_model.pk, org_model.pk])
    for user in (marketer, teammate):
        assert ids(user, SCENARIOS) == [team_scenario.pk]
        assert ids(user, MODELS) == [team_model.pk]
        assert api_as(user).get(f"{SCENARIOS}{org_scenario.pk}/").status_code == 404
    assert ids(outsider, SCENARIOS) == []
    assert api_as(outsider).get(f"{SCENARIOS}{team_scenario.pk}/").status_code == 404
    assert api_as(ops_admin).get(SCENARIOS).status_code == 403
    assert api_as(ops_admin).get(MODELS).status_code == 403
    assert api_as(ops_admin).get("/api/v1/backsolve/", {"target": "1000"}).status_code == 403
    # A teammate reads the scenario but only its owner (or the CMO) changes it.
    assert api_as(teammate).patch(f"{SCENARIOS}{team_scenario.pk}/", {"name": "Mine"}, format="json").status_code == 403
    assert api_as(cmo).patch(f"{SCENARIOS}{team_scenario.pk}/", {"name": "CMO's"}, format="json").status_code == 200
    assert api_as(finance).post(f"{SCENARIOS}{org_scenario.pk}/accept/").status_code == 403


def test_scenario_pages_by_role(client, marketer, outsider, cmo, finance, ops_admin, org_model, team_model):
    scenario = scenario_services.scenario_create(actor=marketer, model=team_model, name="NA push", inputs=optimised())
    pages = [
        reverse("metrics:scenarios"),
        reverse("metrics:scenario-model", args=[team_model.pk]),
        reverse("metrics:scenario-detail", args=[scenario.pk]),
        reverse("metrics:scenario-create") + f"?model={team_model.pk}",
        reverse("metrics:scenario-model-create"),
        reverse("metrics:scenario-backsolve"),
    ]
    for url in pages:
        assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (marketer, cmo, finance):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 200, (user, url)
    client.force_login(outsider)
    assert client.get(pages[1]).status_code == 404 and client.get(pages[2]).status_code == 404
    assert b"NA push" not in client.get(pages[0]).content
    client.force_login(ops_admin)
    assert all(client.get(url).status_code == 403 for url in pages)


def test_the_nav_shows_scenarios_to_planners_only(client, marketer, cmo, finance, ops_admin):
    for user, shown in ((marketer, True), (cmo, True), (finance, True), (ops_admin, False)):
        client.force_login(user)
        assert (b'href="/metrics/scenarios/"' in client.get("/teams/").content) is shown, user


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
    from budgets.services import reallocations_propose

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


# --- pages -----------------------------------------------------------------------------------------


@pytest.fixture
def in_december_2026():
    """The scenario form offers the months from a year before today and the test plans Q2 of the FY2026
    budget: from its first fixture on, the test runs in December 2026 whatever the date the suite runs on
    (its ledger entries take effect then too)."""
    with time_machine.travel(datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC), tick=True):
        yield


def test_the_cmo_plans_on_the_pages(in_december_2026, client, cmo, org_model, budget_lines, transfer_template):
    client.force_login(cmo)
    detail = client.get(reverse("metrics:scenario-model", args=[org_model.pk]))
    assert detail.status_code == 200
    assert detail.content.count(b'data-testid="curve"') == 3 and b"naive forecast" in detail.content
    curves = client.get(reverse("metrics:scenario-model", args=[org_model.pk]), {"download": "curves", "format": "csv"})
    rows = list(csv.reader(io.StringIO(curves.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Weekly spend", "Weekly response"] and len(rows) == 1 + 3 * 41

    form = reverse("metrics:scenario-create") + f"?model={org_model.pk}"
    fields = {"name": "Q2 optimum", "kind": "optimised", "start": "2026-04-01", "months": "3", "total_budget": ""}
    preview = client.post(form, fields | {"preview": "1"})
    assert preview.status_code == 200 and b'data-testid="preview"' in preview.content
    assert Scenario.objects.count() == 0
    bad = client.post(form, fields | {"min_0": "999999", "save": "1"})
    assert bad.status_code == 200 and b"more than the budget" in bad.content
    saved = client.post(form, fields | {"save": "1"})
    scenario = Scenario.objects.get()
    assert saved.status_code == 302 and saved.url == reverse("metrics:scenario-detail", args=[scenario.pk])

    page = client.get(saved.url)
    assert b"Beside the current plan" in page.content and b"returns the same" in page.content
    moves = client.get(saved.url, {"download": "moves", "format": "csv"})
    assert moves.status_code == 200 and b"Paid search" in moves.content
    client.post(saved.url, {"action": "accept"})
    proposed = client.post(saved.url, {"action": "propose"}, follow=True)
    assert b"transfer request(s) sent to finance" in proposed.content
    assert Transfer.objects.filter(status=RequestStatus.PENDING).exists()

    plan = scenario_services.scenario_create(
        actor=cmo, model=org_model, name="As planned", inputs=scenario_services.ScenarioInputs(kind="plan", start=APRIL)
    )
    compared = client.get(reverse("metrics:scenario-compare"), {"s": [scenario.pk, plan.pk]})
    assert compared.status_code == 200 and b"As planned" in compared.content and b"Q2 optimum" in compared.content
    assert client.get(reverse("metrics:scenario-compare"), {"s": [scenario.pk]}).status_code == 302


# --- the funnel back-solve -------------------------------------------------------------------------


@pytest.fixture
def funnel_history(team, marketer):
    """50 weeks from 2025-12-01: search brings 400 leads for 40,000 (100 a lead), events 100 for 30,000
    (300 a lead); then 125 MQLs (1 in 4), 50 SQLs (2 in 5), 25 opportunities (1 in 2), 5 won (1 in 5)
    for 50,000 of revenue (10,000 a deal) and no pipeline."""
    weeks = [datetime.date(2025, 12, 1) + datetime.timedelta(weeks=j) for j in range(50)]
    channels = write_weekly(
        team=team,
        owner=marketer,
        weeks=weeks,
        spend={"Paid search": constant(50, 800), "Events": constant(50, 600)},
        outcome=constant(50, 0),
        prefix="funnel",
    )
    for name, leads in (("Paid search", 8), ("Events", 2)):
        campaign = Campaign.objects.get(channel=channels[name])
        ResultFact.objects.bulk_create(ResultFact(campaign=campaign, date=week, leads=leads) for week in weeks)
    baseline = ResultFact.objects.filter(campaign__channel=channels["Baseline"])
    baseline.filter(date__in=weeks[:25]).update(mqls=5)
    baseline.filter(date__in=weeks[:10]).update(sqls=5)
    baseline.filter(date__in=weeks[:5]).update(opportunities=5)
    baseline.filter(date=weeks[0]).update(new_customers=5, revenue=D("50000.00"))
    metrics_services.rebuild_all(compare=False)
    return channels


def test_backsolve_works_a_revenue_target_back_to_spend(api_as, cmo, funnel_history):
    params = {"target": "1000000", "history_start": "2025-12-01", "history_end": "2026-11-15"}
    params |= {"target_start": "2026-01-01", "target_end": "2026-12-31"}
    response = api_as(cmo).get("/api/v1/backsolve/", params)

    assert response.status_code == 200, response.json()
    body = response.json()
    # 1,000,000 / 10,000 = 100 deals; ÷ 1/5 → 500 opportunities; ÷ 1/2 → 1,000 SQLs; ÷ 2/5 → 2,500 MQLs;
    # ÷ 1/4 → 10,000 leads: 8,000 from search at 100 and 2,000 from events at 300.
    assert (body["new_customers"], body["opportunities"], body["sqls"], body["mqls"], body["leads"]) == (
        100,
        500,
        1000,
        2500,
        10000,
    )
    lines = {line["channel"]: line for line in body["lines"]}
    assert (lines["Paid search"]["leads"], D(lines["Paid search"]["cost_per_lead"])) == (8000, D("100.00"))
    assert (lines["Events"]["leads"], D(lines["Events"]["cost_per_lead"])) == (2000, D("300.00"))
    assert D(body["spend"]) == D("1400000.00") and D(body["gap"]) == D("1400000.00")  # no budget yet
    assert body["rates"]["win_rate"] == 0.2
    assert api_as(cmo).post("/api/v1/backsolve/", params, format="json").json() == body


def test_backsolve_says_which_rate_is_missing(api_as, client, cmo, funnel_history):
    params = {"target": "1000", "target_kind": "pipeline", "history_start": "2025-12-01", "history_end": "2026-11-15"}
    response = api_as(cmo).get("/api/v1/backsolve/", params)
    assert response.status_code == 400
    assert "the opportunities carry no pipeline" in response.json()["non_field_errors"][0]
    assert "target" in api_as(cmo).get("/api/v1/backsolve/", {}).json()

    client.force_login(cmo)
    page = client.get(reverse("metrics:scenario-backsolve"), params | {"solve": "1"})
    assert page.status_code == 200 and b"opportunities carry no pipeline" in page.content


def test_backsolve_page_downloads_its_table(client, cmo, funnel_history):
    client.force_login(cmo)
    params = {"target": "1000000", "history_start": "2025-12-01", "history_end": "2026-11-15"}
    params |= {"target_start": "2026-01-01", "target_end": "2026-12-31", "target_kind": "revenue", "solve": "1"}
    page = client.get(reverse("metrics:scenario-backsolve"), params)
    assert page.status_code == 200 and b'data-testid="backsolve-channels"' in page.content
    table = client.get(reverse("metrics:scenario-backsolve"), params | {"download": "channels", "format": "csv"})
    assert table.status_code == 200 and b"Paid search" in table.content


def test_lists_read_a_constant_number_of_queries(api_as, client, cmo, org_model, budget_lines):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(fetch) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert fetch().status_code == 200
        return len(queries)

    scenario_services.scenario_create(actor=cmo, model=org_model, name="One", inputs=optimised())
    client.force_login(cmo)
    api, page = count(lambda: api_as(cmo).get(SCENARIOS)), count(lambda: client.get(reverse("metrics:scenarios")))
    for name in ("Two", "Three", "Four"):
        scenario_services.scenario_create(actor=cmo, model=org_model, name=name, inputs=optimised())
    assert count(lambda: api_as(cmo).get(SCENARIOS)) == api
    assert count(lambda: client.get(reverse("metrics:scenarios"))) == page
