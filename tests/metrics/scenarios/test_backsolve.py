"""The funnel back-solve: a revenue target worked back to spend, a missing rate named, the download."""

import datetime

import pytest
from django.urls import reverse

from campaigns.models import Campaign, ResultFact
from metrics.rollups import services as metrics_services
from tests.metrics.scenarios.scenario_data import (
    D,
    constant,
    write_weekly,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_fits")]


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
