"""Each demo user logs in through the real login page in headless Chromium and lands on their page,
styled by the Bootstrap served from our own static files, with no failed request."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDINGS = [
    ("marketer", "/campaigns/", "Campaigns"),
    ("cmo", "/metrics/cmo/", "CMO dashboard"),
    ("finance", "/budgets/", "Budgets"),
    ("opsadmin", "/ops/", "Ops admin"),
]


@pytest.mark.parametrize(("username", "landing", "heading"), LANDINGS)
def test_demo_user_logs_in_and_lands(
    demo_organisation, watched_page, live_server, artifacts, username, landing, heading
):
    page = watched_page
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")

    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{landing}")

    assert page.locator("h1").first.inner_text() == heading
    # Bootstrap is applied: the dark navbar has Bootstrap's background colour, not the browser default.
    navbar_bg = page.eval_on_selector(".navbar", "el => getComputedStyle(el).backgroundColor")
    assert navbar_bg == "rgb(33, 37, 41)"
    assert page.evaluate("typeof bootstrap") == "object"  # the JS bundle loaded too
    page.screenshot(path=str(artifacts / f"landing-{username}.png"), full_page=True)
    assert page.problems == []


def test_cmo_dashboard_draws_its_plotly_figure_offline(demo_organisation, watched_page, live_server):
    page = watched_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "cmo")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/metrics/cmo/")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert page.locator(".js-plotly-plot .bars path").count() > 0
    assert page.problems == []


def test_wrong_password_shows_an_error(demo_organisation, watched_page, live_server):
    page = watched_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "cmo")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert "didn't match" in page.locator(".alert-danger").inner_text()
