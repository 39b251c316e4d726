"""The format readers on their own: detection, parsing of numbers, money and dates, each sample's
totals against its README oracle, and the streaming promise."""

import datetime
import tracemalloc
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from campaigns.importers import IMPORTERS, base, parse_file

DATA = Path(__file__).resolve().parents[1] / "data"
D = datetime.date


def rows_of(path, format=None):
    parsed, errors = [], []
    for item in parse_file(path, format):
        (errors if isinstance(item, base.RowError) else parsed).append(item)
    return parsed, errors


def totals(rows):
    sums = defaultdict(Decimal)
    for row in rows:
        sums["spend"] += row.spend or 0
        for measure, value in row.measures.items():
            sums[measure] += value
    return dict(sums)


# --- detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "format", "header_row"),
    [
        ("google_ads_campaign_stats_data.csv", "google_ads", 1),
        ("google_ads_ui_export.csv", "google_ads", 3),
        ("google_ads_ui_export_utf16.tsv", "google_ads", 3),
        ("facebook_ads_basic_ad_data.csv", "meta_ads", 1),
        ("meta_ads_manager_export.csv", "meta_ads", 1),
        ("linkedin_ad_analytics_by_campaign_data.csv", "linkedin_ads", 1),
        ("linkedin_campaign_manager_export.csv", "linkedin_ads", 5),
        ("microsoft_ads_campaign_performance_daily_report_data.csv", "microsoft_ads", 1),
        ("microsoft_ads_report.csv", "microsoft_ads", 9),
        ("generic_spend.csv", "generic", 1),
    ],
)
def test_each_file_is_recognised_after_its_preamble(name, format, header_row):
    assert base.detect_format(DATA / name) == format
    assert base.sniff(DATA / name)[1].header_row == header_row


def test_utf16_tab_separated_is_read_like_the_csv():
    assert rows_of(DATA / "google_ads_ui_export_utf16.tsv") == rows_of(DATA / "google_ads_ui_export.csv")
    table = base.sniff(DATA / "google_ads_ui_export_utf16.tsv")[1]
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")


@pytest.mark.parametrize(
    ("header", "format"),
    [
        (["Campaign", "Day", "Currency code", "Cost", "Impr.", "Clicks", "Conversions", "Conv. value"], "google_ads"),
        (["segments.date", "campaign.id", "metrics.cost_micros", "metrics.clicks"], "google_ads"),
        (["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (USD)", "Impressions"], "meta_ads"),
        (["ad_id", "date", "impressions", "inline_link_clicks", "spend"], "meta_ads"),
        (["Start Date (in UTC)", "Campaign Name", "Total Spent", "Impressions", "Clicks", "Leads"], "linkedin_ads"),
        (["TimePeriod", "CampaignName", "Impressions", "Clicks", "Spend", "CurrencyCode"], "microsoft_ads"),
        (["Date", "Campaign", "Cost", "MQLs", "Won revenue"], "generic"),
        (["DAY", " campaign name ", "Amount"], "generic"),
    ],
)
def test_headers_are_recognised_whatever_their_case_and_punctuation(header, format):
    from campaigns.importers import detection_order

    assert next(m.SOURCE for m in detection_order() if m.detect(header)) == format


def test_unknown_columns_are_named_in_the_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Campaign,Spend\nspring,10\n")
    with pytest.raises(base.UnknownFormat, match=r"row 1 has Campaign, Spend\. It lacks a date column\."):
        base.detect_format(path)


def test_a_google_report_without_the_day_segment_says_what_to_add(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Campaign,Cost,Impr.,Clicks\nBrand,1.00,10,1\n")
    with pytest.raises(base.LayoutError, match="add the Day segment"):
        base.sniff(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
        (bytes(range(256)) * 8, "binary data"),
        (b"PK\x03\x04" + bytes(60), "damaged ZIP"),
        (b"%PDF-1.7\n", "PDF"),
    ],
)
def test_what_is_not_a_spreadsheet_is_named(tmp_path, content, message):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(base.NotASpreadsheet, match=message):
        base.detect_format(path)


# --- the samples against their oracles ----------------------------------------------------------


