"""The write of an import, and the progress reporter of an all-or-nothing run.

The check hands each block's good rows to ``Writer.stage``, which puts them in a temporary table
of the database (``COPY`` on PostgreSQL; an ``INSERT`` per block elsewhere): the file is read once
per run, and Python never holds more than a block. Once the file is read, ``Writer.run`` writes the
campaign-days in chunks of ``checking.CHUNK`` days or more (about ``STEPS`` chunks a file, each a
step of the progress bar), one of two ways with the same outcome (tests compare them):

- PostgreSQL (``Writer.staging``): one statement adds up each campaign-day's rows, rounds the sums
  and converts money to the base currency — in ``numeric``, exact, rounding half away from zero as
  ``mops.money`` does — into a second temporary table; then one statement per chunk upserts both
  fact tables from it, ``ON CONFLICT DO UPDATE … WHERE`` the stored values differ (unchanged facts
  are not written), and counts the file rows per outcome from what the upserts return (``xmax = 0``:
  inserted). Nothing travels back to Python but the counts.
- Elsewhere (SQLite, the embedded default): per chunk, the rows are read back in campaign-day
  order, added up, rounded and converted in Python (``Decimal``, ``money``), compared with the facts
  stored (one query per table) and the new and changed ones upserted (``Upsert``).

Numbers are staged as the decimal text of the file (``numeric`` columns on PostgreSQL, text
elsewhere): nothing passes through a float.
"""

import datetime
import io
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns import hooks
from campaigns.importers import layouts, shapes
from campaigns.imports import checking
from campaigns.imports.checking import ONE, Check, GoodRows
from campaigns.imports.upserts import Upsert, UpsertFromDays
from campaigns.models import RESULT_MEASURES, Campaign, ImportBatch, ResultFact, SpendEntry
from mops.money import MONEY_MAX, MONEY_MAX_TEXT, money

logger = logging.getLogger(__name__)

STEPS = 20  # chunks a large file is written in (more statements cost more; fewer, a jerkier bar)


@dataclass
class Day:
    """The sum of one campaign-day's rows."""

    campaign_id: int
    date: datetime.date
    currency: str
    rows: int = 0
    spend: Decimal | None = None
    measures: dict = field(default_factory=dict)


