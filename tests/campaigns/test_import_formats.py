"""The import service on each format's samples, against their oracles: Google Ads, Meta Ads,
LinkedIn Ads, Microsoft Advertising (API samples and UI exports) and the generic sheet (CSV, XLSX)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Sum

from campaigns.imports.services import import_map
from campaigns.models import ImportStatus, ResultFact, SpendEntry
from tests.campaigns.conftest import counts, spend_total, upload
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def results_total(measure, **filters):
    return ResultFact.objects.filter(**filters).aggregate(s=Sum(measure))["s"]


# --- each format against its oracle -------------------------------------------------------------


def test_google_ads_api_sample_matches_the_readme_oracle(marketer, team, run):
    search = CampaignFactory(code="gads-search", team=team, utm_campaign="9935249409")  # matched by UTM
    batch = upload(marketer, "google_ads_campaign_stats_data.csv")
    assert (batch.format, batch.rows_total, batch.unknown_campaigns, batch.errors) == ("google_ads", 16, [], [])

    batch = run(marketer, batch)

    assert batch.status == ImportStatus.DONE
    assert counts(batch) == (16, 0, 0, 0)
    assert spend_total(campaign=search) == Decimal("231.33")  # Σcost_micros / 1e6
    assert results_total("clicks", campaign=search) == 280
    assert results_total("impressions", campaign=search) == 1854
    assert results_total("leads", campaign=search) == 0  # conversions
    assert SpendEntry.objects.filter(source="google_ads", external_key="google_ads").count() == 16


def test_meta_ads_sample_maps_ad_ids_to_campaigns_and_adds_them_up(marketer, team, run):
    social = CampaignFactory(code="meta-prospecting", team=team)
    batch = upload(marketer, "facebook_ads_basic_ad_data.csv")
    assert batch.unknown_campaigns == ["6215293456071", "6215304566671", "6215762744671", "6229007992271"]

    batch = import_map(actor=marketer, batch=batch, mapping={ref: social for ref in batch.unknown_campaigns})
    assert batch.unknown_campaigns == []
    batch = run(marketer, batch)

    assert spend_total(campaign=social) == Decimal("643.63")
    # Two ads ran on 2020-12-05: one spend row for the campaign-day, their sum.
    assert SpendEntry.objects.get(campaign=social, date=D(2020, 12, 5)).amount == Decimal("54.87") + Decimal("55.11")
    assert SpendEntry.objects.filter(campaign=social).count() == 9
    assert counts(batch) == (10, 0, 0, 0)


def test_linkedin_sample_reads_usd_cost(marketer, team, run):
    campaigns = {ref: CampaignFactory(team=team, utm_campaign=ref) for ref in ("148633856", "174096954")}
    others = CampaignFactory(team=team)
    batch = upload(marketer, "linkedin_ad_analytics_by_campaign_data.csv")
    batch = import_map(actor=marketer, batch=batch, mapping={ref: others for ref in batch.unknown_campaigns})
    batch = run(marketer, batch)

    assert batch.status == ImportStatus.DONE
    assert spend_total(source="linkedin_ads") == Decimal("530.62")
    assert spend_total(campaign=campaigns["148633856"]) == Decimal("530.62")
    assert results_total("clicks", source="linkedin_ads") == 919


def test_microsoft_sample_adds_device_and_network_rows_into_campaign_days(marketer, team, run):
    ids = {"359751135": "bing-brand", "349886458": "bing-generic", "349886462": "bing-competitor"}
    campaigns = {ref: CampaignFactory(code=code, team=team) for ref, code in ids.items()}
    batch = upload(marketer, "microsoft_ads_campaign_performance_daily_report_data.csv")
    assert batch.rows_total == 2630
    batch = import_map(actor=marketer, batch=batch, mapping={ref: campaigns[ref] for ref in ids})
    batch = run(marketer, batch)

    assert counts(batch) == (2630, 0, 0, 0)
    oracle = {  # README: impressions / clicks / conversions / spend
        "359751135": (4791, 151, 2, Decimal("593.91")),
        "349886458": (2559, 396, 0, Decimal("318.08")),
        "349886462": (219, 45, 0, Decimal("34.35")),
    }
    for ref, (impressions, clicks, conversions, spend) in oracle.items():
        campaign = campaigns[ref]
        assert results_total("impressions", campaign=campaign) == impressions
        assert results_total("clicks", campaign=campaign) == clicks
        assert results_total("leads", campaign=campaign) == conversions
        assert spend_total(campaign=campaign) == spend
    assert SpendEntry.objects.filter(source="microsoft_ads").count() == 403  # campaign-days, not rows


@pytest.mark.parametrize("name", ["google_ads_ui_export.csv", "google_ads_ui_export_utf16.tsv"])
def test_google_ads_ui_export_skips_preamble_and_totals(name, marketer, team, campaign, run):
    brand = CampaignFactory(code="brand-na", name="Brand North America", team=team)
    batch = upload(marketer, name)
    assert (batch.format, batch.rows_total, batch.unknown_campaigns) == ("google_ads", 5, ["Brand US"])
    batch = import_map(actor=marketer, batch=batch, mapping={"Brand US": brand})
    batch = run(marketer, batch)

    assert spend_total(source="google_ads") == Decimal("2732.61")  # the file's own "Total: Account"
    assert results_total("impressions", source="google_ads") == 25466
    assert results_total("revenue", campaign=brand) == Decimal("5556.00")
    day = ResultFact.objects.get(campaign=brand, date=D(2026, 1, 6))
    assert day.leads == 10  # 9.50 conversions, rounded half up
    assert ResultFact.objects.get(campaign=campaign, date=D(2026, 1, 6)).revenue == 0  # " --"


def test_meta_ads_manager_export_takes_the_currency_from_the_header(marketer, campaign, eur_rate, run):
    batch = run(marketer, upload(marketer, "meta_ads_manager_export.csv"))

    entry = SpendEntry.objects.get(campaign=campaign, date=D(2026, 1, 5))
    assert (entry.amount, entry.currency, entry.amount_base) == (Decimal("120.50"), "EUR", Decimal("132.55"))
    assert results_total("leads", campaign=campaign) == 10
    assert counts(batch) == (3, 0, 0, 0)


def test_linkedin_campaign_manager_export(marketer, campaign, run):
    batch = run(marketer, upload(marketer, "linkedin_campaign_manager_export.csv"))

    assert batch.status == ImportStatus.DONE
    assert spend_total(campaign=campaign) == Decimal("606.00")
    assert results_total("leads", campaign=campaign) == 10
    assert SpendEntry.objects.filter(campaign=campaign, date=D(2026, 1, 13)).exists()  # US date 1/13/2026


def test_microsoft_ads_report_with_preamble_and_footer(marketer, campaign, run):
    batch = run(marketer, upload(marketer, "microsoft_ads_report.csv"))

    assert counts(batch) == (4, 0, 0, 0)
    day = ResultFact.objects.get(campaign=campaign, date=D(2026, 1, 5))
    assert (day.impressions, day.clicks, day.leads, day.revenue) == (1500, 32, 3, Decimal("150.00"))
    assert SpendEntry.objects.get(campaign=campaign, date=D(2026, 1, 5)).amount == Decimal("65.10")


def test_generic_sheet_with_fx_and_synonyms(marketer, campaign, eur_rate, run):
    batch = run(marketer, upload(marketer, "generic_spend.csv"))

    assert counts(batch) == (3, 0, 0, 0)
    eur = SpendEntry.objects.get(campaign=campaign, date=D(2026, 1, 6))
    assert (eur.amount, eur.currency, eur.amount_base) == (Decimal("1200.50"), "EUR", Decimal("1320.55"))
    assert SpendEntry.objects.get(campaign=campaign, date=D(2026, 1, 7)).currency == "USD"  # the campaign's
    results = ResultFact.objects.get(campaign=campaign, date=D(2026, 1, 6))
    assert (results.leads, results.mqls, results.revenue) == (7, 3, Decimal("550.00"))  # revenue in base
    assert results.source == "generic"


def test_generic_xlsx_reads_money_exactly(marketer, campaign, run, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Date", "Campaign Code", "Amount", "Currency", "Impressions", "MQLs"])
    sheet.append([datetime.datetime(2026, 1, 5), "spring-webinars", 0.1 + 0.2, "USD", 1000, 2])
    sheet.append(["2026-01-06", "spring-webinars", 1234.565, "USD", 2000.0, 3])
    sheet.append([datetime.datetime(2026, 1, 7), "spring-webinars", 19.99, "USD", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    batch = run(marketer, upload(marketer, "spend.xlsx", content=buffer.getvalue()))

    assert batch.status == ImportStatus.DONE, batch.errors
    amounts = dict(SpendEntry.objects.filter(campaign=campaign).values_list("date", "amount"))
    assert amounts == {
        D(2026, 1, 5): Decimal("0.30"),
        D(2026, 1, 6): Decimal("1234.57"),
        D(2026, 1, 7): Decimal("19.99"),
    }
    assert results_total("mqls", campaign=campaign) == 5