def test_google_ads_api_totals():
    rows, errors = rows_of(DATA / "google_ads_campaign_stats_data.csv")
    assert errors == [] and len(rows) == 16
    sums = totals(rows)
    assert (sums["spend"], sums["clicks"], sums["impressions"], sums["leads"]) == (Decimal("231.33"), 280, 1854, 0)
    assert {r.ref for r in rows} == {"9935249409"}


def test_meta_ads_api_totals():
    rows, errors = rows_of(DATA / "facebook_ads_basic_ad_data.csv")
    assert errors == [] and totals(rows)["spend"] == Decimal("643.63")
    assert rows[4].spend == Decimal("144")  # written "144." in the file


def test_linkedin_api_totals():
    rows, errors = rows_of(DATA / "linkedin_ad_analytics_by_campaign_data.csv")
    assert errors == [] and totals(rows)["spend"] == Decimal("530.62")
    assert {r.currency for r in rows} == {"USD"}
    assert rows[0].date == D(2020, 4, 6)  # "2020-04-06 00:00:00"


def test_microsoft_api_totals_per_campaign():
    rows, errors = rows_of(DATA / "microsoft_ads_campaign_performance_daily_report_data.csv")
    assert errors == [] and len(rows) == 2630
    by_campaign = defaultdict(list)
    for row in rows:
        by_campaign[row.ref].append(row)
    oracle = {
        "359751135": (4791, 151, 2, Decimal("593.91")),
        "349886458": (2559, 396, 0, Decimal("318.08")),
        "349886462": (219, 45, 0, Decimal("34.35")),
    }
    for ref, expected in oracle.items():
        sums = totals(by_campaign[ref])
        assert (sums["impressions"], sums["clicks"], sums["leads"], sums["spend"]) == expected


def test_google_ui_export_money_and_totals():
    rows, errors = rows_of(DATA / "google_ads_ui_export.csv")
    assert errors == [] and len(rows) == 5  # the two "Total:" rows are not data
    assert totals(rows) == {
        "spend": Decimal("2732.61"),
        "impressions": Decimal("25466"),
        "clicks": Decimal("1375"),
        "leads": Decimal("27"),
        "revenue": Decimal("5556"),
    }


# --- parsing cells --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234.56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("$1,234.56", Decimal("1234.56")),
        ("US$1,000", Decimal("1000")),
        ("€1.234,56", Decimal("1234.56")),
        ("1 234,56", Decimal("1234.56")),
        ("1\u00a0234,56 kr", Decimal("1234.56")),
        ("12,5", Decimal("12.5")),
        ("1,234,567", Decimal("1234567")),
        ("(12.00)", Decimal("-12.00")),
        ("-$5.00", Decimal("-5.00")),
        ("144.", Decimal("144")),
        (" --", None),
        ("", None),
        (None, None),
        (0.1 + 0.2, Decimal("0.30000000000000004")),
        (19.99, Decimal("19.99")),
        (42, Decimal(42)),
    ],
)
def test_numbers_are_read_exactly(value, expected):
    assert base.parse_number(value) == expected


@pytest.mark.parametrize("value", ["twelve", "NaN", "Infinity", "12%", "1-2", "$", True])
def test_what_is_not_a_number_is_refused(value):
    with pytest.raises(ValueError):
        base.parse_number(value)


