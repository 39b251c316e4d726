"""The import service end to end: upload → map → start → run, on real samples and hand-made files."""

import contextlib
import datetime
import io
import math
import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum

from campaigns import hooks
from campaigns.imports.services import import_map, import_run, import_start, import_upload
from campaigns.models import CampaignAlias, ImportBatch, ImportStatus, ResultFact, SpendEntry
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period
from tests import needs
from tests.factories import CampaignFactory, FxRateFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[1] / "data"
D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``run(actor, batch)``: start the import and let the (eager) task run after commit."""

    def start(actor, batch):
        with django_capture_on_commit_callbacks(execute=True):
            import_start(actor=actor, batch=batch)
        batch.refresh_from_db()
        return batch

    return start


def upload(actor, name, *, content: bytes | None = None, **kwargs) -> ImportBatch:
    content = (DATA / name).read_bytes() if content is None else content
    return import_upload(actor=actor, file=ContentFile(content, name=name), filename=name, **kwargs)


def spend_total(**filters):
    return SpendEntry.objects.filter(**filters).aggregate(s=Sum("amount"))["s"]


def results_total(measure, **filters):
    return ResultFact.objects.filter(**filters).aggregate(s=Sum(measure))["s"]


def counts(batch):
    return batch.rows_created, batch.rows_updated, batch.rows_unchanged, batch.rows_rejected


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


# --- idempotence and re-runs ----------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(marketer, team, run, django_assert_max_num_queries):
    ids = {"359751135": "bing-brand", "349886458": "bing-generic", "349886462": "bing-competitor"}
    for ref, code in ids.items():
        CampaignFactory(code=code, team=team, utm_campaign=ref)
    run(marketer, upload(marketer, "microsoft_ads_campaign_performance_daily_report_data.csv"))
    before = list(SpendEntry.objects.order_by("pk").values_list("pk", "amount", "updated_at"))
    results_before = list(ResultFact.objects.order_by("pk").values_list("pk", "clicks", "updated_at"))

    again = upload(marketer, "microsoft_ads_campaign_performance_daily_report_data.csv")
    again = run(marketer, again)

    assert counts(again) == (0, 0, 2630, 0)
    assert list(SpendEntry.objects.order_by("pk").values_list("pk", "amount", "updated_at")) == before
    assert list(ResultFact.objects.order_by("pk").values_list("pk", "clicks", "updated_at")) == results_before


def test_a_changed_row_is_updated_and_counted(marketer, campaign, run):
    run(
        marketer,
        upload(
            marketer,
            "generic_duplicates.csv",
            content=b"Date,Campaign,Spend\n2026-01-05,spring-webinars,10\n2026-01-06,spring-webinars,11\n",
        ),
    )
    batch = run(
        marketer,
        upload(
            marketer,
            "x.csv",
            content=b"Date,Campaign,Spend\n2026-01-05,spring-webinars,10\n2026-01-06,spring-webinars,12\n2026-01-07,spring-webinars,1\n",
        ),
    )
    assert counts(batch) == (1, 1, 1, 0)
    assert SpendEntry.objects.get(campaign=campaign, date=D(2026, 1, 6)).amount == Decimal("12.00")
    assert SpendEntry.objects.count() == 3


def test_a_failed_run_can_run_again_without_double_counting(marketer, campaign, run):
    FxRateFactory(currency_id="EUR", date=D(2026, 1, 1), rate=Decimal("1.10"))
    batch = upload(marketer, "generic_spend.csv", commit_mode="good")
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED)
    import_run(batch_id=batch.pk)
    # An interrupted worker leaves it running; the task's redelivery runs it again.
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING)
    batch = import_run(batch_id=batch.pk)

    assert batch.status == ImportStatus.DONE
    assert counts(batch) == (0, 0, 3, 0)
    assert SpendEntry.objects.count() == 3
    assert spend_total() == Decimal("1300.50")


def test_a_done_import_is_not_run_twice(marketer, campaign, run):
    batch = run(
        marketer,
        upload(marketer, "generic_duplicates.csv", content=b"Date,Campaign,Spend\n2026-01-05,spring-webinars,10\n"),
    )
    assert import_run(batch_id=batch.pk).rows_created == 1
    with pytest.raises(ValidationError, match="done"):
        import_start(actor=marketer, batch=batch)


# --- checks, modes and hostile files --------------------------------------------------------------


def test_bad_rows_are_named_and_block_an_all_or_nothing_import(marketer, campaign):
    batch = upload(marketer, "generic_bad_values.csv")

    assert batch.rows_total == 6
    assert batch.rows_rejected == 5
    assert batch.errors == [
        {"row": 2, "message": "spend -12.50 is negative"},
        {"row": 3, "message": "spend 'twelve' is not a number"},
        {"row": 4, "message": "the date is missing"},
        {"row": 5, "message": "'XYZ' is not a currency mops knows"},
        {"row": 6, "message": "'03/04/2026' is ambiguous (day or month first?); write dates as YYYY-MM-DD"},
    ]
    with pytest.raises(ValidationError, match="Rows 2, 3, 4, 5 and 6 have errors: correct the file"):
        import_start(actor=marketer, batch=batch)
    assert not SpendEntry.objects.exists()


def test_good_rows_mode_writes_the_good_rows_and_reports_the_rest(marketer, campaign, run):
    batch = run(marketer, upload(marketer, "generic_bad_values.csv", commit_mode="good"))

    assert batch.status == ImportStatus.DONE
    assert counts(batch) == (1, 0, 0, 5)
    assert [e["row"] for e in batch.errors] == [2, 3, 4, 5, 6]
    assert list(SpendEntry.objects.values_list("date", "amount")) == [(D(2026, 1, 10), Decimal("10.00"))]


def test_duplicate_rows_in_one_file_are_refused(marketer, campaign):
    batch = upload(marketer, "generic_duplicates.csv")
    assert batch.errors == [{"row": 4, "message": "row 2 has the same campaign and day (spring-webinars, 2026-01-05)"}]


def test_a_closed_month_refuses_its_rows_and_nothing_is_half_written(marketer, finance, campaign, run):
    batch = upload(marketer, "google_ads_ui_export.csv")
    batch = import_map(actor=marketer, batch=batch, mapping={"Brand US": campaign})
    # Finance closes January after the check: the run checks again and writes nothing.
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 1, 1)))
    batch = run(marketer, batch)

    assert batch.status == ImportStatus.FAILED
    assert batch.errors[0] == {
        "row": 4,
        "message": "Jan 2026 is closed by finance: nothing dated 2026-01-05 can be imported",
    }
    assert batch.rows_rejected == 5
    assert not SpendEntry.objects.exists() and not ResultFact.objects.exists()


def test_rows_without_a_rate_for_their_date_are_refused(marketer, team, run):
    social = CampaignFactory(team=team, currency="EUR", utm_campaign="6215293456071")
    FxRateFactory(currency_id="EUR", date=D(2020, 12, 5), rate=Decimal("1.2"))
    batch = upload(marketer, "facebook_ads_basic_ad_data.csv", commit_mode="good")
    batch = import_map(actor=marketer, batch=batch, mapping={ref: social for ref in batch.unknown_campaigns})

    messages = {e["row"]: e["message"] for e in batch.errors}
    assert messages[6] == "No exchange rate for EUR on or before 2020-12-02; ask finance to add one."
    batch = run(marketer, batch)
    assert batch.rows_rejected == 3  # 2020-12-02, -03 and -04 come before the first rate
    assert SpendEntry.objects.get(campaign=social, date=D(2020, 12, 10)).amount_base == Decimal("91.84")


def test_mixed_currencies_within_a_campaign_day_are_refused(marketer, campaign, eur_rate):
    content = (
        b"TimePeriod,CampaignName,DeviceType,CurrencyCode,Spend\n"
        b"2026-01-05,spring-webinars,Computer,USD,1\n"
        b"2026-01-05,spring-webinars,Tablet,EUR,1\n"
    )
    batch = upload(marketer, "ms.csv", content=content)
    assert batch.errors == [{"row": 3, "message": "its currency EUR differs from USD in row 2 for the same day"}]


def test_the_same_segment_twice_is_a_duplicate_not_a_sum(marketer, campaign):
    content = (
        b"TimePeriod,CampaignName,DeviceType,Spend\n"
        b"2026-01-05,spring-webinars,Computer,1\n"
        b"2026-01-05,spring-webinars,Computer,1\n"
    )
    batch = upload(marketer, "ms.csv", content=content)
    assert batch.errors == [{"row": 3, "message": "row 2 has the same campaign, day and segments"}]


def test_a_file_in_another_encoding_names_the_row(marketer, campaign):
    batch = upload(marketer, "generic_latin1.csv")
    assert [e["row"] for e in batch.errors] == [3]
    assert "not valid text" in batch.errors[0]["message"] and "UTF-8" in batch.errors[0]["message"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", None, "The file is empty."),
        ("generic_missing_columns.csv", None, "It lacks a date column."),
        ("logo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "The file is a PNG image"),
        ("noise.csv", random.Random(7).randbytes(4096), "binary data"),
        ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old Excel .xls"),
        ("header-only.csv", b"Date,Campaign,Spend\n", "no data rows"),
    ],
)
def test_files_that_cannot_be_imported_are_refused_and_not_stored(marketer, name, content, message):
    with pytest.raises(ValidationError, match=message):
        upload(marketer, name, content=content)
    assert not ImportBatch.objects.exists()


def test_files_over_the_size_limit_are_refused(marketer, settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="limit"):
        upload(marketer, "generic_spend.csv")
    assert not ImportBatch.objects.exists()


def test_a_forced_format_that_does_not_fit_is_refused(marketer):
    with pytest.raises(ValidationError, match="does not look like a LinkedIn Ads export"):
        upload(marketer, "generic_spend.csv", format="linkedin_ads")


# --- campaigns, mapping and permissions -----------------------------------------------------------


def test_a_mapping_is_remembered_for_the_next_import(marketer, team, campaign, run):
    brand = CampaignFactory(code="brand-na", team=team)
    first = upload(marketer, "google_ads_ui_export.csv")
    import_map(actor=marketer, batch=first, mapping={"Brand US": brand})
    assert CampaignAlias.objects.get(source="google_ads", external_ref="Brand US").campaign == brand
    assert AuditEvent.objects.filter(action="campaign_alias.set").count() == 1

    second = upload(marketer, "google_ads_ui_export_utf16.tsv")

    assert second.unknown_campaigns == []
    assert run(marketer, second).rows_created == 5


def test_unknown_campaigns_block_the_start_until_mapped_or_skipped(marketer, campaign, run):
    batch = upload(marketer, "google_ads_ui_export.csv")
    with pytest.raises(ValidationError, match="'Brand US'"):
        import_start(actor=marketer, batch=batch)

    batch = import_map(actor=marketer, batch=batch, mapping={"Brand US": None})
    assert batch.unknown_campaigns == []
    assert batch.errors == [
        {"row": None, "ref": "Brand US", "rows": 3, "message": "3 rows of 'Brand US' skipped: mapped to no campaign."}
    ]
    batch = run(marketer, batch)  # skipped rows do not block an all-or-nothing import

    assert counts(batch) == (2, 0, 0, 3)
    assert not CampaignAlias.objects.exists()
    assert spend_total() == Decimal("510.40")


def test_only_a_real_unknown_reference_can_be_mapped(marketer, campaign):
    batch = upload(marketer, "google_ads_ui_export.csv")
    with pytest.raises(ValidationError, match="not an unmapped campaign"):
        import_map(actor=marketer, batch=batch, mapping={"Something else": campaign})


def test_an_outsider_cannot_import_into_another_teams_campaign(outsider, campaign, other_team):
    batch = upload(outsider, "generic_duplicates.csv", content=b"Date,Campaign,Spend\n2026-01-05,spring-webinars,10\n")
    assert batch.errors == [
        {"row": 2, "message": "you cannot import into 'spring-webinars': it is not one of your team's campaigns"}
    ]
    with pytest.raises(ValidationError):
        import_start(actor=outsider, batch=batch)

    google = upload(outsider, "google_ads_ui_export.csv")
    with pytest.raises(PermissionDenied):
        import_map(actor=outsider, batch=google, mapping={"Brand US": campaign})


def test_only_marketers_upload_and_only_the_uploader_starts(finance, teammate, marketer, campaign):
    with pytest.raises(PermissionDenied):
        upload(finance, "generic_spend.csv")
    batch = upload(marketer, "linkedin_campaign_manager_export.csv")
    with pytest.raises(PermissionDenied):
        import_start(actor=teammate, batch=batch)


def test_the_run_is_audited_and_announced_once(marketer, campaign, run):
    announced = []

    def listener(sender, campaign_ids, start, end, **kwargs):
        announced.append((campaign_ids, start, end))

    hooks.facts_changed.connect(listener)
    try:
        batch = run(marketer, upload(marketer, "linkedin_campaign_manager_export.csv"))
        again = run(marketer, upload(marketer, "linkedin_campaign_manager_export.csv"))
    finally:
        hooks.facts_changed.disconnect(listener)

    assert announced == [({campaign.pk}, D(2026, 1, 5), D(2026, 1, 13))]  # the unchanged re-run says nothing
    event = AuditEvent.objects.get(action="import.run", object_id=str(batch.pk))
    assert event.after["rows_created"] == 3 and event.after["status"] == "done"
    assert AuditEvent.objects.filter(action="import.run", object_id=str(again.pk)).exists()


# --- scale ----------------------------------------------------------------------------------------


def _generic_rows(campaigns, days):
    lines = ["Date,Campaign,Spend,Currency,Impressions,Clicks,Leads"]
    start = D(2026, 1, 1)
    for code in campaigns:
        for offset in range(days):
            day = start + datetime.timedelta(days=offset)
            lines.append(f"{day:%Y-%m-%d},{code},{offset % 97}.25,USD,{offset * 10},{offset},{offset % 5}")
    return ("\n".join(lines) + "\n").encode()


def _inserts_per_table(rows: int) -> int:
    """One INSERT per chunk on PostgreSQL; SQLite splits it at its limit of 999 parameters."""
    return 1 if connection.vendor == "postgresql" else math.ceil(rows / (999 // 16))


@pytest.fixture
def without_fact_listeners(monkeypatch):
    """The import's own queries: whoever listens to ``facts_changed`` (the rollups) answers after
    the import's commit, within the eager task here, with queries of its own."""
    monkeypatch.setattr(hooks.facts_changed, "receivers", [])


