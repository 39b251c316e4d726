"""A marketer's day in headless Chromium: create a campaign, log a week of results, import a Google
Ads export that names one campaign mops does not know, map it, start it, and see the totals on the
campaign page — with no failed request and no console error on the way."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Journey spring search"
GOOGLE_ADS_EXPORT = f"""Campaign performance report
"January 1, 2026 - January 31, 2026"
Campaign,Day,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value
{NAME},2026-01-05,USD,"$1,000.00","10,000",500,12.00,$0.00
{NAME},2026-01-06,USD,$250.50,"2,000",90,3.00,$0.00
Brand US - Search,2026-01-07,USD,$40.00,300,12,1.00,$0.00
"""


def test_a_marketer_plans_logs_and_imports(demo_organisation, watched_page, live_server, artifacts):
    page = watched_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campaigns/")

    # Plan: a new campaign; the UTM tags follow the naming convention.
    page.get_by_role("link", name="New campaign").click()
    page.fill("#id_name", NAME)
    page.select_option("#id_channel", label="Paid search")
    page.fill("#id_start_date", "2026-01-05")
    page.fill("#id_end_date", "2026-02-28")
    page.fill("#id_planned_cost", "5000")
    page.fill("#id_expected_leads", "40")
    assert page.get_attribute("#id_utm_source", "placeholder") == "paid-search"  # the suggestion script ran
    assert page.get_attribute("#id_utm_campaign", "placeholder") == "journey-spring-search"
    page.screenshot(path=str(artifacts / "campaign-create.png"), full_page=True)
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_selector("h1:has-text('Journey spring search')")
    assert "created as a draft" in page.locator(".alert-success").inner_text()
    assert "No spend or results yet" in page.locator("#chart-heading + p").inner_text()  # no empty chart
    campaign_url = page.url

    # Results for a week: two days typed in, the rest left empty.
    page.get_by_role("link", name="Log results").first.click()
    page.fill("input[name=week]", "2026-01-07")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("h2:has-text('Week of 5 Jan 2026')")
    page.fill("#id_day-0-leads", "3")
    page.fill("#id_day-0-clicks", "40")
    page.fill("#id_day-1-leads", "2")
    page.screenshot(path=str(artifacts / "campaign-results-week.png"), full_page=True)
    page.get_by_role("button", name="Save the week").click()
    assert page.locator(".alert-success").inner_text() == "2 days created, 0 updated, 0 unchanged."

    # Import a Google Ads export with one campaign mops does not know.
    page.goto(f"{live_server.url}/campaigns/imports/new/")
    page.set_input_files(
        "#id_file", files=[{"name": "google-ads.csv", "mimeType": "text/csv", "buffer": GOOGLE_ADS_EXPORT.encode()}]
    )
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_selector("text=Campaigns we don't know")
    assert page.locator("[data-testid=import-status]").inner_text() == "Uploaded"
    page.select_option("#id_ref_0", label=f"{NAME} (journey-spring-search)")
    page.screenshot(path=str(artifacts / "campaign-import-mapping.png"), full_page=True)
    page.get_by_role("button", name="Save mapping").click()
    page.get_by_role("button", name="Start import").click()
    page.wait_for_selector("[data-testid=import-progress][data-status=done]")
    summary = page.locator("[data-testid=import-summary]")
    assert summary.locator("[data-count=total]").inner_text() == "3"
    assert summary.locator("[data-count=created]").inner_text() == "3"
    page.screenshot(path=str(artifacts / "campaign-import-done.png"), full_page=True)

    # The campaign page adds it all up: imported spend, typed and imported leads.
    page.goto(campaign_url)
    page.wait_for_selector(".js-plotly-plot .main-svg")  # the weekly chart drew
    assert page.locator("[data-testid=spend-total]").inner_text() == "1,290.50"
    assert page.locator("td[data-actual=cost]").inner_text() == "1,290.50"
    assert page.locator("td[data-actual=leads]").inner_text() == "21"  # 3 + 2 typed, 12 + 3 + 1 imported
    page.screenshot(path=str(artifacts / "campaign-detail.png"), full_page=True)

    page.goto(f"{live_server.url}/campaigns/calendar/?view=quarter&start=2026-01")
    assert page.locator(f"[data-testid=calendar] th a:has-text('{NAME}')").count() == 1
    page.screenshot(path=str(artifacts / "campaign-calendar.png"), full_page=True)
    assert page.problems == []