@pytest.mark.parametrize(
    ("value", "month_first", "expected"),
    [
        ("2026-01-05", None, D(2026, 1, 5)),
        ("2026-01-05 00:00:00", None, D(2026, 1, 5)),
        ("2026-01-05T10:00:00Z", None, D(2026, 1, 5)),
        ("2026/01/05", None, D(2026, 1, 5)),
        ("Jan 5, 2026", None, D(2026, 1, 5)),
        ("January 5, 2026", None, D(2026, 1, 5)),
        ("5 Jan 2026", None, D(2026, 1, 5)),
        ("05.01.2026", None, D(2026, 1, 5)),
        ("13/01/2026", None, D(2026, 1, 13)),
        ("1/13/2026", None, D(2026, 1, 13)),
        ("01/05/2026", True, D(2026, 1, 5)),
        ("01/05/2026", False, D(2026, 5, 1)),
        ("1/5/26", True, D(2026, 1, 5)),
        (datetime.datetime(2026, 1, 5, 13, 0), None, D(2026, 1, 5)),
    ],
)
def test_dates_are_read_in_the_usual_shapes(value, month_first, expected):
    assert base.parse_date(value, month_first=month_first) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "missing"),
        ("01/05/2026", "ambiguous"),
        ("2026-02-30", "not a valid date"),
        ("1999-12-31", "outside 2000–2099"),
        ("someday", "not a date"),
    ],
)
def test_bad_dates_say_why(value, message):
    with pytest.raises(base.DateError, match=message):
        base.parse_date(value, month_first=None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Amount spent (USD)", "amount spent usd"),
        ("CampaignName", "campaign name"),
        ("Impr.", "impr"),
        ("cost_micros", "cost micros"),
        ("\ufeffDate", "date"),
        ("  MQLs ", "mqls"),
        ("Start Date (in UTC)", "start date in utc"),
        ("Conv. value", "conv value"),
    ],
)
def test_headers_are_normalised(header, expected):
    assert base.normalise_header(header) == expected


# --- format rules -----------------------------------------------------------------------------------


def test_meta_results_count_as_leads_only_when_they_are_leads(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text(
        "Reporting starts,Reporting ends,Campaign name,Results,Result indicator,Amount spent (USD)\n"
        "2026-01-05,2026-01-05,A,7,actions:onsite_conversion.lead_grouped,10\n"
        "2026-01-05,2026-01-05,B,90,actions:link_click,10\n"
        "2026-01-01,2026-01-31,C,1,,10\n"
    )
    rows, errors = rows_of(path)
    assert [(r.ref, r.measures["leads"], r.currency) for r in rows] == [("A", 7, "USD"), ("B", 0, "USD")]
    assert errors == [
        base.RowError(4, "the row covers 2026-01-01 to 2026-01-31; export one row per day (breakdown by day)")
    ]


def test_linkedin_local_cost_without_usd_is_refused(tmp_path):
    path = tmp_path / "li.csv"
    path.write_text(
        "campaign_id,day,cost_in_local_currency,cost_in_usd,clicks\n1,2026-01-05,12.00,,3\n2,2026-01-05,,,3\n"
    )
    rows, errors = rows_of(path)
    assert errors == [base.RowError(2, "the row has a cost in local currency but none in USD, and names no currency")]
    assert rows[0].spend == 0


def test_every_problem_of_a_row_is_named_at_once(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Date,Campaign,Spend,Clicks,Currency\nnope,,-1,x,EURO\n")
    _, errors = rows_of(path)
    assert errors == [
        base.RowError(
            2,
            "the campaign is missing; 'nope' is not a date; spend -1 is negative; 'EURO' is not a currency code; "
            "clicks 'x' is not a number",
        )
    ]


def test_every_importer_has_the_same_interface():
    for module in IMPORTERS.values():
        assert callable(module.detect) and callable(module.parse) and callable(module.layout)
        assert module.SOURCE and module.LABEL


def test_parsing_streams_a_large_file_in_constant_memory(tmp_path):
    def write(path, rows):
        with path.open("w") as fh:
            fh.write("Date,Campaign,Spend,Impressions,Clicks\n")
            for i in range(rows):
                fh.write(f"2026-01-{i % 28 + 1:02d},campaign-{i % 300},{i % 1000}.25,{i},{i % 50}\n")

    peaks = []
    for rows in (2_000, 40_000):
        path = tmp_path / f"{rows}.csv"
        write(path, rows)
        tracemalloc.start()
        count = sum(1 for _ in parse_file(path))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == rows
    assert peaks[1] < 2 * 1024 * 1024  # 20× the rows, and still well under 2 MB
    assert peaks[1] < peaks[0] * 2


def test_semicolon_separated_sheets_with_decimal_commas(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("Date;Campaign;Spend;Currency\n2026-01-05;spring-webinars;1.234,50;EUR\n05.01.2026;x;12,5;EUR\n")
    table = base.sniff(path)[1]
    rows, errors = rows_of(path)
    assert table.delimiter == ";" and errors == []
    assert [(r.date, r.spend) for r in rows] == [(D(2026, 1, 5), Decimal("1234.50")), (D(2026, 1, 5), Decimal("12.5"))]