@pytest.mark.parametrize("campaign_count", [5, 20])
def test_queries_stay_bounded_by_chunks_not_rows(
    campaign_count, marketer, team, run, django_assert_max_num_queries, without_fact_listeners
):
    codes = [CampaignFactory(team=team, code=f"bulk-{i}").code for i in range(campaign_count)]
    rows = campaign_count * 100
    content = _generic_rows(codes, 100)  # 500 or 2,000 rows: one chunk each

    with django_assert_max_num_queries(36 + 2 * _inserts_per_table(rows)):
        batch = upload(marketer, "bulk.csv", content=content)
        batch = run(marketer, batch)

    assert batch.rows_created == rows
    # Nothing changed: nothing written. The upload's and the run's checks, the staging table (create,
    # fill, drop — one round trip each, or two on SQLite), the chunk's comparison and the upload's
    # look for the same spend under another source (one query a block).
    with django_assert_max_num_queries(33):
        again = run(marketer, upload(marketer, "bulk.csv", content=content))
    assert again.rows_unchanged == rows


def test_several_chunks_write_every_row_once(marketer, team, run, monkeypatch):
    from campaigns.imports import checking

    monkeypatch.setattr(checking, "CHUNK", 64)
    codes = [CampaignFactory(team=team, code=f"bulk-{i}").code for i in range(3)]
    content = _generic_rows(codes, 100)

    batch = run(marketer, upload(marketer, "bulk.csv", content=content, commit_mode="good"))

    assert (batch.rows_total, batch.rows_done, batch.rows_created) == (300, 300, 300)
    assert SpendEntry.objects.count() == ResultFact.objects.count() == 300


