"""Rollup figures: a full rebuild against the floor (one hand-written ``INSERT … SELECT … GROUP BY``
of the same facts by campaign and day, in the same run), the incremental refresh after one new spend
entry (task time), the refresh through a real worker on Redis (change → visible), and dashboard
reads from the rollups.

On PostgreSQL (BENCH_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/mops_bench_rollups):
10,000 campaigns × 100 days with a spend entry and a result fact each (2,000,000 fact rows). On the
default SQLite: 500 campaigns × 100 days. The database's data is replaced. Prints figures only.
"""

import datetime
import io
import os
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal

from benchkit import ROOT, percentile, setup, timed

WRITER = sys.argv[1:] == ["--writer"]  # the worker-latency writer, run as its own process
setup(eager=not WRITER)

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.models import Campaign, Program, ResultFact, SpendEntry  # noqa: E402
from metrics.rollups import selectors, services  # noqa: E402
from metrics.rollups.models import Cell, RefreshKind, RefreshRun, Rollup  # noqa: E402
from mops.models import Team  # noqa: E402
from planning.models import Channel, ChannelGroup  # noqa: E402

POSTGRES = connection.vendor == "postgresql"
CAMPAIGNS = 10_000 if POSTGRES else 500
DAYS = 100
FIRST_DAY = datetime.date(2026, 1, 1)


def build():
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    rng = random.Random(6)
    owner = get_user_model().objects.create(username="bench-owner")
    teams = Team.objects.bulk_create([Team(name=f"Team {i}", slug=f"team-{i}") for i in range(20)])
    groups = [g for g, _ in ChannelGroup.choices]
    channels = Channel.objects.bulk_create(
        [Channel(name=f"Channel {i}", slug=f"ch-{i}", group=groups[i % len(groups)]) for i in range(20)]
    )
    programs = Program.objects.bulk_create([Program(name=f"Program {i}", code=f"pg-{i}") for i in range(50)])
    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                name=f"Campaign {i}",
                code=f"bench-{i}",
                team=teams[i % 20],
                owner=owner,
                channel=channels[rng.randrange(20)],
                program=programs[rng.randrange(50)],
                start_date=FIRST_DAY,
                end_date=FIRST_DAY + datetime.timedelta(days=DAYS - 1),
                planned_cost=Decimal(rng.randrange(1_000, 100_000)),
                currency="USD",
                planned_cost_base=Decimal(rng.randrange(1_000, 100_000)),
            )
            for i in range(CAMPAIGNS)
        ],
        batch_size=2000,
    )
    now = timezone.now().isoformat()
    spend, results = io.StringIO(), io.StringIO()
    for campaign in campaigns:
        for offset in range(DAYS):
            day = FIRST_DAY + datetime.timedelta(days=offset)
            cents = rng.randrange(100, 500_000)
            spend.write(
                f"{campaign.pk}\t{day}\t{cents / 100:.2f}\tUSD\t{cents / 100:.2f}\t\t\tgeneric\tb\t\t{now}\t{now}\n"
            )
            clicks = rng.randrange(0, 500)
            results.write(
                f"{campaign.pk}\t{day}\tgeneric\t{clicks * 30}\t{clicks}\t{clicks // 20}\t{clicks // 50}\t"
                f"{clicks // 100}\t{clicks // 200}\t{clicks * 7}.00\t{clicks // 400}\t{clicks * 3}.50\t{now}\n"
            )
    spend.seek(0)
    results.seek(0)
    started = time.perf_counter()
    if POSTGRES:
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {SpendEntry._meta.db_table} (campaign_id, date, amount, currency, amount_base, vendor,"
                " reference, source, external_key, note, created_at, updated_at) FROM STDIN",
                spend,
            )
            cursor.copy_expert(
                f"COPY {ResultFact._meta.db_table} (campaign_id, date, source, impressions, clicks, leads, mqls, sqls,"
                " opportunities, pipeline, new_customers, revenue, updated_at) FROM STDIN",
                results,
            )
            cursor.execute("ANALYZE")
    else:
        SpendEntry.objects.bulk_create(
            [
                SpendEntry(
                    campaign_id=int(f[0]),
                    date=f[1],
                    amount=f[2],
                    currency="USD",
                    amount_base=f[4],
                    source="generic",
                    external_key="b",
                )
                for f in (line.split("\t") for line in spend.getvalue().splitlines())
            ],
            batch_size=5000,
        )
        ResultFact.objects.bulk_create(
            [
                ResultFact(
                    campaign_id=int(f[0]),
                    date=f[1],
                    source="generic",
                    impressions=int(f[3]),
                    clicks=int(f[4]),
                    leads=int(f[5]),
                    mqls=int(f[6]),
                    sqls=int(f[7]),
                    opportunities=int(f[8]),
                    pipeline=f[9],
                    new_customers=int(f[10]),
                    revenue=f[11],
                )
                for f in (line.split("\t") for line in results.getvalue().splitlines())
            ],
            batch_size=5000,
        )
    print(
        f"facts: {CAMPAIGNS:,} campaigns × {DAYS} days = {2 * CAMPAIGNS * DAYS:,} rows "
        f"(spend + results) loaded in {time.perf_counter() - started:.1f} s"
    )


