"""The import service end to end: upload → map → start → run on real samples and hand-made files —
re-runs, checks and modes, hostile files, mappings and permissions, the command, progress."""

import datetime
import io
import random
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns import hooks
from campaigns.imports.services import import_map, import_run, import_start
from campaigns.models import CampaignAlias, ImportBatch, ImportStatus, ResultFact, SpendEntry
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period
from tests.campaigns.conftest import counts, spend_total, upload
from tests.factories import CampaignFactory, FxRateFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data"

D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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


def test_a_channel_that_is_not_the_campaigns_is_refused(marketer, campaign):
    content = b"Date,Campaign,Channel,Spend\n2026-01-05,spring-webinars,Paid social,10\n"
    batch = upload(marketer, "x.csv", content=content)
    assert batch.errors == [{"row": 2, "message": "channel 'Paid social' is not the campaign's channel (Paid search)"}]


def test_stored_errors_are_capped_but_counted(marketer, campaign):
    rows = "".join(f"2026-01-{i % 28 + 1:02d},spring-webinars,-{i}\n" for i in range(1, 1501))
    batch = upload(marketer, "x.csv", content=f"Date,Campaign,Spend\n{rows}".encode())
    assert (batch.rows_total, batch.rows_rejected, len(batch.errors)) == (1500, 1500, 1000)
    assert batch.errors[-1]["row"] == 1001