def _facts():
    spend = sorted(
        SpendEntry.objects.values_list(
            "campaign_id", "date", "source", "external_key", "amount", "currency", "amount_base"
        )
    )
    results = sorted(
        ResultFact.objects.values_list(
            "campaign_id", "date", "source", "impressions", "clicks", "leads", "pipeline", "revenue"
        )
    )
    return spend, results


def _mixed_rows(codes, days, *, bump: int = 0):
    """Generic rows in USD and EUR, some with spend only, some with results only."""
    lines = ["Date,Campaign,Spend,Currency,Impressions,Clicks,Leads,Pipeline"]
    start = D(2026, 1, 1)
    for i, code in enumerate(codes):
        for offset in range(days):
            day = start + datetime.timedelta(days=offset)
            currency = "EUR" if i % 2 else "USD"
            spend = "" if offset % 7 == 3 else f"{(offset * 13 + bump) % 97}.{offset % 100:02d}5"
            impressions = "" if offset % 11 == 4 else str(offset * 10 + (bump if offset % 2 else 0))
            pipeline = f"{offset % 13}.005"
            lines.append(f"{day:%Y-%m-%d},{code},{spend},{currency},{impressions},{offset},{offset % 5},{pipeline}")
    return ("\n".join(lines) + "\n").encode()


