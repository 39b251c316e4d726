"""An import never drops a column silently (issue 19 §4) and says what it did in good English (§7):
the format is the one that reads every column another format would read (or the user is asked),
every upload says which column went into which field and which were ignored, spend already stored
under another source is not counted twice without the user saying so, and row errors are named."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.importers import formats, layouts, shapes
from campaigns.imports.messages import name_rows
from campaigns.imports.services import import_start, import_upload
from campaigns.models import ImportStatus, ResultFact, SpendEntry
from mops.money import MONEY_MAX_TEXT

pytestmark = pytest.mark.django_db
IMPORTS = "/api/v1/imports/"
# The sheet: a generic sheet whose "Impr." and "Cost" made it pass for a Google Ads report.
SHEET = (
    b"Day,Campaign,Cost,Currency,Impr.,Clicks,Leads,Won revenue\n"
    b"2026-01-05,spring-webinars,120.50,USD,1000,40,6,2500.00\n"
    b"2026-01-06,spring-webinars,80.00,USD,800,30,4,0\n"
)
EVERY_COLUMN = [
    {"column": "Day", "field": "date"},
    {"column": "Campaign", "field": "campaign"},
    {"column": "Cost", "field": "spend"},
    {"column": "Currency", "field": "currency"},
    {"column": "Impr.", "field": "impressions"},
    {"column": "Clicks", "field": "clicks"},
    {"column": "Leads", "field": "leads"},
    {"column": "Won revenue", "field": "revenue"},
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def start(actor, batch, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            import_start(actor=actor, batch=batch, **kwargs)
        batch.refresh_from_db()
        return batch

    return start


def upload(actor, content=SHEET, name="sheet.csv", **kwargs):
    return import_upload(actor=actor, file=ContentFile(content, name=name), filename=name, **kwargs)


# --- §4: the format that reads the most columns -------------------------------------------------


def test_a_generic_sheet_with_google_like_columns_keeps_its_leads_and_revenue(marketer, campaign, run):
    batch = upload(marketer)
    assert (batch.format, batch.columns, batch.rows_rejected) == ("generic", EVERY_COLUMN, 0)

    batch = run(marketer, batch)

    assert batch.status == ImportStatus.DONE
    facts = ResultFact.objects.filter(campaign=campaign).order_by("date")
    assert [(f.impressions, f.clicks, f.leads, f.revenue) for f in facts] == [
        (1000, 40, 6, Decimal("2500.00")),
        (800, 30, 4, Decimal("0.00")),
    ]
    assert sum(SpendEntry.objects.filter(campaign=campaign).values_list("amount", flat=True)) == Decimal("200.50")


def test_a_header_that_each_format_reads_only_in_part_is_not_guessed(marketer, campaign):
    content = b"Day,Campaign,Cost,Impr.,Conversions,Leads\n2026-01-05,spring-webinars,10,100,2,3\n"
    with pytest.raises(ValidationError) as refused:
        upload(marketer, content)
    message = refused.value.message_dict["file"][0]
    assert "read as Google Ads, “Leads” would be ignored" in message
    assert "read as Spreadsheet, “Conversions” would be ignored" in message
    assert "Choose the format — Google Ads (google_ads) or Spreadsheet (generic)" in message

    chosen = upload(marketer, content, format="google_ads")  # the user chose: the report says what is left
    assert {c["column"]: c["field"] for c in chosen.columns}["Leads"] is None


@pytest.mark.parametrize(
    ("header", "format"),
    [
        # A Google Ads report: Conversions and Conv. value are Google's; the sheet would ignore them.
        ("Campaign,Day,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value", "google_ads"),
        # Both read the same columns: the platform's export (its rules for segments and dates) wins.
        ("Campaign,Day,Cost,Impr.,Clicks", "google_ads"),
        ("Campaign,Day,Cost,Impr.,Clicks,Device", "google_ads"),  # the device segment is Google's
        ("Day,Campaign,Cost,Impr.,Clicks,MQLs", "generic"),  # MQLs only the sheet reads
    ],
)
def test_the_chosen_format_reads_every_column_the_others_would(tmp_path, header, format):
    path = tmp_path / "x.csv"
    path.write_text(header + "\n")
    chosen, _ = formats.sniff(path)
    assert chosen == format


def test_every_sample_file_is_read_by_a_format_that_leaves_nothing_another_would_read():
    from pathlib import Path

    from campaigns.importers.formats import IMPORTERS, detection_order

    data = Path(__file__).resolve().parents[1] / "data"
    for path in sorted(data.glob("*.csv")):
        try:
            fmt, table = formats.sniff(path)
        except shapes.ImportFileError:
            continue
        read = set(layouts.layout_columns(IMPORTERS[fmt].layout(table.header)))
        for importer in detection_order():
            if importer.detect(table.header):
                try:
                    other = set(layouts.layout_columns(importer.layout(table.header)))
                except shapes.LayoutError:
                    continue
                assert other <= read, (path.name, fmt, importer.SOURCE)


def test_the_api_answer_says_which_columns_were_read_and_which_ignored(api_as, marketer, campaign):
    client = api_as(marketer)
    file = SimpleUploadedFile("sheet.csv", SHEET, content_type="text/csv")
    body = client.post(IMPORTS, {"file": file, "format": "google_ads"}, format="multipart").json()

    assert body["columns_ignored"] == ["Leads", "Won revenue"]
    assert body["columns"][:2] == [{"column": "Day", "field": "date"}, {"column": "Campaign", "field": "campaign"}]
    assert {"column": "Leads", "field": None} in body["columns"]
    assert client.get(f"{IMPORTS}{body['id']}/").json()["columns"] == body["columns"]  # kept on the batch


def test_the_import_page_shows_the_columns_and_the_ignored_ones(client, marketer, campaign):
    batch = upload(marketer, format="google_ads")
    client.force_login(marketer)
    page = client.get(reverse("campaigns:import-detail", args=[batch.pk])).content.decode()
    assert 'data-testid="import-columns"' in page
    assert "2 columns are ignored" in page
    assert '<tr class="table-warning"><td>Leads</td><td><strong>ignored</strong></td></tr>' in page
    assert "<td>Impr.</td><td>impressions</td>" in page


# --- §4: spend already stored under another source ------------------------------------------------


def test_spend_repeated_from_another_source_waits_for_the_user(marketer, campaign, run):
    first = run(marketer, upload(marketer, format="google_ads"))  # the first import
    assert first.status == ImportStatus.DONE

    again = upload(marketer)  # the same sheet, now read as a spreadsheet
    assert (again.format, again.repeat_count) == ("generic", 2)
    assert again.repeats[0] == {
        "row": 2,
        "campaign": "spring-webinars",
        "date": "2026-01-05",
        "amount": "120.50",
        "currency": "USD",
        "source": "google_ads",
    }
    with pytest.raises(ValidationError) as refused:
        import_start(actor=marketer, batch=again)
    assert refused.value.messages[0].startswith(
        "Rows 2 and 3 repeat spend already stored for the same campaign and day under Google Ads (the same amount)"
    )
    assert SpendEntry.objects.filter(campaign=campaign).count() == 2

    done = run(marketer, again, allow_repeated_spend=True)  # the user says it is other money
    assert done.status == ImportStatus.DONE
    assert SpendEntry.objects.filter(campaign=campaign).count() == 4


def test_other_amounts_and_the_same_source_are_no_repeat(marketer, campaign, run):
    run(marketer, upload(marketer))  # generic
    assert upload(marketer).repeat_count == 0  # the same source again: an upsert, not a second count
    other = SHEET.replace(b"120.50", b"120.51").replace(b"80.00", b"0")
    assert upload(marketer, other, format="google_ads").repeat_count == 0
    assert upload(marketer, format="google_ads").repeat_count == 2


def test_the_api_start_needs_the_flag_while_spend_repeats(api_as, marketer, campaign, run):
    run(marketer, upload(marketer, format="google_ads"))
    client = api_as(marketer)
    body = client.post(IMPORTS, {"file": SimpleUploadedFile("s.csv", SHEET)}, format="multipart").json()
    assert body["repeat_count"] == 2 and body["repeats"][1]["row"] == 3
    assert body["messages"][0].startswith("Rows 2 and 3 repeat spend already stored")

    refused = client.post(f"{IMPORTS}{body['id']}/start/", {}, format="json")
    assert refused.status_code == 400
    assert "allow_repeated_spend" in refused.json()["non_field_errors"][0]
    started = client.post(f"{IMPORTS}{body['id']}/start/", {"allow_repeated_spend": True}, format="json")
    assert started.status_code == 202, started.json()


def test_the_page_asks_before_importing_repeated_spend(client, marketer, campaign, run):
    run(marketer, upload(marketer, format="google_ads"))
    batch = upload(marketer)
    client.force_login(marketer)
    url = reverse("campaigns:import-detail", args=[batch.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="import-repeats"' in page and 'name="allow_repeated_spend"' in page

    refused = client.post(reverse("campaigns:import-start", args=[batch.pk]), follow=True)
    assert "repeat spend already stored" in refused.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.UPLOADED

    client.post(reverse("campaigns:import-start", args=[batch.pk]), {"allow_repeated_spend": "1"})
    batch.refresh_from_db()
    assert batch.status != ImportStatus.UPLOADED


# --- §7 and the money bound: messages that name the rows and the limit ---------------------------


@pytest.mark.parametrize(
    ("rows", "total", "expected"),
    [
        ([7], None, "Row 7"),
        ([3, 7], None, "Rows 3 and 7"),
        ([3, 7, 12], None, "Rows 3, 7 and 12"),
        (list(range(2, 14)), None, "Rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more"),
        ([2, 3], 1500, "Rows 2, 3 and 1,498 more"),
        ([1234], None, "Row 1234"),
    ],
)
def test_rows_are_named_in_good_english(rows, total, expected):
    assert name_rows(rows, total) == expected


def test_one_bad_row_is_named_on_start_on_the_page_and_in_the_api(client, api_as, marketer, campaign):
    content = b"Date,Campaign,Spend\n2026-01-05,spring-webinars,10\n2026-01-06,spring-webinars,-3\n"
    batch = upload(marketer, content)
    with pytest.raises(ValidationError, match=r"^\['Row 3 has an error: correct the file"):
        import_start(actor=marketer, batch=batch)
    client.force_login(marketer)
    page = client.get(reverse("campaigns:import-detail", args=[batch.pk])).content.decode()
    assert "Row 3 has an error." in page and "1 rows" not in page
    answer = api_as(marketer).post(f"{IMPORTS}{batch.pk}/start/").json()
    assert answer["non_field_errors"][0].startswith("Row 3 has an error: correct the file")
    assert api_as(marketer).get(f"{IMPORTS}{batch.pk}/").json()["messages"] == ["Row 3 has an error."]


def test_amounts_past_the_money_bound_are_refused_naming_the_limit(marketer, campaign):
    content = (
        b"Date,Campaign,Spend,Impressions,Won revenue\n"
        b"2026-01-05,spring-webinars,1e308,1,1\n"
        b"2026-01-06,spring-webinars,1000000000000.00,1,1\n"
        b"2026-01-07,spring-webinars,999999999999.99,1,999999999999.99\n"
        b"2026-01-08,spring-webinars,999999999999.999,1,1\n"
        b"2026-01-09,spring-webinars,1,1000000000000000,1000000000000\n"
        b"2026-01-10,spring-webinars,1,999999999999999,1\n"
    )
    batch = upload(marketer, content)
    assert batch.errors == [
        {"row": 2, "message": f"spend 1e308 is too large: the most it may be is {MONEY_MAX_TEXT}"},
        {"row": 3, "message": f"spend 1000000000000.00 is too large: the most it may be is {MONEY_MAX_TEXT}"},
        {"row": 5, "message": f"spend 999999999999.999 is too large: the most it may be is {MONEY_MAX_TEXT}"},
        {
            "row": 6,
            "message": "impressions 1000000000000000 is too large: the most it may be is 999,999,999,999,999; "
            f"revenue 1000000000000 is too large: the most it may be is {MONEY_MAX_TEXT}",
        },
    ]
    assert MONEY_MAX_TEXT == "999,999,999,999.99"


def test_the_row_reader_and_the_block_reader_bound_money_alike(tmp_path):
    from campaigns.importers import columns
    from campaigns.importers.formats import IMPORTERS

    path = tmp_path / "x.csv"
    values = ["999999999999.99", "1000000000000", "99999999999.5", "$1,000,000,000,000.00", "1e13", "12"]
    path.write_text("Date,Campaign,Spend\n" + "".join(f'2026-01-05,c{i},"{v}"\n' for i, v in enumerate(values)))
    _, table = formats.sniff(path)
    layout = IMPORTERS["generic"].layout(table.header)
    by_rows = {
        item.row: (item.message if isinstance(item, shapes.RowError) else str(item.spend))
        for item in layouts.parse_rows(table, layout)
    }
    blocks = list(columns.parse_blocks(table, layout))
    by_blocks = {e.row: e.message for b in blocks for e in b.errors}
    by_blocks |= {int(r): str(Decimal(s)) for b in blocks for r, s in zip(b.row, b.spend, strict=True)}
    assert by_rows == by_blocks
    assert sorted(r for r, v in by_rows.items() if "too large" in v) == [3, 5, 6]


def test_a_date_is_never_what_decides_a_repeat(marketer, campaign, run):
    """The repeat rule compares campaign, day and amount: a stored day the file does not hold is none."""
    run(marketer, upload(marketer, format="google_ads"))
    later = SHEET.replace(b"2026-01-05", b"2026-01-07").replace(b"2026-01-06", b"2026-01-08")
    assert upload(marketer, later).repeat_count == 0
    assert SpendEntry.objects.filter(date=datetime.date(2026, 1, 7)).count() == 0


@pytest.mark.parametrize("staging", [True, False])
@pytest.mark.parametrize(
    ("content", "why"),
    [
        # Two device rows of one campaign-day, each within the bound, add up past it.
        (
            b"Campaign,Day,Currency code,Cost,Impr.,Clicks,Device\n"
            b"spring-webinars,2026-01-05,USD,600000000000.00,1,1,Mobile\n"
            b"spring-webinars,2026-01-05,USD,600000000000.00,1,1,Desktop\n",
            "added up",
        ),
        # Within the bound in euros, past it in base currency (1.10 dollars a euro).
        (b"Date,Campaign,Spend,Currency\n2026-01-05,spring-webinars,999999999999.00,EUR\n", "converted"),
    ],
)
def test_a_campaign_day_past_the_money_bound_is_not_written(
    marketer, campaign, eur_rate, run, monkeypatch, staging, content, why
):
    from campaigns.imports import writing

    monkeypatch.setattr(writing.Writer, "staging", staging)  # PostgreSQL's SQL path, or the Python one
    batch = upload(marketer, content)
    assert batch.errors == []  # every row is within the bound on its own
    batch = run(marketer, batch)
    assert batch.status == ImportStatus.FAILED
    message = batch.errors[0]["message"]
    assert message.startswith(
        "The money of a campaign-day (its rows added up, and converted to USD) must be at most "
        f"{MONEY_MAX_TEXT}; it is more for spring-webinars on 2026-01-05."
    ), message
    assert not SpendEntry.objects.exists()


def test_the_command_prints_the_columns_and_asks_before_repeating_spend(marketer, campaign, tmp_path):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "sheet.csv"
    path.write_bytes(SHEET)
    out = io.StringIO()
    call_command("import_performance", str(path), "--user", "alice", "--format", "google_ads", stdout=out)
    assert "  columns read: Day → date, Campaign → campaign, Cost → spend" in out.getvalue()
    assert "  columns ignored: Leads, Won revenue" in out.getvalue()

    with pytest.raises(CommandError, match="Rows 2 and 3 repeat spend already stored"):
        call_command("import_performance", str(path), "--user", "alice", stdout=io.StringIO())
    call_command("import_performance", str(path), "--user", "alice", "--allow-repeated-spend", stdout=io.StringIO())
    assert SpendEntry.objects.filter(campaign=campaign).count() == 4
