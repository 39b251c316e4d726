"""Budget for a campaign, in the browser: a marketer asks for 60,000 from the campaign page,
finance approves it from the approval queue, the CMO (above the 50,000 threshold) from My tasks,
and the campaign page then shows the allocation."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets import services
from mops.roles import Role
from planning.fiscal import fiscal_year_of
from planning.models import Period
from planning.services import fiscal_year_ensure
from tests.browser.journey import click, log_in, log_out
from tests.factories import CampaignFactory, ChannelFactory, TeamFactory, UserFactory
from tests.workflows.conftest import step
from workflows import services as workflow_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    team = TeamFactory(name="North America", slug="na")
    mia = UserFactory(username="mia", first_name="Mia", last_name="Marketer", roles=[Role.MARKETER], teams=[team])
    fred = UserFactory(username="fred", first_name="Fred", last_name="Finance", roles=[Role.FINANCE])
    UserFactory(username="carol", first_name="Carol", last_name="Cmo", roles=[Role.CMO])
    ops = UserFactory(username="olga", roles=[Role.OPS_ADMIN])
    workflow_services.template_create(
        actor=ops,
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
    today = timezone.localdate()
    year = fiscal_year_ensure(year=fiscal_year_of(today))
    budget = services.budget_create(actor=fred, fiscal_year=year, name="FY marketing", target=Decimal("2000000"))
    line = services.line_create(actor=fred, budget=budget, name="North America", team=team)
    periods = list(Period.objects.filter(fiscal_year=year))
    services.phasing_set(actor=fred, line=line, amounts={p: Decimal("100000") for p in periods})
    campaign = CampaignFactory(
        name="Spring webinar series",
        code="na-webinars",
        team=team,
        owner=mia,
        channel=ChannelFactory(name="Webinars", slug="webinars"),
        start_date=today,
        end_date=today + datetime.timedelta(days=30),
    )
    month = Period.objects.get(start_date__lte=today, end_date__gte=today)
    return {"campaign": campaign, "line": line, "month": month}


def test_budget_request_from_campaign_to_allocation(watched_page, live_server, artifacts, world):
    page, base = watched_page, live_server.url
    campaign, line, month = world["campaign"], world["line"], world["month"]
    campaign_path = f"/campaigns/{campaign.pk}/"

    # The marketer asks for 60,000 from the campaign's page.
    log_in(page, base, "mia", campaign_path)
    click(page, "link", "Request budget")
    page.select_option("#id_line", str(line.pk))
    page.fill(f"#id_m{month.start_date:%Y%m}", "60000")
    page.fill("#id_justification", "Four webinars with paid promotion")
    page.screenshot(path=str(artifacts / "budget-request-form.png"), full_page=True)
    click(page, "button", "Send for approval")
    assert "sent for approval" in page.locator(".alert-success").inner_text()
    assert "Pending approval" in page.locator("h1").inner_text()
    log_out(page, base)

    # Finance approves it from the approval queue, seeing what is left after it.
    log_in(page, base, "fred", "/budgets/queue/")
    row = page.locator("tr[data-request]")
    assert row.count() == 1 and "40000.00" in row.inner_text()
    page.screenshot(path=str(artifacts / "budget-queue.png"), full_page=True)
    row.locator("textarea").fill("Fits the quarter")
    click(page, "button", "Approve", within="tr[data-request]")
    assert "approved" in page.locator(".alert-success").inner_text()
    log_out(page, base)

    # The CMO approves from My tasks (60,000 is above the threshold).
    log_in(page, base, "carol", "/workflows/")
    click(page, "link", "Spring webinar series")
    page.fill("#id_comment", "Go")
    click(page, "button", "Approve")
    assert "approved" in page.locator(".alert-success").inner_text()
    log_out(page, base)

    # The campaign page shows the allocation.
    log_in(page, base, "mia", campaign_path)
    allocations = page.get_by_test_id("allocations")
    assert "60000.00" in allocations.inner_text() and "North America" in allocations.inner_text()
    page.screenshot(path=str(artifacts / "budget-campaign-allocation.png"), full_page=True)
    assert page.problems == []
