"""The format readers on their own: detection, parsing of numbers, money and dates, each sample's
totals against its README oracle, the streaming promise, and the column-wise reader
(``columns.parse_blocks``) against the row-by-row reference on samples, hostile and random files."""

import datetime
import io
import random
import tracemalloc
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from campaigns.importers import columns, formats, layouts, parsing, shapes
from campaigns.importers.formats import IMPORTERS, parse_file

DATA = Path(__file__).resolve().parents[1] / "data"
D = datetime.date


def rows_of(path, format=None):
    parsed, errors = [], []
    for item in parse_file(path, format):
        (errors if isinstance(item, shapes.RowError) else parsed).append(item)
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
    assert formats.detect_format(DATA / name) == format
    assert formats.sniff(DATA / name)[1].header_row == header_row


def test_utf16_tab_separated_is_read_like_the_csv():
    assert rows_of(DATA / "google_ads_ui_export_utf16.tsv") == rows_of(DATA / "google_ads_ui_export.csv")
    table = formats.sniff(DATA / "google_ads_ui_export_utf16.tsv")[1]
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
    from campaigns.importers.formats import detection_order

    assert next(m.SOURCE for m in detection_order() if m.detect(header)) == format


def test_unknown_columns_are_named_in_the_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Campaign,Spend\nspring,10\n")
    with pytest.raises(shapes.UnknownFormat, match=r"row 1 has Campaign, Spend\. It lacks a date column\."):
        formats.detect_format(path)


def test_a_google_report_without_the_day_segment_says_what_to_add(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Campaign,Cost,Impr.,Clicks\nBrand,1.00,10,1\n")
    with pytest.raises(shapes.LayoutError, match="add the Day segment"):
        formats.sniff(path)


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
    with pytest.raises(shapes.NotASpreadsheet, match=message):
        formats.detect_format(path)


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
    assert parsing.parse_number(value) == expected


@pytest.mark.parametrize("value", ["twelve", "NaN", "Infinity", "12%", "1-2", "$", True])
def test_what_is_not_a_number_is_refused(value):
    with pytest.raises(ValueError):
        parsing.parse_number(value)


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
    assert parsing.parse_date(value, month_first=month_first) == expected


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
    with pytest.raises(parsing.DateError, match=message):
        parsing.parse_date(value, month_first=None)


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
    assert parsing.normalise_header(header) == expected


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
        shapes.RowError(4, "the row covers 2026-01-01 to 2026-01-31; export one row per day (breakdown by day)")
    ]


def test_linkedin_local_cost_without_usd_is_refused(tmp_path):
    path = tmp_path / "li.csv"
    path.write_text(
        "campaign_id,day,cost_in_local_currency,cost_in_usd,clicks\n1,2026-01-05,12.00,,3\n2,2026-01-05,,,3\n"
    )
    rows, errors = rows_of(path)
    assert errors == [shapes.RowError(2, "the row has a cost in local currency but none in USD, and names no currency")]
    assert rows[0].spend == 0