FLOOR_SQL = f"""
    INSERT INTO bench_floor
    SELECT campaign_id, day, SUM(spend), SUM(impressions), SUM(clicks), SUM(leads), SUM(mqls), SUM(sqls),
           SUM(opportunities), SUM(pipeline), SUM(new_customers), SUM(revenue)
    FROM (
        SELECT campaign_id, date AS day, amount_base AS spend, 0 AS impressions, 0 AS clicks, 0 AS leads, 0 AS mqls,
               0 AS sqls, 0 AS opportunities, 0 AS pipeline, 0 AS new_customers, 0 AS revenue
        FROM {SpendEntry._meta.db_table}
        UNION ALL
        SELECT campaign_id, date, 0, impressions, clicks, leads, mqls, sqls, opportunities, pipeline, new_customers,
               revenue
        FROM {ResultFact._meta.db_table}
    ) f
    GROUP BY campaign_id, day
"""


def floor_ms() -> float:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(
            "CREATE TABLE bench_floor (campaign_id integer, day date, spend numeric(14, 2), impressions bigint,"
            " clicks bigint, leads bigint, mqls bigint, sqls bigint, opportunities bigint, pipeline numeric(14, 2),"
            " new_customers bigint, revenue numeric(14, 2))"
        )
    samples = []
    for _ in range(3):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_floor" if POSTGRES else "DELETE FROM bench_floor")
            started = time.perf_counter()
            cursor.execute(FLOOR_SQL)
            samples.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return statistics.median(samples) * 1000


def incremental():
    """One new spend entry per sample through the normal path (post_save marks it, the refresh task
    runs after commit — eagerly here); the task time is the refresh run's own duration."""
    campaign = Campaign.objects.order_by("pk").first()
    before = RefreshRun.objects.filter(kind=RefreshKind.INCREMENTAL).count()
    for i in range(30):
        SpendEntry.objects.create(
            campaign=campaign,
            date=FIRST_DAY + datetime.timedelta(days=i),
            amount=Decimal("1.00"),
            currency="USD",
            amount_base=Decimal("1.00"),
            source="manual",
        )
    runs = list(RefreshRun.objects.filter(kind=RefreshKind.INCREMENTAL).order_by("finished_at")[before:])
    durations = [run.duration_ms for run in runs]
    print(
        f"incremental refresh after one spend entry: median {statistics.median(durations):.1f} ms, "
        f"p95 {percentile(durations, 0.95):.1f} ms of task time ({len(durations)} runs)"
    )


def through_a_worker():
    """Change → visible in the rollups with a real worker on Redis: the worker and the writer are
    separate processes, as in production (``--writer`` runs this file as the writer)."""
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        print(f"worker latency: skipped (no Redis at {url})")
        return
    if not POSTGRES:
        print("worker latency: skipped (needs PostgreSQL: SQLite cannot share the bench database safely)")
        return
    env = {**os.environ, "REDIS_URL": url, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mops", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)  # the worker connects
        subprocess.run([sys.executable, __file__, "--writer"], env=env, check=True)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def write_and_wait():
    from django.conf import settings

    campaign = Campaign.objects.order_by("-pk").first()
    latencies = []
    for i in range(10):
        day = FIRST_DAY + datetime.timedelta(days=i)
        target = Rollup.objects.get(dimension="org", grain="d", period_start=day).spend + Decimal("2.00")
        SpendEntry.objects.create(
            campaign=campaign,
            date=day,
            amount=Decimal("2.00"),
            currency="USD",
            amount_base=Decimal("2.00"),
            source="api",
        )
        started = time.perf_counter()
        while Rollup.objects.get(dimension="org", grain="d", period_start=day).spend != target:
            if time.perf_counter() - started > 30:
                raise SystemExit("the worker did not refresh within 30 s")
            time.sleep(0.01)
        latencies.append((time.perf_counter() - started) * 1000)
    print(
        f"change → visible through a real worker (debounce {settings.METRICS_REFRESH_DELAY_MS} ms): "
        f"median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms"
    )


def reads():
    scope = selectors.Scope(team_ids=None, budgets=True)
    year = selectors.Filters(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
    team = selectors.Filters(start=year.start, end=year.end, team=(Team.objects.order_by("pk").first().pk,))
    cases = [
        ("organisation by month (rollups)", year, "month"),
        ("by channel (rollups)", year, "channel"),
        ("by program (rollups)", year, "program"),
        ("by campaign (cells, 10,000 rows)" if POSTGRES else "by campaign (cells)", year, "campaign"),
        ("one team by month (cells)", team, "month"),
        ("one team by channel (cells)", team, "channel"),
        (
            "a custom range by week (day cells)",
            selectors.Filters(start=datetime.date(2026, 1, 7), end=datetime.date(2026, 3, 20)),
            "week",
        ),
    ]
    for label, filters, group_by in cases:
        median, worst, rows = timed(lambda f=filters, g=group_by: selectors.measures_by(f, g, scope=scope), 7)
        print(f"read {label}: median {median:.1f} ms, max {worst:.1f} ms, {len(rows)} rows, 2 queries")


def main():
    print(f"database: {connection.vendor}")
    build()
    floor = floor_ms()
    print(f"floor: one INSERT … SELECT … GROUP BY campaign, day of the facts: {floor:.0f} ms")
    median, worst, _ = timed(lambda: services.rebuild_all(compare=False), 3)
    cells, rollups = Cell.objects.count(), Rollup.objects.count()
    print(
        f"full rebuild (5 grains × cells + 7 dimensions): median {median:.0f} ms, max {worst:.0f} ms "
        f"= {median / floor:.2f}× the floor; {cells:,} cells, {rollups:,} rollup rows"
    )
    median, _, run = timed(lambda: services.rebuild_all(compare=True), 1)
    print(f"nightly rebuild with the incremental-vs-full check: {median:.0f} ms, agreed: {run.agreed}")
    incremental()
    through_a_worker()
    reads()


if __name__ == "__main__":
    write_and_wait() if WRITER else main()