class Writer:
    """Stages the good rows as they are checked (``stage``), then writes the campaign-days (``run``)
    and counts outcomes per file row; ``close`` drops the temporary tables."""

    # The set-based path on PostgreSQL (tests switch it off to compare both paths).
    staging = True

    def __init__(self, batch: ImportBatch, layout: layouts.Layout, *, restarted: bool):
        self.batch = batch
        self.source = batch.format
        self.has_spend = layout.spend is not None
        self.measures = list(layout.measures)
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}
        self.changed_campaigns: set[int] = set()
        self.changed_range: list[datetime.date] = []
        self.all_campaigns: set[int] = set()
        self.all_range: list[datetime.date] = []
        self.restarted = restarted
        self.staged = 0  # rows in the staging table
        self.rows_done = 0
        self.note = f"Imported from {batch.filename}"[:500]
        self.reference = f"import-{batch.pk}"
        self.postgres = connection.vendor == "postgresql"
        self.set_based = self.staging and self.postgres
        quote = connection.ops.quote_name
        self.rows_table = quote(f"mops_import_rows_{batch.pk}")
        self.days_table = quote(f"mops_import_days_{batch.pk}")
        self.created = False
        # Measures the file does not have: 0 in a new row, left alone in an existing one.
        absent = [m for m in RESULT_MEASURES if m not in self.measures]
        self.absent_measures = [0] * len(absent)
        # One spend row per campaign, day and source (``external_key`` = the format): the facts' key.
        self.spend_upsert = Upsert(
            SpendEntry,
            [
                "campaign",
                "date",
                "amount",
                "currency",
                "amount_base",
                "source",
                "external_key",
                "reference",
                "note",
                "vendor",
                "created_by",
                "created_at",
                "updated_at",
            ],
            conflict=["campaign", "date", "source", "external_key"],
            update=["amount", "currency", "amount_base", "reference", "note", "updated_at"],
        )
        self.results_upsert = Upsert(
            ResultFact,
            ["campaign", "date", "source", *self.measures, *absent, "updated_by", "updated_at"],
            conflict=["campaign", "date", "source"],
            update=[*self.measures, "updated_by", "updated_at"],
        )

    # --- staging ---------------------------------------------------------------------------------

    def stage(self, good: GoodRows) -> None:
        """Add a block's good rows to the staging table."""
        if not self.created:
            self._create_rows_table()
        numbers = range(self.staged + 1, self.staged + len(good) + 1)  # the order of staging
        self.staged += len(good)
        self.all_campaigns.update(np.unique(good.campaign).tolist())
        first, last = (datetime.date.fromordinal(int(d)) for d in (good.day.min(), good.day.max()))
        self.all_range = widen(widen(self.all_range, first), last)
        codes, ordinals = pd.factorize(good.day)
        dates = np.array([datetime.date.fromordinal(int(o)).isoformat() for o in ordinals], dtype=object)[codes]
        columns = [
            numbers,
            good.campaign.tolist(),
            dates,
            good.currency,
            good.rate,
            good.spend,
            *(good.measures[m] for m in self.measures),
        ]
        with connection.cursor() as cursor:
            if self.postgres:
                # COPY's text format: tab-separated, \N for NULL. Every value is a number, a date or a
                # currency code the check has read: nothing to escape.
                columns[0], columns[1] = map(str, columns[0]), map(str, columns[1])
                columns[4:6] = [np.where(pd.isna(c), "\\N", c) for c in columns[4:6]]
                text = "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"
                cursor.cursor.copy_expert(f"COPY {self.rows_table} FROM STDIN", io.StringIO(text))
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {self.rows_table} VALUES ({placeholders})",
                    list(zip(*(c.tolist() if isinstance(c, np.ndarray) else c for c in columns), strict=True)),
                )

    def _create_rows_table(self) -> None:
        quote = connection.ops.quote_name
        number = "numeric" if self.postgres else "text"  # SQLite keeps text as it is: exact
        columns = [
            ("n", "bigint"),
            ("campaign_id", "bigint"),
            ("date", "date" if self.postgres else "text"),
            ("currency", "varchar(3)"),
            ("rate", number),
            ("spend", number),
            *((m, number) for m in self.measures),
        ]
        definition = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
        with connection.cursor() as cursor:
            if self.postgres:
                # One round trip; a run that failed earlier in this session may have left the tables.
                statements = [
                    f"DROP TABLE IF EXISTS {self.rows_table}, {self.days_table}",
                    f"CREATE TEMPORARY TABLE {self.rows_table} ({definition})",
                ]
                if not self.set_based:  # the Python path reads the rows a chunk of days at a time
                    statements.append(f"CREATE INDEX ON {self.rows_table} (campaign_id, date)")
                cursor.execute("; ".join(statements))
            else:
                # Kept in (campaign, date) order: what the Python path reads a chunk of days of.
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {self.rows_table} ({definition}, "
                    "PRIMARY KEY (campaign_id, date, n)) WITHOUT ROWID"
                )
        self.created = True

    # --- writing -----------------------------------------------------------------------------------

    def run(self, check: Check, report) -> None:
        """Write the staged campaign-days; ``report(rows_done)`` after each chunk when given, else each
        chunk commits on its own with its progress. ``rows_done`` counts the file rows settled: the
        rejected ones, then the rows of each campaign-day as it is written."""
        self.rows_done = check.rows_total - self.staged
        if not self.staged:
            return
        size = max(checking.CHUNK, math.ceil(check.days / STEPS))
        write = self._chunks_sql(check, size) if self.set_based else self._chunks_python(check, size)
        for written in write:
            if report is None:
                with transaction.atomic():
                    self.rows_done += written()
                    ImportBatch.objects.filter(pk=self.batch.pk).update(rows_done=self.rows_done)
            else:
                self.rows_done += written()
                report(self.rows_done)

    def close(self) -> None:
        """Drop the temporary tables (a lost session drops them anyway)."""
        if not self.created:
            return
        try:
            with connection.cursor() as cursor:
                tables = f"{self.rows_table}, {self.days_table}" if self.postgres else self.rows_table
                cursor.execute(f"DROP TABLE IF EXISTS {tables}")
        except Exception:  # the connection broke: its session, and its temporary tables, are gone
            logger.warning("Import %s: staging tables not dropped.", self.batch.pk, exc_info=True)

    def _chunks_sql(self, check: Check, size: int):
        """The set-based path, a chunk being a range of numbered campaign-days: when no campaign-day
        has two rows (every generic sheet; exports without segments), the staged rows are the
        days, numbered as staged; else one statement adds up each day's rows into a second table,
        numbering the days in (campaign, date) order. Yields a function per chunk that upserts it
        (``UpsertFromDays``) and returns its file rows."""
        quote = connection.ops.quote_name
        if check.days == self.staged:
            days = self.rows_table
            statements = [f"CREATE INDEX ON {days} (n)"]
        else:
            days = self.days_table
            sums = "".join(f", sum({quote(m)}) AS {quote(m)}" for m in self.measures)
            statements = [
                f"CREATE TEMPORARY TABLE {days} AS SELECT row_number() OVER (ORDER BY campaign_id, date) AS n, "
                "campaign_id, date, count(*)::integer AS file_rows, min(currency) AS currency, min(rate) AS rate, "
                f"sum(spend) AS spend{sums} FROM {self.rows_table} GROUP BY campaign_id, date",
                f"CREATE INDEX ON {days} (n)",
            ]
        with connection.cursor() as cursor:
            cursor.execute("; ".join(statements))
            # A campaign-day's rows add up (segments), and money is converted: each sum, in its currency
            # and in base currency, must stay within the money bound, or nothing is written.
            money_columns = [c for c in ("spend", *self.measures) if c == "spend" or c in shapes.MONEY_MEASURES]
            if money_columns:
                past = " OR ".join(
                    f"round({quote(c)}, 2) > %(max)s OR round(round({quote(c)}, 2) * rate, 2) > %(max)s"
                    for c in money_columns
                )
                cursor.execute(
                    f"SELECT campaign_id, date FROM {days} WHERE {past} ORDER BY campaign_id, date LIMIT 6",
                    {"max": MONEY_MAX},
                )
                over = cursor.fetchall()
                if over:
                    raise past_money_bound(over)
        statement = UpsertFromDays(self, days, one_row_each=days == self.rows_table).statement
        params = {
            "source": self.source,
            "reference": self.reference,
            "note": self.note,
            "actor": self.batch.uploaded_by_id,
            "now": timezone.now(),
        }

        def chunk(first: int, last: int):
            def write() -> int:
                with connection.cursor() as cursor:
                    cursor.execute(statement, {**params, "first": first, "last": last})
                    created, updated, unchanged, changed, low, high = cursor.fetchone()
                self.counts["created"] += created
                self.counts["updated"] += updated
                self.counts["unchanged"] += unchanged
                if changed:
                    self.changed_campaigns.update(changed)
                    self.changed_range = widen(widen(self.changed_range, low), high)
                return created + updated + unchanged

            return write

        for first in range(1, check.days + 1, size):
            yield chunk(first, min(first + size - 1, check.days))

    def _chunks_python(self, check: Check, size: int):
        """The Python path: the rows of the next ``size`` campaign-days (after the last one written),
        added up into ``Day``s, compared and upserted by ``_write``."""
        quote = connection.ops.quote_name
        rows, names = self.rows_table, self.measures
        head = "".join(f", r.{quote(m)}" for m in names)
        select = (
            f"SELECT r.campaign_id, r.date, r.currency, r.spend{head} FROM {rows} r "
            f"WHERE (r.campaign_id, r.date) IN (SELECT campaign_id, date FROM {rows} %s"
            "GROUP BY campaign_id, date ORDER BY campaign_id, date LIMIT %%s) ORDER BY r.campaign_id, r.date"
        )
        first_chunk, next_chunk = select % "", select % "WHERE (campaign_id, date) > (%s, %s) "
        after = None  # the last campaign-day written: (campaign id, date as the database gives it)

        def write() -> int:
            nonlocal after
            with connection.cursor() as cursor:
                if after is None:
                    cursor.execute(first_chunk, [size])
                else:
                    cursor.execute(next_chunk, [*after, size])
                fetched = cursor.fetchall()
            if not fetched:
                return 0
            after = fetched[-1][:2]
            campaign_ids, dates, currencies, spends, *values = zip(*fetched, strict=True)
            spends = [None if v is None else Decimal(v) for v in spends]
            values = [list(map(Decimal, column)) for column in values]
            days: list[Day] = []
            day = key = None
            for i, (campaign_id, date) in enumerate(zip(campaign_ids, dates, strict=True)):
                if key != (campaign_id, date):
                    key = (campaign_id, date)
                    if not isinstance(date, datetime.date):
                        date = datetime.date.fromisoformat(date)
                    day = Day(campaign_id, date, currencies[i], spend=spends[i], rows=1)
                    day.measures = {m: column[i] for m, column in zip(names, values, strict=True)}
                    days.append(day)
                    continue
                day.rows += 1
                if spends[i] is not None:
                    day.spend = spends[i] if day.spend is None else day.spend + spends[i]
                for measure, column in zip(names, values, strict=True):
                    day.measures[measure] += column[i]
            self._write(days, check)
            return len(fetched)

        for _ in range(0, check.days, size):
            yield write

    def _write(self, days: list[Day], check: Check) -> None:
        """Compare a chunk's campaign-days with the stored facts and upsert the new and changed ones."""
        # Each campaign's date range in the chunk: a few index range scans, not thousands of
        # parameters; rows of other days in a range are loaded and never looked at.
        spans: dict[int, list] = {}
        for day in days:
            spans[day.campaign_id] = widen(spans.get(day.campaign_id, []), day.date)
        where = reduce(or_, (Q(campaign_id=c, date__range=span) for c, span in spans.items()))
        old_spend, old_results = {}, {}
        if self.has_spend:
            old_spend = {
                (c, d): (amount, currency, amount_base)
                for c, d, amount, currency, amount_base in SpendEntry.objects.filter(
                    where, source=self.source, external_key=self.source
                ).values_list("campaign_id", "date", "amount", "currency", "amount_base")
            }
        if self.measures:
            old_results = {
                (row[0], row[1]): row[2:]
                for row in ResultFact.objects.filter(where, source=self.source).values_list(
                    "campaign_id", "date", *self.measures
                )
            }
        rates = check.money
        actor_id = self.batch.uploaded_by_id
        # Dates, amounts and the timestamp go to the database as text: an INSERT casts text literals to
        # its columns' types (and SQLite's adapters send these types as text anyway), and psycopg2
        # quotes text three times faster than it adapts Decimal and datetime.
        now = str(connection.ops.adapt_datetimefield_value(timezone.now()))
        spend_rows, result_rows = [], []
        over = [
            (day.campaign_id, day.date)
            for day in days
            if _past_bound(day, rates.rate(day.currency, day.date) if day.currency else ONE)
        ]
        if over:
            raise past_money_bound(over[:6])
        for day in days:
            key = (day.campaign_id, day.date)
            rate = rates.rate(day.currency, day.date) if day.currency else ONE
            outcome = "unchanged"
            if day.spend is not None:
                amount = money(day.spend)
                new = (amount, day.currency, money(amount * rate))
                old = old_spend.get(key)
                if old != new:
                    outcome = "created" if old is None else "updated"
                    spend_rows.append(  # in the order of spend_upsert's columns
                        (
                            key[0],
                            key[1].isoformat(),
                            str(new[0]),
                            new[1],
                            str(new[2]),
                            self.source,
                            self.source,
                            self.reference,
                            self.note,
                            "",
                            actor_id,
                            now,
                            now,
                        )
                    )
            if self.measures:
                new = tuple(self._measure(m, day.measures.get(m, 0), rate) for m in self.measures)
                old = old_results.get(key)
                if old != new:
                    if old is None:
                        outcome = "created"
                    elif outcome == "unchanged":
                        outcome = "updated"
                    values = [str(v) if isinstance(v, Decimal) else v for v in new]
                    result_rows.append(
                        (key[0], key[1].isoformat(), self.source, *values, *self.absent_measures, actor_id, now)
                    )
            self.counts[outcome] += day.rows
            if outcome != "unchanged":
                self.changed_campaigns.add(day.campaign_id)
                self.changed_range = widen(self.changed_range, day.date)
        if spend_rows:
            self.spend_upsert.execute(spend_rows)
        if result_rows:
            self.results_upsert.execute(result_rows)

    @staticmethod
    def _measure(measure: str, total, rate: Decimal):
        if measure in shapes.MONEY_MEASURES:
            return money(money(total) * rate)
        return int(Decimal(total).to_integral_value(rounding=ROUND_HALF_UP))

    def announce(self) -> None:
        """Tell the apps above (rollups) which campaigns and dates changed — in the transaction that
        ends the run, not after its commit: the rollups' dirty marks commit with the batch's status,
        so a worker killed right after that commit cannot leave facts no rollup knows of."""
        if self.restarted:
            campaigns, span = self.all_campaigns, self.all_range
        else:
            campaigns, span = self.changed_campaigns, self.changed_range
        if campaigns:
            hooks.facts_changed.send(sender=None, campaign_ids=set(campaigns), start=span[0], end=span[1])


