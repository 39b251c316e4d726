"""Scenario planning in the browser: the CMO fits a response model, optimises a quarter's budget,
saves the scenario, compares it with the plan as budgeted, accepts it and proposes the transfers;
finance then finds the transfer requests in the approval queue and approves one."""

import pytest

from budgets.models import RequestStatus, Transfer
from metrics.scenarios import services as scenario_services
from mops.roles import Role
from tests.browser.journey import click, log_in, log_out, settle
from tests.factories import TeamFactory, UserFactory
from tests.metrics.scenarios.scenario_data import D, fy2026_budget, simulated_history
from tests.workflows.conftest import step
from workflows import services as workflow_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr(scenario_services, "BOOTSTRAP", 40)  # the live server runs in this process
    team = TeamFactory(name="North America", slug="na")
    mia = UserFactory(username="mia", roles=[Role.MARKETER], teams=[team])
    fred = UserFactory(username="fred", first_name="Fred", last_name="Finance", roles=[Role.FINANCE])
    UserFactory(username="carol", first_name="Carol", last_name="Cmo", roles=[Role.CMO])
    ops = UserFactory(username="olga", roles=[Role.OPS_ADMIN])
    workflow_services.template_create(
        actor=ops,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
    )
    channels = simulated_history(team=team, owner=mia)
    monthly = {"Paid search": D("20000"), "Paid social": D("15000"), "Events": D("10000")}
    return fy2026_budget(finance=fred, team=team, channels=channels, monthly=monthly)


def plan_scenario(page, *, name, kind):
    page.select_option("#id_start", "2026-09-01")
    page.fill("#id_months", "3")
    page.check(f"input[name=kind][value={kind}]")
    page.fill("#id_name", name)


def test_the_cmo_turns_a_fitted_model_into_transfer_requests(watched_page, live_server, artifacts, world):
    page, base = watched_page, live_server.url

    # The CMO asks for a model of pipeline by channel; the fit runs in seconds.
    log_in(page, base, "carol", "/metrics/scenarios/")
    click(page, "link", "Fit a response model")
    page.select_option("#id_outcome", "pipeline")
    click(page, "button", "Fit the model")
    assert page.get_by_test_id("model-status").inner_text() == "Done"
    assert "naive forecast" in page.get_by_test_id("fit-quality").inner_text()
    assert page.get_by_test_id("curve").count() == 3
    page.wait_for_selector(".mops-figure .main-svg")
    page.screenshot(path=str(artifacts / "scenario-model.png"), full_page=True)
    model_url = page.url

    # It optimises the plan's total over September–November, previews, then saves.
    click(page, "link", "Plan a scenario")
    plan_scenario(page, name="Q4 optimum", kind="optimised")
    page.fill("tr[data-member='Paid search'] input[name^='min_']", "30000")
    click(page, "button", "Preview")
    preview = page.get_by_test_id("preview")
    assert "returns the same" in page.get_by_test_id("equalisation").inner_text()
    assert preview.locator("tr[data-member]").count() == 3
    page.screenshot(path=str(artifacts / "scenario-preview.png"), full_page=True)
    click(page, "button", "Save scenario")
    assert "saved" in page.locator(".alert-success").inner_text()
    assert page.get_by_test_id("scenario-status").inner_text() == "Draft"
    scenario_url = page.url

    # The plan as budgeted, saved as a scenario too, compared side by side.
    page.goto(model_url)
    click(page, "link", "Plan a scenario")
    plan_scenario(page, name="As budgeted", kind="plan")
    click(page, "button", "Save scenario")
    click(page, "link", "Scenarios", within="#main-nav")
    for name in ("Q4 optimum", "As budgeted"):
        page.get_by_label(f"Compare {name}").check()
    click(page, "button", "Compare selected (2–4)")
    compared = page.get_by_test_id("compare").inner_text()
    assert "Q4 optimum" in compared and "As budgeted" in compared and "135,000.00" in compared
    page.wait_for_selector(".mops-figure .main-svg")
    page.screenshot(path=str(artifacts / "scenario-compare.png"), full_page=True)

    # It accepts the optimum and proposes the transfers: requests, not moved money.
    page.goto(scenario_url)
    settle(page)
    click(page, "button", "Accept")
    click(page, "button", "Propose transfers")
    assert "sent to finance" in page.locator(".alert-success").inner_text()
    transfers = list(Transfer.objects.order_by("id"))
    assert transfers and {t.status for t in transfers} == {RequestStatus.PENDING}
    assert all(t.from_period == t.to_period for t in transfers)  # each move stays within its month
    assert page.get_by_test_id("transfers").locator("li").count() == len(transfers)
    page.screenshot(path=str(artifacts / "scenario-proposed.png"), full_page=True)
    log_out(page, base)

    # Finance finds them in the approval queue and approves the first on its step's page.
    log_in(page, base, "fred", "/budgets/queue/")
    rows = page.get_by_test_id("transfer-queue").locator("tr[data-transfer]")
    assert rows.count() == len(transfers)
    assert "Scenario “Q4 optimum”" in rows.first.inner_text()
    page.screenshot(path=str(artifacts / "scenario-finance-queue.png"), full_page=True)
    click(page, "link", "Finance approval", within="[data-testid=transfer-queue]")
    page.fill("#id_comment", "In line with the plan")
    click(page, "button", "Approve")
    assert "approved" in page.locator(".alert-success").inner_text().lower()
    assert Transfer.objects.filter(status=RequestStatus.APPROVED).count() == 1
    assert page.problems == []