def _segmented_rows(codes, days, *, bump: int = 0):
    """A Microsoft Advertising report: each campaign-day split over one to three devices, in USD or
    EUR, fractional conversions and revenue that add up before they round."""
    lines = ["TimePeriod,CampaignName,DeviceType,CurrencyCode,Spend,Impressions,Clicks,Conversions,Revenue"]
    start = D(2026, 1, 1)
    for i, code in enumerate(codes):
        for offset in range(days):
            day = start + datetime.timedelta(days=offset)
            currency = "EUR" if i % 2 else "USD"
            for device in ("Computer", "Smartphone", "Tablet")[: 1 + (offset + i) % 3]:
                spend = (
                    ""
                    if (offset + len(device)) % 5 == 0
                    else f"{(offset * 7 + len(device) + bump) % 50}.{offset % 10}5"
                )
                conversions = f"{(offset + len(device)) % 3}.5"
                revenue = f"{(offset * 3 + bump * (offset % 2)) % 40}.005"
                lines.append(
                    f"{day:%Y-%m-%d},{code},{device},{currency},{spend},{offset * 10},{offset},{conversions},{revenue}"
                )
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("shape", ["generic", "segmented"])
@pytest.mark.parametrize("commit_mode", ["all", "good"])
def test_the_staging_table_path_writes_and_counts_as_the_python_path(
    commit_mode, shape, marketer, team, run, monkeypatch
):
    """PostgreSQL adds up, rounds, converts and compares in SQL; the Python path (SQLite's) must
    give the same facts, counts and announced changes — with one row per campaign-day (generic)
    and with days spread over several rows (segmented: the days are summed into a second table)."""
    needs.postgresql("the staging table is PostgreSQL's")
    from campaigns.importers import columns
    from campaigns.imports import checking, writing

    monkeypatch.setattr(checking, "CHUNK", 37)  # several chunks, campaign-days split across them
    monkeypatch.setattr(columns, "BLOCK_ROWS", 50)  # and blocks that split campaign-days too
    FxRateFactory(currency_id="EUR", date=D(2025, 12, 1), rate=Decimal("1.0837"))
    codes = [CampaignFactory(team=team, code=f"stage-{i}").code for i in range(4)]
    make = _mixed_rows if shape == "generic" else _segmented_rows
    files = [make(codes, 60), make(codes, 60), make(codes, 75, bump=5)]
    announced = []

    def listener(sender, campaign_ids, start, end, **kwargs):
        announced.append((set(campaign_ids), start, end))

    monkeypatch.setattr(hooks.facts_changed, "receivers", [])  # only this listener, for this test
    hooks.facts_changed.connect(listener, weak=False)
    outcomes = {}
    for staging in (False, True):
        monkeypatch.setattr(writing.Writer, "staging", staging)
        SpendEntry.objects.all().delete()
        ResultFact.objects.all().delete()
        announced.clear()
        seen = []
        for content in files:
            batch = run(marketer, upload(marketer, "mixed.csv", content=content, commit_mode=commit_mode))
            assert batch.status == ImportStatus.DONE, batch.errors
            seen.append((counts(batch), batch.rows_done, _facts()))
        outcomes[staging] = (seen, list(announced))
    assert outcomes[True] == outcomes[False]
    seen, announced = outcomes[True]
    rows = [content.count(b"\n") - 1 for content in files]
    created, updated, unchanged, _ = seen[2][0]
    assert [s[0] for s in seen[:2]] == [(rows[0], 0, 0, 0), (0, 0, rows[0], 0)]
    assert created > 0 and updated > 0 and unchanged > 0 and created + updated + unchanged == rows[2]
    assert [s[1] for s in seen] == rows  # progress ends at every row
    assert len(announced) == 2  # the unchanged re-import announces nothing


