"""/api/v1/kpis/ and /api/v1/rollups/status/: KPIs from rollups, checked against an independent
pandas computation on a real ad-platform sample taken through the normal import path."""

import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.core.files.base import ContentFile

from campaigns.imports.services import import_map, import_start, import_upload
from campaigns.models import ResultFact, SpendEntry
from metrics.rollups import services
from tests.factories import CampaignFactory, ChannelFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE = "microsoft_ads_campaign_performance_daily_report_data.csv"
D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def imported(marketer, team, django_capture_on_commit_callbacks):
    """The Microsoft Advertising sample (2,630 device/network rows) imported into three campaigns;
    the rollups refresh after commit, as they would with a worker."""
    ids = {"359751135": "bing-brand", "349886458": "bing-generic", "349886462": "bing-competitor"}
    channel = ChannelFactory(name="Paid search")
    campaigns = {
        ref: CampaignFactory(code=code, team=team, owner=marketer, channel=channel) for ref, code in ids.items()
    }
    services.rebuild_all(compare=False)
    content = (DATA / SAMPLE).read_bytes()
    batch = import_upload(actor=marketer, file=ContentFile(content, name=SAMPLE), filename=SAMPLE)
    batch = import_map(actor=marketer, batch=batch, mapping={ref: campaigns[ref] for ref in ids})
    with django_capture_on_commit_callbacks(execute=True):
        import_start(actor=marketer, batch=batch)
    services.refresh_pending()
    return campaigns


def pandas_oracle() -> pd.DataFrame:
    """Per campaign: summed spend, clicks, impressions, and CTR/CPC from the sums — straight from the CSV."""
    frame = pd.read_csv(DATA / SAMPLE, dtype={"campaign_id": str})
    sums = frame.groupby("campaign_id")[["spend", "clicks", "impressions"]].sum()
    sums["ctr"] = sums["clicks"] / sums["impressions"]
    sums["cpc"] = sums["spend"] / sums["clicks"]
    return sums


