"""Finance, a marketer and an ops admin open their dashboards on the demo data in Chromium: every
figure is drawn by the plotly.js we serve, nothing fails to load, nothing is logged as an error,
and the page still fits a 390 px wide phone. Screenshots go to test-artifacts/."""

from pathlib import Path

import pytest

from tests.browser.journey import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DASHBOARDS = [
    ("finance", "/metrics/finance/", "Finance dashboard"),
    ("marketer", "/metrics/marketing/", "Marketing dashboard"),
    ("opsadmin", "/metrics/ops/", "Ops dashboard"),
]
PHONE = {"width": 390, "height": 844}


def assert_figures_drawn(page):
    figures = page.locator(".mops-figure")
    assert figures.count() > 0
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mops-figure')].every(el => el.querySelector('.main-svg'))"
    )
    assert page.locator(".js-plotly-plot").count() == figures.count()
    # Something is plotted, not just empty axes.
    assert page.locator(".js-plotly-plot .bars path, .js-plotly-plot .scatterlayer path").count() > 0


def test_role_dashboards_draw_on_demo_data(demo_organisation, watched_page, live_server, artifacts):
    page, base = watched_page, live_server.url
    downloads = []
    for username, path, heading in DASHBOARDS:
        page.set_viewport_size({"width": 1280, "height": 900})
        log_in(page, base, username, path, password="demo")
        assert page.locator("h1").first.inner_text() == heading
        assert page.get_by_test_id("filter-bar").is_visible()
        assert page.get_by_test_id("tiles").locator(".card").count() >= 5
        assert_figures_drawn(page)
        page.screenshot(path=str(artifacts / f"dashboard-{username}.png"), full_page=True)

        # A phone: the page reflows to one column and nothing pushes it wider than the screen.
        page.set_viewport_size(PHONE)
        page.reload()
        page.wait_for_load_state("networkidle")
        assert_figures_drawn(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(artifacts / f"dashboard-{username}-390px.png"), full_page=True)

        # Every panel offers its data: the first CSV link answers with the panel's table.
        with page.expect_download() as download_info:
            page.locator("[data-testid$='-csv']").first.click()
        download = download_info.value
        assert download.suggested_filename.endswith(".csv")
        assert Path(download.path()).read_text(encoding="utf-8").count("\n") >= 2
        downloads.append(download.url)

        page.context.clear_cookies()
    # Chromium reports a link that turns into a download as an aborted request: that one is fine.
    assert [p for p in page.problems if not any(p == f"failed: {url} net::ERR_ABORTED" for url in downloads)] == []