def _expected_errors(rows, *, segmented: bool, closed_month, first_rate):
    """The check's rules read one row at a time, as the reference: ``rows`` are (row, code, day,
    device, currency)."""
    first_of_day, segments, errors = {}, {}, []
    for row, code, day, device, currency in rows:
        problems = []
        if (day.year, day.month) == closed_month:
            problems.append(f"{day:%b %Y} is closed by finance: nothing dated {day:%Y-%m-%d} can be imported")
        if currency not in ("USD", "EUR"):
            problems.append(f"{currency!r} is not a currency mops knows")
        elif currency == "EUR" and day < first_rate:
            problems.append(f"No exchange rate for EUR on or before {day:%Y-%m-%d}; ask finance to add one.")
        first = first_of_day.get((code, day))
        if not segmented:
            if first:
                problems.append(f"row {first[0]} has the same campaign and day ({code}, {day:%Y-%m-%d})")
        elif (code, day, device) in segments:
            problems.append(f"row {segments[code, day, device]} has the same campaign, day and segments")
        elif first and first[1] != currency:
            problems.append(f"its currency {currency} differs from {first[1]} in row {first[0]} for the same day")
        if problems:
            errors.append({"row": row, "message": "; ".join(problems)})
        else:
            segments[code, day, device] = row
            first_of_day.setdefault((code, day), (row, currency))
    return errors


