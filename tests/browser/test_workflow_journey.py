"""A general request through its whole workflow, in the browser: the ops admin builds the template
in the editor, a marketer raises a request, the team lead and finance approve from My tasks, and
the marketer sees the finished strip."""

import pytest

from mops.roles import Role
from tests.browser.journey import click, log_in, log_out
from tests.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def approve_from_my_tasks(page, base_url, comment, screenshots=None):
    click(page, "link", "Tasks", within="#main-nav")
    page.wait_for_url(f"{base_url}/workflows/")
    if screenshots:
        page.screenshot(path=str(screenshots / "workflow-my-tasks.png"), full_page=True)
    click(page, "link", "Booth at the spring summit")
    if screenshots:
        page.screenshot(path=str(screenshots / "workflow-task-detail.png"), full_page=True)
    page.fill("#id_comment", comment)
    click(page, "button", "Approve")
    page.wait_for_url(f"{base_url}/workflows/")
    assert "approved" in page.locator(".alert-success").inner_text()


def test_a_request_goes_through_a_template_built_in_the_browser(watched_page, live_server, artifacts):
    team = TeamFactory(name="North America", slug="na")
    UserFactory(username="olga", first_name="Olga", last_name="Ops", roles=[Role.OPS_ADMIN])
    UserFactory(username="mia", first_name="Mia", last_name="Marketer", roles=[Role.MARKETER], teams=[team])
    lead = UserFactory(username="lena", first_name="Lena", last_name="Lead", roles=[Role.MARKETER], teams=[team])
    team.memberships.filter(user=lead).update(is_lead=True)
    UserFactory(username="fred", first_name="Fred", last_name="Finance", roles=[Role.FINANCE])
    page, base = watched_page, live_server.url

    # The ops admin builds a two-stage template in the editor.
    log_in(page, base, "olga", "/workflows/")
    click(page, "link", "Workflows", within="#main-nav")
    click(page, "link", "New template")
    page.fill("#id_name", "Event sponsorship")
    page.select_option("#id_subject_type", "general_request")
    page.fill("#id_steps-0-stage", "1")
    page.fill("#id_steps-0-name", "Team lead approval")
    page.select_option("#id_steps-0-assignee_type", "team_lead")
    page.fill("#id_steps-1-stage", "2")
    page.fill("#id_steps-1-name", "Finance approval")
    page.select_option("#id_steps-1-assignee_type", "role")
    page.select_option("#id_steps-1-role", Role.FINANCE.value)
    page.screenshot(path=str(artifacts / "workflow-template-editor.png"), full_page=True)
    click(page, "button", "Save template")
    page.wait_for_url(f"{base}/workflows/templates/event-sponsorship/")
    assert "created" in page.locator(".alert-success").inner_text()
    assert page.locator(".list-group-item").count() == 2
    log_out(page, base)

    # A marketer raises a general request on it.
    log_in(page, base, "mia", "/workflows/")
    click(page, "link", "Tasks", within="#main-nav")
    click(page, "link", "New request")
    page.select_option("#id_template", label="Event sponsorship v1")
    page.fill("#id_title", "Booth at the spring summit")
    page.fill("#id_amount", "1200")
    page.select_option("#id_team", label="North America")
    click(page, "button", "Send for approval")
    page.wait_for_url(f"{base}/workflows/requests/*/")
    assert page.locator('[data-step-status="active"]').inner_text().count("Lena Lead") == 1
    log_out(page, base)

    # The team lead sees the task counted in the navbar and approves it.
    log_in(page, base, "lena", "/workflows/")
    assert page.locator('[data-testid="nav-badge"]').inner_text().startswith("1")
    approve_from_my_tasks(page, base, "Good event", screenshots=artifacts)
    log_out(page, base)

    # Finance approves the second stage.
    log_in(page, base, "fred", "/workflows/")
    approve_from_my_tasks(page, base, "Within budget")
    log_out(page, base)

    # The marketer sees the finished strip.
    log_in(page, base, "mia", "/workflows/")
    click(page, "link", "Tasks", within="#main-nav")
    click(page, "link", "Requests", exact=True)
    click(page, "link", "Booth at the spring summit")
    assert page.locator('[data-testid="request-status"]').inner_text() == "Approved"
    statuses = page.locator("[data-step-status]").evaluate_all("els => els.map(e => e.dataset.stepStatus)")
    assert statuses == ["approved", "approved"]
    assert "Within budget" in page.locator(".wf-strip").inner_text()
    page.screenshot(path=str(artifacts / "workflow-request-approved.png"), full_page=True)
    assert page.problems == []
