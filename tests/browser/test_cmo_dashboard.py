"""The CMO's journey on the demo data: log in, land on the CMO dashboard with its tiles and charts
drawn, narrow it to one channel (numbers and charts follow, to the cent against the facts) and
download the data behind the trend chart. Saves the README's screenshot, so it stays true."""

import csv
import datetime
import io
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Q, Sum
from django.utils import timezone

from campaigns.models import SpendEntry
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import Channel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs"
FIGURES = "[data-testid^=panel-] .mops-figure"


def settle(page):
    page.wait_for_load_state("networkidle")
    # Every server-built figure is drawn by plotly.js (figures.js) once the page has loaded.
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].every(el => el.querySelector('.main-svg'))", arg=FIGURES
    )


def tile_value(page, code) -> Decimal:
    return Decimal(page.get_attribute(f"[data-testid=tile-{code}-value]", "data-value"))


def figure_data(page, panel_id) -> list[dict]:
    """The traces plotly.js drew in a panel (their type, name, dash and values as plain numbers)."""
    return page.evaluate(
        """id => document.querySelector(`[data-testid=panel-${id}] .mops-figure`).data.map(t => ({
            type: t.type, name: t.name, dash: t.line ? t.line.dash : null,
            x: Array.from(t.x || []), y: Array.from(t.y || []) }))""",
        panel_id,
    )


def spend_from_facts(start, end, channel=None) -> Decimal:
    """Spend straight from the facts: on the tactic's channel when the entry has one."""
    entries = SpendEntry.objects.filter(date__range=(start, end))
    if channel is not None:
        entries = entries.filter(
            Q(tactic__channel=channel) | Q(tactic__channel__isnull=True, campaign__channel=channel)
        )
    return entries.aggregate(total=Sum("amount_base"))["total"] or Decimal("0.00")


def test_cmo_reads_the_dashboard_narrows_it_to_a_channel_and_downloads_a_chart(
    demo_organisation, watched_page, live_server, artifacts
):
    page, base = watched_page, live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})
    start, end = fiscal_year_bounds(fiscal_year_of(timezone.localdate()))

    # The CMO logs in and lands on the CMO dashboard.
    page.goto(f"{base}/")
    page.fill("#id_username", "cmo")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/metrics/cmo/")
    settle(page)
    assert page.locator("h1").inner_text() == "CMO dashboard"
    summary = page.locator("[data-testid=filter-summary]").inner_text()
    assert f"FY{fiscal_year_of(timezone.localdate())}" in summary and "rollups refreshed" in summary

    # Five tiles with values; every panel's figure drawn; the forecast dashed.
    for code in ("spend", "pipeline", "revenue", "roi", "cac"):
        assert page.locator(f"[data-testid=tile-{code}-value]").inner_text() != "—", code
    assert page.locator("[data-testid=tile-spend-value]").inner_text().endswith(" USD")
    all_spend = tile_value(page, "spend")
    assert all_spend == spend_from_facts(start, end)
    assert page.locator(FIGURES).count() >= 6
    trend = figure_data(page, "trend")
    assert any(t["dash"] == "dash" and t["name"] == "Spend forecast" for t in trend)
    channels_before = figure_data(page, "channels")[0]["y"]
    assert len(channels_before) > 3
    legend = page.locator("[data-testid=panel-trend] .legendtext")
    assert "Spend forecast" in legend.all_text_contents()
    assert any(text.endswith("80 % prediction interval") for text in legend.all_text_contents())

    # The README's screenshot: the whole dashboard at 1280 px, in test-artifacts/; copied over
    # docs/cmo-dashboard.png only when asked (MOPS_UPDATE_DOCS=1), so a test run leaves the checkout clean.
    shot = artifacts / "cmo-dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("MOPS_UPDATE_DOCS") == "1":
        shutil.copyfile(shot, DOCS / "cmo-dashboard.png")

    # Narrowed to paid search: the URL carries the filter, the numbers and the charts follow.
    paid_search = Channel.objects.get(name="Paid search")
    page.select_option("#id_channel", label="Paid search")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/metrics/cmo/?*channel={paid_search.pk}*")
    settle(page)
    assert "Channel: Paid search" in page.locator("[data-testid=filter-summary]").inner_text()
    channel_spend = tile_value(page, "spend")
    assert channel_spend == spend_from_facts(start, end, paid_search)
    assert Decimal(0) < channel_spend < all_spend
    assert figure_data(page, "channels")[0]["y"] == ["Paid search"]
    narrowed_trend = figure_data(page, "trend")
    assert narrowed_trend[0]["y"] != trend[0]["y"]
    assert sum(Decimal(str(v)) for v in narrowed_trend[0]["y"]) <= channel_spend
    page.screenshot(path=str(artifacts / "cmo-dashboard-paid-search.png"), full_page=True)

    # The data behind the trend chart, for the same filters.
    with page.expect_download() as download_info:
        page.click("[data-testid=download-trend-csv]")
    download = download_info.value
    assert download.suggested_filename.endswith("-trend.csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    months = [row["Month"] for row in rows]
    assert months[0] == f"{start:%b %Y}"
    spend_by_month = [Decimal(row["Spend (USD)"]) for row in rows if row["Spend (USD)"] != "—"]
    assert sum(spend_by_month) == channel_spend
    this_month = timezone.localdate().replace(day=1)
    next_month = (this_month + datetime.timedelta(days=31)).replace(day=1)
    if next_month <= end:  # forecast months ahead carry a forecast and its band (none in the year's last month)
        ahead = [row for row in rows if row["Spend (USD)"] == "—"]
        assert ahead and all(row["Spend forecast (USD)"] != "—" for row in ahead)
        assert all(
            Decimal(row["Spend forecast low"])
            <= Decimal(row["Spend forecast (USD)"])
            <= Decimal(row["Spend forecast high"])
            for row in ahead
        )
    # Chromium reports the link that turned into a download as an aborted request: that one is fine.
    assert [p for p in page.problems if p != f"failed: {download.url} net::ERR_ABORTED"] == []