@pytest.mark.parametrize("segmented", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_the_rules_between_rows_hold_across_blocks(seed, segmented, marketer, finance, team, fiscal_2026, monkeypatch):
    """Duplicates, segments and a day's currency, checked a block at a time, as one row at a time."""
    from campaigns.importers import columns

    monkeypatch.setattr(columns, "BLOCK_ROWS", 7)
    rnd = random.Random(seed)
    codes = [CampaignFactory(team=team, code=f"rule-{i}").code for i in range(3)]
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 2, 1)))
    FxRateFactory(currency_id="EUR", date=D(2026, 1, 10), rate=Decimal("1.1"))
    rows, lines = [], []
    for row in range(2, 302):
        code, day = rnd.choice(codes), D(2026, 1, 1) + datetime.timedelta(days=rnd.randrange(45))
        device, currency = rnd.choice(["Computer", "Tablet"]), rnd.choice(["USD", "USD", "EUR", "XYZ"])
        rows.append((row, code, day, device, currency))
        lines.append(f"{day:%Y-%m-%d},{code},{device},{currency},1.50")
    header = (
        "TimePeriod,CampaignName,DeviceType,CurrencyCode,Spend" if segmented else "Date,Campaign,Device,Currency,Spend"
    )
    batch = upload(marketer, "rules.csv", content=("\n".join([header, *lines]) + "\n").encode())

    expected = _expected_errors(rows, segmented=segmented, closed_month=(2026, 2), first_rate=D(2026, 1, 10))
    assert batch.format == ("microsoft_ads" if segmented else "generic")
    assert batch.errors == expected
    assert batch.rows_rejected == len(expected) and 0 < len(expected) < 300


