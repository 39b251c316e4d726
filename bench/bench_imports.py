"""Import figures: a 100,000-row generic CSV and a 100,000-row Google Ads UI export (200 campaigns ×
500 days), each uploaded (checked), then run (checked again and written), then re-imported (all
unchanged). Prints rows/second and memory, and — on PostgreSQL — two floors: ``COPY`` of the same
rows into a bare unlogged table, and ``COPY`` straight into the spend and result tables.

Each figure is the median of ``BENCH_REPEAT`` runs (default 3; the machines are shared), each ratio
the median of the repeats' ratios (a repeat measures its floors right before its imports). The run is
timed as the worker runs it (``import_run``), up to its commit; nothing listens to ``facts_changed``
here (the rollup refresh would run eagerly in this process, inside the timing; it has its own bench).

Runs on a throwaway SQLite database by default, or on BENCH_DATABASE_URL (e.g.
``postgres://postgres@127.0.0.1:5432/mops_bench``, created when missing; its data is flushed).
Prints figures; asserts nothing about time.
"""

import datetime
import io
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_tmp = tempfile.mkdtemp(prefix="mops-bench-")
os.environ.update(
    DEBUG="false", SECRET_KEY="bench-" + "x" * 50, MOPS_VAR_DIR=_tmp, STATIC_ROOT=_tmp, ALLOWED_HOSTS="testserver"
)
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{_tmp}/bench.sqlite3"
os.environ.pop("REDIS_URL", None)  # tasks run eagerly, in this process
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mops.settings")

CAMPAIGNS, DAYS = 200, 500
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
FIRST_DAY = datetime.date(2025, 1, 1)


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE when the bench database does not exist yet."""
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    params = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password,
    }
    conn = psycopg2.connect(dbname="postgres", **{k: v for k, v in params.items() if v})
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


if os.environ["DATABASE_URL"].startswith("postgres"):
    ensure_postgres_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.base import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def setup_data():
    from django.contrib.auth.models import Group, User

    from campaigns.models import Campaign
    from mops.models import FxRate, Membership, Team
    from mops.roles import Role
    from planning.models import Channel

    team = Team.objects.create(name="Bench team", slug="bench-imports")
    user = User.objects.create_user("bench-importer", password="x")
    user.groups.add(Group.objects.get(name=Role.MARKETER))
    Membership.objects.create(team=team, user=user)
    channel, _ = Channel.objects.get_or_create(slug="bench-search", defaults={"name": "Bench search"})
    Campaign.objects.bulk_create(
        [
            Campaign(
                name=f"Bench campaign {i:03}",
                code=f"bench-{i:03}",
                team=team,
                owner=user,
                channel=channel,
                start_date=FIRST_DAY,
                end_date=FIRST_DAY + datetime.timedelta(days=DAYS),
                currency="USD",
            )
            for i in range(CAMPAIGNS)
        ]
    )
    FxRate.objects.create(currency_id="EUR", date=FIRST_DAY - datetime.timedelta(days=1), rate=Decimal("1.08"))
    return user


def write_generic(path: Path) -> None:
    """Long CSV; every tenth campaign's spend is in EUR."""
    with path.open("w") as fh:
        fh.write("Date,Campaign code,Spend,Currency,Impressions,Clicks,Leads\n")
        for i in range(CAMPAIGNS):
            currency = "EUR" if i % 10 == 0 else "USD"
            for d in range(DAYS):
                day = FIRST_DAY + datetime.timedelta(days=d)
                fh.write(f"{day:%Y-%m-%d},bench-{i:03},{(i * 7 + d) % 900 + 12}.{d % 100:02d},{currency},")
                fh.write(f"{(i + 1) * (d + 3)},{(i + d) % 250},{d % 7}\n")


