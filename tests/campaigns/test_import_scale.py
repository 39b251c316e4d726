"""Imports at scale: queries bounded by chunks, not rows; the staging-table path against the Python
path; the rules between rows across blocks; the key tables."""

import contextlib
import datetime
import math
import random
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from campaigns import hooks
from campaigns.imports.services import import_run
from campaigns.models import ImportBatch, ImportStatus, ResultFact, SpendEntry
from planning import services as planning_services
from planning.models import Period
from tests import needs
from tests.campaigns.conftest import counts, upload
from tests.factories import CampaignFactory, FxRateFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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