def test_key_tables_hold_what_a_dict_would():
    from campaigns.imports.checking import KeyTable

    rnd, table, reference = random.Random(3), KeyTable(), {}
    for _ in range(60):
        keys = np.array(sorted({rnd.randrange(-(2**62), 2**62) for _ in range(rnd.randint(1, 40))}), dtype=np.int64)
        keys = keys[[k not in reference for k in keys.tolist()]]
        if len(keys):
            values = np.array([rnd.randint(1, 2**40) for _ in keys], dtype=np.int64)
            table.add(keys, values)
            reference.update(zip(keys.tolist(), values.tolist(), strict=True))
        probe = np.array([*rnd.sample(sorted(reference), min(20, len(reference))), 7, -7], dtype=np.int64)
        assert table.get(probe).tolist() == [reference.get(k, 0) for k in probe.tolist()]
    assert len(table) == len(reference) and len(table.runs) < 12


# --- the command ------------------------------------------------------------------------------------


def test_the_command_maps_runs_and_prints_a_summary(marketer, team, campaign):
    brand = CampaignFactory(code="brand-na", team=team)
    out = io.StringIO()
    call_command(
        "import_performance",
        str(DATA / "google_ads_ui_export.csv"),
        "--user",
        "alice",
        "--map",
        "Brand US=brand-na",
        stdout=out,
    )
    assert "status done: 5 rows read, 5 created, 0 updated, 0 unchanged, 0 rejected" in out.getvalue()
    assert spend_total(campaign=brand) == Decimal("2222.21")


def test_the_command_prints_bad_rows_and_fails(marketer, campaign):
    out = io.StringIO()
    with pytest.raises(CommandError, match="Rows 2, 3, 4, 5 and 6 have errors"):
        call_command("import_performance", str(DATA / "generic_bad_values.csv"), "--user", "alice", stdout=out)
    assert "row 3: spend 'twelve' is not a number" in out.getvalue()
    assert not SpendEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_an_all_or_nothing_import_runs(marketer, team, monkeypatch):
    needs.postgresql("progress over a second connection is PostgreSQL's")
    from django.db import connections

    from campaigns.imports import checking
    from campaigns.imports import services as imports

    monkeypatch.setattr(checking, "CHUNK", 64)
    codes = [CampaignFactory(team=team, code=f"bulk-{i}").code for i in range(3)]
    batch = upload(marketer, "bulk.csv", content=_generic_rows(codes, 100))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED)
    seen, real_reporter = [], imports.progress_reporter
    observer = connections.create_connection("default")

    @contextlib.contextmanager
    def watched(batch):
        with real_reporter(batch) as report:

            def report_and_look(rows_done):
                report(rows_done)
                with observer.cursor() as cursor:  # another session, outside the import's transaction
                    cursor.execute("SELECT rows_done FROM campaigns_importbatch WHERE id = %s", [batch.pk])
                    seen.append(cursor.fetchone()[0])

            yield report_and_look

    monkeypatch.setattr(imports, "progress_reporter", watched)
    try:
        batch = import_run(batch_id=batch.pk)
    finally:
        observer.close()

    assert batch.status == ImportStatus.DONE and batch.rows_done == 300
    assert len(seen) >= 4 and seen == sorted(seen) and 0 < seen[0] < 300
    assert SpendEntry.objects.count() == 300


def test_a_channel_that_is_not_the_campaigns_is_refused(marketer, campaign):
    content = b"Date,Campaign,Channel,Spend\n2026-01-05,spring-webinars,Paid social,10\n"
    batch = upload(marketer, "x.csv", content=content)
    assert batch.errors == [{"row": 2, "message": "channel 'Paid social' is not the campaign's channel (Paid search)"}]


def test_stored_errors_are_capped_but_counted(marketer, campaign):
    rows = "".join(f"2026-01-{i % 28 + 1:02d},spring-webinars,-{i}\n" for i in range(1, 1501))
    batch = upload(marketer, "x.csv", content=f"Date,Campaign,Spend\n{rows}".encode())
    assert (batch.rows_total, batch.rows_rejected, len(batch.errors)) == (1500, 1500, 1000)
    assert batch.errors[-1]["row"] == 1001