def _past_bound(day: Day, rate: Decimal | None) -> bool:
    """Whether a campaign-day's money (its rows added up), in its currency or in base currency, is
    past the money bound."""
    amounts = [day.spend] if day.spend is not None else []
    amounts += [v for m, v in day.measures.items() if m in shapes.MONEY_MEASURES]
    rate = rate or ONE
    return any(money(a) > MONEY_MAX or money(money(a) * rate) > MONEY_MAX for a in amounts)


def past_money_bound(days: list[tuple]) -> shapes.LimitError:
    """The error for campaign-days whose money, added up or converted, is past the bound."""

    codes = dict(Campaign.objects.filter(pk__in={c for c, _ in days}).values_list("pk", "code"))
    named = [f"{codes.get(c, c)} on {d if isinstance(d, str) else d.isoformat()}" for c, d in days[:5]]
    more = " and more" if len(days) > 5 else ""
    return shapes.LimitError(
        f"The money of a campaign-day (its rows added up, and converted to {settings.BASE_CURRENCY}) must "
        f"be at most {MONEY_MAX_TEXT}; it is more for {', '.join(named)}{more}. Nothing of these days was "
        "written: correct the file and start the import again."
    )


def widen(span: list, day: datetime.date) -> list:
    if not span:
        return [day, day]
    if day < span[0]:
        span[0] = day
    elif day > span[1]:
        span[1] = day
    return span


@contextmanager
def progress_reporter(batch: ImportBatch):
    """``report(rows_done)`` for a run inside one long transaction: on PostgreSQL over a second,
    autocommitting connection so that others see the progress; elsewhere a no-op (the count is
    written at the end). Never used inside a caller's transaction, whose locks it could wait on."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield lambda rows_done: None
        return
    side = connections.create_connection("default")
    table = ImportBatch._meta.db_table

    def report(rows_done: int) -> None:
        try:
            with side.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
                cursor.execute(f'UPDATE "{table}" SET rows_done = %s WHERE id = %s', [rows_done, batch.pk])
        except Exception:  # progress is a courtesy; the import goes on without it
            logger.warning("Import %s: progress not recorded.", batch.pk, exc_info=True)

    try:
        yield report
    finally:
        side.close()