def test_kpis_by_campaign_match_pandas_on_the_microsoft_sample(api_as, cmo, imported):
    client = api_as(cmo)
    response = client.get(
        "/api/v1/kpis/",
        {
            "metrics": "spend,clicks,impressions,ctr,cpc,roas",
            "group_by": "campaign",
            "start": "2018-01-01",
            "end": "2019-12-31",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    by_id = {row["campaign_id"]: row for row in body["results"]}
    oracle = pandas_oracle()
    assert len(by_id) == 3
    for ref, campaign in imported.items():
        row, expected = by_id[campaign.pk], oracle.loc[ref]
        assert row["campaign"] == campaign.name
        assert Decimal(row["spend"]) == Decimal(str(round(expected["spend"], 2)))
        assert row["clicks"] == int(expected["clicks"]) and row["impressions"] == int(expected["impressions"])
        assert Decimal(row["ctr"]) == Decimal(str(round(expected["ctr"], 4)))
        assert Decimal(row["cpc"]) == Decimal(str(round(expected["cpc"], 2)))
        assert row["roas"] is not None  # revenue is in the sample; a string, never a float
    assert body["meta"]["kpis"]["ctr"] == {"name": "Click-through rate", "unit": "percent", "version": 1}


def test_kpis_by_month_sum_to_the_total_and_ratios_are_not_averaged(api_as, cmo, imported):
    client = api_as(cmo)
    params = {"metrics": "spend,clicks,cpc", "start": "2018-01-01", "end": "2019-12-31"}
    months = client.get("/api/v1/kpis/", {**params, "group_by": "month"}).json()["results"]
    total = client.get("/api/v1/kpis/", {**params, "group_by": "organisation"}).json()["results"][0]
    assert sum(Decimal(m["spend"]) for m in months) == Decimal(total["spend"]) == Decimal("946.34")
    assert Decimal(total["cpc"]) == (Decimal(total["spend"]) / total["clicks"]).quantize(Decimal("0.01"))
    assert all(m["month_id"].endswith("-01") for m in months)


def test_zero_denominators_are_null_and_filters_narrow(api_as, cmo, marketer, team):
    search, social = ChannelFactory(name="Search"), ChannelFactory(name="Social")
    a = CampaignFactory(team=team, owner=marketer, channel=search)
    b = CampaignFactory(team=team, owner=marketer, channel=social)
    SpendEntry.objects.create(campaign=a, date=D(2026, 2, 1), amount=10, currency="USD", amount_base=Decimal("10"))
    ResultFact.objects.create(campaign=b, date=D(2026, 2, 1), leads=4)
    services.refresh_pending()
    client = api_as(cmo)
    rows = client.get("/api/v1/kpis/", {"metrics": "spend,cpl,leads", "group_by": "channel", "period": "fy2026"}).json()
    by_channel = {row["channel"]: row for row in rows["results"]}
    assert by_channel["Search"]["cpl"] is None and by_channel["Search"]["spend"] == "10.00"
    assert by_channel["Social"]["cpl"] == "0.00" and by_channel["Social"]["leads"] == 4  # 0 ÷ 4
    narrowed = client.get("/api/v1/kpis/", {"metrics": "spend", "channel": social.pk, "period": "fy2026"}).json()
    assert narrowed["results"][0]["spend"] == "0.00"


def test_a_marketer_sees_their_teams_only(api_as, marketer, outsider, team, other_team):
    mine = CampaignFactory(team=team, owner=marketer)
    theirs = CampaignFactory(team=other_team, owner=outsider)
    for campaign in (mine, theirs):
        SpendEntry.objects.create(
            campaign=campaign, date=D(2026, 2, 1), amount=5, currency="USD", amount_base=Decimal("5")
        )
    services.refresh_pending()
    body = (
        api_as(marketer).get("/api/v1/kpis/", {"metrics": "spend", "group_by": "campaign", "period": "fy2026"}).json()
    )
    assert [row["campaign_id"] for row in body["results"]] == [mine.pk]
    # Asking for another team is refused, not answered with their numbers.
    response = api_as(marketer).get("/api/v1/kpis/", {"metrics": "spend", "team": other_team.pk, "period": "fy2026"})
    assert response.status_code == 400 and "team" in response.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metrics": "spend,nonsense"}, "metrics"),
        ({"metrics": ", ,"}, "metrics"),
        ({"group_by": "color"}, "group_by"),
        ({"start": "2026-13-01", "end": "2026-12-31"}, "start"),
        ({"start": "2026-05-01", "end": "2026-01-01"}, "non_field_errors"),
        ({"period": "fy20x6"}, "period"),
    ],
)
def test_bad_queries_get_a_400_naming_the_field(api_as, cmo, params, field):
    response = api_as(cmo).get("/api/v1/kpis/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_anonymous_is_refused(api):
    assert api.get("/api/v1/kpis/").status_code == 401
    assert api.get("/api/v1/rollups/status/").status_code == 401


def test_rollup_status_shows_pending_changes_and_the_last_rebuild(api_as, cmo, marketer, team):
    campaign = CampaignFactory(team=team, owner=marketer)
    services.rebuild_all(compare=True)
    SpendEntry.objects.create(campaign=campaign, date=D(2026, 3, 1), amount=1, currency="USD", amount_base=Decimal("1"))
    body = api_as(cmo).get("/api/v1/rollups/status/").json()
    assert body["last_full_agreed"] is True and body["last_full_rebuild"]
    assert body["pending_campaigns"] == 1
    assert {"campaign_id": campaign.pk, "start": "2026-03-01", "end": "2026-03-01"} in body["pending_ranges"]
    services.refresh_pending()
    assert api_as(cmo).get("/api/v1/rollups/status/").json()["pending_marks"] == 0