def test_every_problem_of_a_row_is_named_at_once(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Date,Campaign,Spend,Clicks,Currency\nnope,,-1,x,EURO\n")
    _, errors = rows_of(path)
    assert errors == [
        shapes.RowError(
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
    table = formats.sniff(path)[1]
    rows, errors = rows_of(path)
    assert table.delimiter == ";" and errors == []
    assert [(r.date, r.spend) for r in rows] == [(D(2026, 1, 5), Decimal("1234.50")), (D(2026, 1, 5), Decimal("12.5"))]


# --- the column-wise reader against the reference ---------------------------------------------------


def _by_rows(table, layout):
    """What ``parse_rows`` reads: comparable tuples, in row order."""
    out = []
    for item in layouts.parse_rows(table, layout):
        if isinstance(item, shapes.RowError):
            out.append(("error", item.row, item.message))
        else:
            measures = tuple(sorted(item.measures.items()))
            fields = (item.ref, item.date, item.spend, item.currency, measures, item.breakdown, item.channel)
            out.append(("row", item.row, *fields))
    return out


def _by_blocks(table, layout, size):
    """What ``parse_blocks`` reads, as ``_by_rows`` shows it (numbers back to Decimal)."""
    parser = columns.BlockParser(table, layout)
    items = []
    for first, rows, broken in table.blocks(size):
        block = parser(first, rows)
        if broken is not None:
            block.errors.append(shapes.RowError(broken.row, broken.message))
        items += [(e.row, ("error", e.row, e.message)) for e in block.errors]
        segments = {number: values for values, number in parser.segments.items()}
        for i, row in enumerate(block.row.tolist()):
            spend = block.spend[i]
            measures = tuple(sorted((m, Decimal(v[i])) for m, v in block.measures.items()))
            fields = (
                block.ref[i],
                datetime.date.fromordinal(int(block.day[i])),
                None if spend is None else Decimal(spend),
                block.currency[i],
                measures,
                segments[int(block.segment[i])],
                "" if block.channel is None else block.channel[i],
            )
            items.append((row, ("row", row, *fields)))
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def _assert_blocks_read_as_rows(path, format=None):
    format, table = formats.sniff(path, format=format)
    layout = IMPORTERS[format].layout(table.header)
    expected = _by_rows(table, layout)
    for size in (1, 3, columns.BLOCK_ROWS):
        assert _by_blocks(table, layout, size) == expected, size
    return expected


def _importable_samples():
    samples = []
    for path in sorted(DATA.iterdir()):
        try:
            formats.sniff(path)
        except (shapes.ImportFileError, OSError):
            continue
        samples.append(path)
    return samples


@pytest.mark.parametrize("path", _importable_samples(), ids=lambda path: path.name)
def test_blocks_read_each_sample_as_the_rows_do(path):
    _assert_blocks_read_as_rows(path)


HOSTILE = (
    "Report\n"
    "Campaign,Day,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value,Device\n"
    'A,2026-01-05,USD,$1,234.50,"1,000",10,9.50,$0.00,Mobile\n'
    'A,2026-01-05,USD,"$1,234.50","1,000",10,9.50,$0.00,Mobile\n'
    ",,,,,,,,\n"
    "\n"
    "Total: Account,--,USD,--,--,--,--,--\n"
    "Total: 2026-01-05,2026-01-06,USD,1,1,1,1,1\n"
    "Copyright 2026,,,,,,,\n"
    "©2026 Microsoft Corporation,2026-01-05,USD,1,1,1,1,1\n"
    "Grand total,2026-01-05,USD,1,1,1,1,1\n"
    "total,--,USD,1,1,1,1,1\n"
    "Gamma,Jan 5, 2026,USD,12,3,4,5,6\n"
    'Gamma,"Jan 5, 2026",usd,-12,3,4,5,6\n'
    "Tango,05.01.2026,EURO,1.234,50,3,x,5\n"
    'Tango,2026-01-07,EUR,"1.234,50",3,2147483647,4294967296,1e3\n'
    "Tango,2026-01-08,EUR, 12 ,0012,12.,.5,١٢\n"
    "Tango,2026-01-09,EUR,1234567890123456,99999999999999999999,1,1,1\n"
    "Tango,2026-01-10,EUR,0,123,1,12,345,1,1\n"
    "Tango,2026-01-11\n"
    'Tango,2026-01-12,EUR,123456789012345678901234567890123.5,1,1,1,NaN,"multi\nline"\n'
    "Tango,2026-01-13,EUR,1,1,1,1,Infinity,Desktop,extra,cells\n"
    "  Tango  ,2026-02-30,EUR,1,1,1,1,1,Desktop\n"
    "Tango,2026-01-14,EUR,(12.00),1,1,1,1\n"
    'Tango,2026-01-15,EUR,"unterminated\n'
)


def test_blocks_read_a_hostile_file_as_the_rows_do(tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_text(HOSTILE)
    read = _assert_blocks_read_as_rows(path, "google_ads")
    assert {kind for kind, *_ in read} == {"row", "error"}


def test_blocks_read_bytes_that_are_not_text_as_the_rows_do(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Date,Campaign,Spend\n2026-01-05,caf\u00e9,1\n2026-01-06,ok,2\n".encode("latin-1"))
    read = _assert_blocks_read_as_rows(path)
    assert [kind for kind, *_ in read] == ["error", "row"]


def test_blocks_read_a_workbook_of_mixed_cells_as_the_rows_do(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Date", "Campaign", "Spend", "Currency", "Impressions", "Clicks", "Won revenue"])
    cells = [
        [datetime.datetime(2026, 1, 5), "a", 0.1 + 0.2, "USD", 1000, 1.0, True],
        ["2026-01-06", "a", 1234.565, "usd", 1.0, 1, 0],
        [datetime.datetime(2026, 1, 7, 13), 42, 19.99, None, None, "7", "1,234.50"],
        [45000, "a", -1, "EUR", 1, 1, 1],
        [None, None, None, None, None, None, None],
        ["Total", None, 1, None, None, None, None],
        [datetime.datetime(2026, 1, 8), "a", "$1,000", "EUR", 2**31, 2**40, 1e16],
        [datetime.datetime(2026, 1, 9), "a", float("nan"), "EUR", 1, 1, 1],
    ]
    for row in cells:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / "mixed.xlsx"
    path.write_bytes(buffer.getvalue())
    _assert_blocks_read_as_rows(path)


@pytest.mark.parametrize("seed", range(6))
def test_blocks_read_random_files_as_the_rows_do(seed, tmp_path):
    """Cells drawn from the shapes real files hold, good and bad, in every column."""
    rnd = random.Random(seed)
    dates = [
        "2026-01-05",
        "2026-1-5",
        "01/05/2026",
        "13/01/2026",
        "Jan 5, 2026",
        "5 Jan 2026",
        "",
        "nope",
        "1999-12-31",
    ]
    numbers = ["12", "12.50", "$1,234.50", "1,234", "0,5", "1.234,50", "", "--", "-3", "(4)", "1e3", "x", " 7 ", "12."]
    numbers += [str(rnd.randint(0, 10**12)), f"{rnd.randint(0, 10**9):,}", "9" * 12, "9" * 16, "1" * 40]
    refs = ["alpha", "Beta", " gamma ", "", "Total: all", "©", "campaign 7"]
    currencies = ["USD", "eur", "", "EURO", "GB"]
    channels = ["", "Paid search", "paid-search", "Social"]
    lines = ["Date,Campaign,Channel,Spend,Currency,Impressions,Clicks,MQLs,Pipeline"]
    for _ in range(300):
        cells = [
            rnd.choice(dates),
            rnd.choice(refs),
            rnd.choice(channels),
            rnd.choice(numbers),
            rnd.choice(currencies),
            *(rnd.choice(numbers) for _ in range(4)),
        ]
        cells = cells[: rnd.choice([9, 9, 9, 9, 4, 2])] + ([""] * rnd.choice([0, 0, 0, 2]))
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    path = tmp_path / "random.csv"
    path.write_text("\n".join(lines) + "\n")
    _assert_blocks_read_as_rows(path, "generic")


@pytest.mark.parametrize("digits", [9, 15])
def test_usual_numbers_are_exactly_what_the_number_reader_makes_of_them(digits):
    rnd = random.Random(digits)
    alphabet = "0123456789.,$ -a"
    values = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14))) for _ in range(4000)]
    values += [f"${rnd.randint(0, 10**9):,}.{rnd.randint(0, 99):02d}" for _ in range(500)]
    values += [str(rnd.randint(0, 10**17)) for _ in range(500)] + [f"{rnd.randint(0, 10**17):,}" for _ in range(500)]
    values += ["1" * 31, "1" * 32, "1." + "2" * 40, "٣", ""]
    reader = columns._NumberReader("spend", None, 10**9 if digits == 9 else None, empty=None)
    usual, text = columns._usual_numbers(np.array(values, dtype=object), reader.digits)
    for value, is_usual, number in zip(values, usual.tolist(), text.tolist(), strict=True):
        if is_usual:
            assert number == reader(value) and Decimal(number) == parsing.parse_number(value), value


def test_meta_results_rule_reads_the_same_by_blocks(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text(
        "Reporting starts,Reporting ends,Campaign name,Results,Result indicator,Amount spent (USD)\n"
        "2026-01-05,2026-01-05,A,7,actions:onsite_conversion.lead_grouped,10\n"
        "2026-01-05,2026-01-05,B,90,actions:link_click,10\n"
        "2026-01-06,2026-01-06,B,3,,10\n"
        "2026-01-01,2026-01-31,C,1,,10\n"
    )
    read = _assert_blocks_read_as_rows(path)
    assert [(r[2], r[6][0][1]) for r in read if r[0] == "row"] == [("A", 7), ("B", 0), ("B", 3)]


def test_linkedin_local_cost_rule_reads_the_same_by_blocks(tmp_path):
    path = tmp_path / "li.csv"
    path.write_text(
        "campaign_id,day,cost_in_local_currency,cost_in_usd,clicks\n"
        "1,2026-01-05,12.00,,3\n2,2026-01-05,,,3\n3,2026-01-05,abc,,3\n4,2026-01-05,5,6.5,3\n5,2026-01-05,0,,1\n"
    )
    read = _assert_blocks_read_as_rows(path)
    assert [r[0] for r in read] == ["error", "row", "error", "row", "row"]