def write_google_ui(path: Path) -> None:
    """Google Ads UI export: preamble, money with "$" and thousands separators, "Total:" rows."""
    with path.open("w") as fh:
        last = FIRST_DAY + datetime.timedelta(days=DAYS - 1)
        fh.write(f'Campaign performance report\n"{FIRST_DAY:%B %-d, %Y} - {last:%B %-d, %Y}"\n')
        fh.write("Campaign,Day,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value\n")
        for i in range(CAMPAIGNS):
            for d in range(DAYS):
                day = FIRST_DAY + datetime.timedelta(days=d)
                cost = (i * 13 + d) % 3000 + 1000
                fh.write(
                    f'Bench campaign {i:03},{day:%Y-%m-%d},USD,"${cost:,}.{d % 100:02d}","{(i + 1) * (d + 3):,}",'
                    f"{(i + d) % 250},{d % 7}.50,$0.00\n"
                )
        fh.write("Total: Account,--,USD,--,--,--,--,--\nTotal: Search,--,USD,--,--,--,--,--\n")


def run_import(user, path: Path):
    """Upload (check) and run one file: (batch, upload seconds, run seconds)."""
    from campaigns.imports.services import import_check, import_run, import_start, import_upload

    with path.open("rb") as fh:
        began = time.perf_counter()
        batch = import_upload(actor=user, file=File(fh), filename=path.name, commit_mode="all")
        if batch.status == "checking":  # a large file is checked by the worker: here, the bench
            batch = import_check(batch_id=batch.pk)
        checked = time.perf_counter()
    import_start(actor=user, batch=batch)  # queued: the run below is the worker's
    began_run = time.perf_counter()
    batch = import_run(batch_id=batch.pk)
    done = time.perf_counter()
    assert batch.status == "done", (batch.status, batch.errors[:3])
    return batch, checked - began, done - began_run


def forget_facts(source: str) -> None:
    """Delete a format's facts in one statement (the ORM would send a signal per row)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_spendentry WHERE source = %s", [source])
        cursor.execute("DELETE FROM campaigns_resultfact WHERE source = %s", [source])


def copy_floor(path: Path) -> float | None:
    """Seconds to COPY the generic CSV into a bare unlogged table (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_copy_floor (date date, campaign text, spend numeric(18, 2), "
            "currency char(3), impressions bigint, clicks bigint, leads integer)"
        )
        with path.open() as fh:
            began = time.perf_counter()
            cursor.cursor.copy_expert("COPY bench_copy_floor FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
            elapsed = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_copy_floor")
    return elapsed


def copy_into_fact_tables(path: Path, user) -> float | None:
    """Seconds to COPY the same rows straight into the spend and result tables — their indexes,
    checks and foreign keys included (checked before the end), then rolled back: what any way of
    writing these rows costs at least."""
    if connection.vendor != "postgresql":
        return None
    from django.db import transaction
    from django.utils import timezone

    from campaigns.models import Campaign

    ids = dict(Campaign.objects.values_list("code", "id"))
    now = timezone.now().isoformat()
    spend, results = io.StringIO(), io.StringIO()
    with path.open() as fh:
        next(fh)
        for line in fh:
            day, code, amount, currency, impressions, clicks, leads = line.rstrip("\n").split(",")
            cid = ids[code]
            spend.write(
                f"{cid}\t{day}\t{amount}\t{currency}\t{amount}\tgeneric\tgeneric\t\t\t\t{user.pk}\t{now}\t{now}\n"
            )
            results.write(
                f"{cid}\t{day}\tgeneric\t{impressions}\t{clicks}\t{leads}\t0\t0\t0\t0\t0\t0\t{user.pk}\t{now}\n"
            )
    spend.seek(0)
    results.seek(0)
    with transaction.atomic(), connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.cursor.copy_expert(
            "COPY campaigns_spendentry (campaign_id, date, amount, currency, amount_base, source, external_key, "
            "reference, note, vendor, created_by_id, created_at, updated_at) FROM STDIN",
            spend,
        )
        cursor.cursor.copy_expert(
            "COPY campaigns_resultfact (campaign_id, date, source, impressions, clicks, leads, mqls, sqls, "
            "opportunities, pipeline, new_customers, revenue, updated_by_id, updated_at) FROM STDIN",
            results,
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign-key checks, as at commit
        elapsed = time.perf_counter() - began
        transaction.set_rollback(True)
    return elapsed


def main():
    from campaigns import hooks
    from mops.celery import app

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # a fresh start: the figures are first imports
    app.conf.task_always_eager = False  # import_start queues the run (in memory); the bench runs it
    hooks.facts_changed.receivers = []  # see the docstring
    from campaigns.models import ResultFact, SpendEntry

    user = setup_data()
    rows = CAMPAIGNS * DAYS
    files = {"generic CSV": Path(_tmp) / "generic.csv", "Google Ads UI export": Path(_tmp) / "google_ads.csv"}
    write_generic(files["generic CSV"])
    write_google_ui(files["Google Ads UI export"])
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {vendor}; {rows:,} rows per file ({CAMPAIGNS} campaigns × {DAYS} days); median of {REPEAT}")
    postgres = connection.vendor == "postgresql"
    # Each repeat measures the floors right before its imports, and the ratios are taken per repeat:
    # on a shared machine the load moves between minutes, not within one repeat.
    floors, samples = [], {label: [] for label in files}
    for _ in range(REPEAT):
        floor = None
        if postgres:
            floor = (copy_floor(files["generic CSV"]), copy_into_fact_tables(files["generic CSV"], user))
            floors.append(floor)
        for label, path in files.items():
            batch, check_s, run_s = run_import(user, path)
            again, again_check_s, again_run_s = run_import(user, path)
            assert again.rows_unchanged == rows, again.rows_unchanged
            forget_facts(batch.format)
            samples[label].append((check_s, run_s, again_check_s, again_run_s, floor))
    median = statistics.median
    if postgres:
        bare, tables = median(f[0] for f in floors), median(f[1] for f in floors)
        print(f"COPY floor: {bare:.2f} s ({rows / bare:,.0f} rows/s) into a bare unlogged table")
        print(
            f"COPY into the real spend + result tables (indexes, checks, foreign keys; rolled back): "
            f"{tables:.2f} s ({rows / tables:,.0f} rows/s)"
        )
    else:
        print("COPY floor: skipped (COPY is PostgreSQL's; run with BENCH_DATABASE_URL for it)")

    for label, path in files.items():
        size_mb = path.stat().st_size / 1024 / 1024
        runs = samples[label]
        check_s, run_s = median(r[0] for r in runs), median(r[1] for r in runs)
        total = median(r[0] + r[1] for r in runs)
        print(
            f"{label} ({size_mb:.1f} MB): upload+check {check_s:.2f} s, run (check + write) {run_s:.2f} s — "
            f"{rows / total:,.0f} rows/s end to end, {rows / run_s:,.0f} rows/s for the run; "
            f"max RSS so far {max_rss_mb():.0f} MB"
        )
        if postgres:
            print(
                f"  vs bare COPY: end to end {median((r[0] + r[1]) / r[4][0] for r in runs):.0f}×, "
                f"run {median(r[1] / r[4][0] for r in runs):.0f}×; "
                f"vs COPY into the fact tables: end to end {median((r[0] + r[1]) / r[4][1] for r in runs):.2f}×, "
                f"run {median(r[1] / r[4][1] for r in runs):.2f}×"
            )
        again = median(r[2] + r[3] for r in runs)
        print(
            f"  re-import: {rows:,} unchanged, nothing written; upload+check {median(r[2] for r in runs):.2f} s, "
            f"run {median(r[3] for r in runs):.2f} s ({rows / again:,.0f} rows/s)"
        )
        tracemalloc.start()
        batch, _, _ = run_import(user, path)
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        print(f"  memory: Python heap peak {peak:.1f} MB over upload + run of the {size_mb:.1f} MB file (tracemalloc)")
        forget_facts(batch.format)
    print(
        f"facts in the database: {SpendEntry.objects.count():,} spend rows, {ResultFact.objects.count():,} result rows"
    )


if __name__ == "__main__":
    main()
