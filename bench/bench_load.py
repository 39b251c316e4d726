"""Load and scale: two organisations — 10× the demo, and one with 1,000,000 fact rows (spend + result
rows, the demo cloned set-based in SQL) — served by gunicorn (sync workers) on loopback. For each,
at 16 and 64 concurrent keep-alive clients (wrk, ``BENCH_SECONDS`` each): a bare Django page
(``/healthz``: one ``SELECT 1``), the CMO dashboard, the campaign list page, the campaign list API and
the KPI API, in the same run — and the campaign list page once more from a second gunicorn whose list
totals are summed from the fact rows, as before the first bottleneck was fixed; then several API
clients uploading and starting small Google Ads and generic imports at the same time while a real
Celery worker on Redis runs them.

Prints, per figure, p50/p95/p99 latency, requests per second, errors (socket errors and non-2xx), the
throughput as a fraction of the bare page's in the same block, and the load average (the machine is
shared: compare ratios within one run); the memory (RSS) of the gunicorn workers and the Celery worker
after warm-up and after each block (growth beyond warm-up would be a leak); for the imports, request
latency, rows per second end to end, failed batches and whether the facts are exactly the files'.

Needs ``wrk`` (Debian package ``wrk``). PostgreSQL figures are the ones that matter:
``BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mops_bench`` (created when missing; flushed).
The import phase needs Redis (``BENCH_REDIS_URL``, default redis://127.0.0.1:6379/15: its ``celery``
queue is emptied; skipped when Redis does not answer). ``BENCH_CONNECTIONS`` (default ``16,64``),
``BENCH_SECONDS`` (10), ``BENCH_WORKERS`` (3), ``BENCH_FACT_ROWS`` (1000000), ``BENCH_IMPORT_CLIENTS``
(8). About 15 minutes on 2 cores. Prints figures; asserts only that the imports wrote exactly their
files' facts and that the list's totals are the same from the facts and from the cells.
"""

import contextlib
import datetime
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

from benchkit import ROOT, count_queries, percentile, setup

REDIS_URL = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/15"  # a database of its own
tmp = setup()  # eager tasks in this process (seeding); the server and the worker get REDIS_URL

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

CONNECTIONS = [int(n) for n in os.environ.get("BENCH_CONNECTIONS", "16,64").split(",")]
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
FACT_ROWS = int(os.environ.get("BENCH_FACT_ROWS", "1000000"))
IMPORT_CLIENTS = int(os.environ.get("BENCH_IMPORT_CLIENTS", "8"))
IMPORT_CAMPAIGNS, IMPORT_DAYS = 10, 30  # per import file: 300 rows
PORT, BEFORE_PORT = 8765, 8766
BASE = f"http://127.0.0.1:{PORT}"
PAGES = (
    ("bare Django page (/healthz)", "/healthz"),
    ("CMO dashboard", "/metrics/cmo/"),
    ("campaign list page", "/campaigns/"),
    ("campaign list API", "/api/v1/campaigns/"),
    ("KPI API by channel", "/api/v1/kpis/?metrics=spend,revenue,roas,cpl&group_by=channel"),
)
BEFORE = "campaign list page, before the fix"
RUNS = [*((label, path, PORT) for label, path in PAGES), (BEFORE, "/campaigns/", BEFORE_PORT)]
TOTALS_FROM_FACTS = """
def post_worker_init(worker):
    from campaigns.selectors import use_fact_totals_source

    use_fact_totals_source(None)
"""
PERCENTILES_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("MOPS %d %d %d %.1f %.1f %.1f\\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


# --- measuring ----------------------------------------------------------------------------------


def session_cookie(username: str) -> str:
    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def rss_mb(pids) -> float:
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", text).group(1))
    return total / 1024


def children(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def drain(port: int) -> None:
    """Wait until the server answers /healthz at once: requests that wrk left queued in gunicorn's backlog
    when it stopped would otherwise be served during the next measurement."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        began = time.perf_counter()
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60)
        if time.perf_counter() - began < 0.5:
            return


def wrk(path: str, cookie: str, script: str, connections: int, seconds: int, port: int = PORT) -> dict:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(connections, 4)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script,
            "-H",
            f"Cookie: {cookie}",
            "-H",
            "Host: testserver",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    drain(port)
    requests, errors, bad_status, p50, p95, p99 = re.search(
        r"MOPS (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out
    ).groups()
    return {
        "rps": int(requests) / seconds,
        "errors": int(errors) + int(bad_status),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "load": load_average(),
    }


# --- the organisations --------------------------------------------------------------------------


def scale_demo(times: int) -> None:
    """Copy the demo's campaigns and their facts ``times - 1`` more times (facts set-based through a
    table of old → new campaign ids), then rebuild the rollups. Copies get their own code and name
    (imports match campaigns by either)."""
    from campaigns.models import Campaign, ResultFact, SpendEntry
    from metrics.rollups import services

    originals = list(Campaign.objects.all())
    pairs = []
    for copy in range(1, times):
        clones = [
            Campaign(
                **{
                    **{f.attname: getattr(c, f.attname) for f in Campaign._meta.concrete_fields},
                    "id": None,
                    "code": f"{c.code}-x{copy}",
                    "name": f"{c.name} x{copy}",
                }
            )
            for c in originals
        ]
        Campaign.objects.bulk_create(clones, batch_size=1000)
        pairs += [(old.pk, new.pk) for old, new in zip(originals, clones, strict=True)]
    spend, results = SpendEntry._meta.db_table, ResultFact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_clone (old_id integer, new_id integer)")
        cursor.executemany("INSERT INTO bench_clone VALUES (%s, %s)", pairs)
        cursor.execute(
            f"INSERT INTO {spend} (campaign_id, tactic_id, date, amount, currency, amount_base, vendor, reference,"
            " source, external_key, note, created_by_id, created_at, updated_at)"
            " SELECT m.new_id, NULL, s.date, s.amount, s.currency, s.amount_base, s.vendor, s.reference, s.source,"
            f" s.external_key, s.note, NULL, s.created_at, s.updated_at FROM {spend} s"
            " JOIN bench_clone m ON m.old_id = s.campaign_id"
        )
        cursor.execute(
            f"INSERT INTO {results} (campaign_id, date, source, impressions, clicks, leads, mqls, sqls,"
            " opportunities, pipeline, new_customers, revenue, updated_by_id, updated_at)"
            " SELECT m.new_id, r.date, r.source, r.impressions, r.clicks, r.leads, r.mqls, r.sqls, r.opportunities,"
            f" r.pipeline, r.new_customers, r.revenue, NULL, r.updated_at FROM {results} r"
            " JOIN bench_clone m ON m.old_id = r.campaign_id"
        )
        cursor.execute("DROP TABLE bench_clone")
    services.rebuild_all(compare=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load


def fact_rows() -> int:
    from campaigns.models import ResultFact, SpendEntry

    return SpendEntry.objects.count() + ResultFact.objects.count()


def build_organisation(times: int | None) -> str:
    """Flush, seed the demo and scale it ``times``× (or to ``FACT_ROWS`` fact rows); a description."""
    from campaigns.models import Campaign

    began = time.perf_counter()
    call_command("flush", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0)
    if times is None:
        times = math.ceil(FACT_ROWS / fact_rows())
    scale_demo(times)
    return (
        f"{Campaign.objects.count():,} campaigns, {fact_rows():,} fact rows "
        f"(the demo ×{times}; built in {time.perf_counter() - began:.0f} s)"
    )


def totals_before_and_after(repeat: int = 9) -> str:
    """The campaign list's totals over every campaign, summed from the fact rows (before the fix) and
    from the rollup cells (after), timed in turns in this process: medians, robust to a busy machine."""
    from campaigns import selectors
    from campaigns.models import Campaign
    from metrics.rollups.fact_totals import campaign_fact_totals

    timings = {"facts": [], "cells": []}
    results = {}
    for _ in range(repeat):
        for label, source in (("facts", None), ("cells", campaign_fact_totals)):
            selectors.use_fact_totals_source(source)
            began = time.perf_counter()
            results[label] = selectors.campaign_totals(Campaign.objects.all())
            timings[label].append(time.perf_counter() - began)
    selectors.use_fact_totals_source(campaign_fact_totals)
    assert results["facts"] == results["cells"], results
    facts, cells = (statistics.median(timings[k]) * 1000 for k in ("facts", "cells"))
    return (
        f"the list's totals over all campaigns, median of {repeat}: {facts:.0f} ms summed from the facts (before), "
        f"{cells:.0f} ms from the rollup cells (after), the same figures; load {load_average()}"
    )


def dashboard_queries() -> tuple[int, int]:
    """Queries of the CMO dashboard built afresh, and served from the cache (the same filters again)."""
    from django.core.cache import cache

    client = Client()
    client.force_login(get_user_model().objects.get(username="cmo"))
    cache.clear()
    cold = count_queries(lambda: client.get("/metrics/cmo/"))
    return cold, count_queries(lambda: client.get("/metrics/cmo/"))


# --- the servers --------------------------------------------------------------------------------


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class Servers:
    """gunicorn (and, with Redis, one Celery worker) on the bench database, stopped on exit."""

    def __init__(self, with_worker: bool):
        self.with_worker = with_worker
        self.hooks = Path(tmp) / "gunicorn_totals_from_facts.py"
        self.hooks.write_text(TOTALS_FROM_FACTS)
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DB_CONN_MAX_AGE": "600",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
        }
        if with_worker:
            self.env["REDIS_URL"] = REDIS_URL
        self.processes = []

    def __enter__(self):
        self.gunicorn = self._start(
            "-m", "gunicorn", "mops.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", str(WORKERS),
            "--timeout", "120", "--access-logfile", "/dev/null", "--error-logfile", f"{tmp}/gunicorn.log",
        )  # fmt: skip
        # The same app with the campaign list's totals summed from the facts, as before the fix.
        self.before = self._start(
            "-m", "gunicorn", "mops.wsgi", "-b", f"127.0.0.1:{BEFORE_PORT}", "-w", str(WORKERS), "-c", str(self.hooks),
            "--timeout", "120", "--access-logfile", "/dev/null", "--error-logfile", f"{tmp}/gunicorn-before.log",
        )  # fmt: skip
        if self.with_worker:
            import redis

            redis.Redis.from_url(REDIS_URL).delete("celery")  # no task an earlier run left queued
            self.celery = self._start(
                "-m", "celery", "-A", "mops", "worker", "--pool", "solo", "--loglevel", "WARNING",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "--logfile", f"{tmp}/celery.log",
            )  # fmt: skip
        for port in (PORT, BEFORE_PORT):
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60).status == 200:
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError(f"gunicorn did not answer /healthz with 200: see {tmp}/gunicorn*.log")
        return self

    def _start(self, *args):
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env)
        self.processes.append(process)
        return process

    def memory(self) -> str:
        text = f"gunicorn workers {rss_mb(children(self.gunicorn.pid)):.0f} MB"
        text += f" (before-fix server {rss_mb(children(self.before.pid)):.0f} MB)"
        if self.with_worker:
            text += f", Celery worker {rss_mb([self.celery.pid]):.0f} MB"
        return text

    def __exit__(self, *exc):
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- pages under load ---------------------------------------------------------------------------


def pages_under_load(servers: Servers, cookie: str, script: str) -> None:
    for _, path in PAGES:  # warm-up: every worker has imported, compiled and cached what it needs
        wrk(path, cookie, script, 16, 5)
    wrk("/campaigns/", cookie, script, 16, 5, BEFORE_PORT)
    print(f"  memory after warm-up: {servers.memory()}")
    print(f"  {'':<30}{'req/s':>8}{'× bare':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}{'load':>7}")
    for connections in CONNECTIONS:
        print(f"  {connections} connections, {SECONDS} s each")
        bare = None
        for label, path, port in RUNS:
            r = wrk(path, cookie, script, connections, SECONDS, port)
            bare = bare or r["rps"] or 1
            print(
                f"  {label:<30}{r['rps']:>8.1f}{r['rps'] / bare:>8.2f}{r['p50']:>9.0f}{r['p95']:>9.0f}"
                f"{r['p99']:>9.0f}{r['errors']:>8}{r['load']:>7}"
            )
        print(f"  memory after {connections} connections: {servers.memory()}")


# --- imports under concurrency ------------------------------------------------------------------


def import_file(client: int, campaigns) -> tuple[str, bytes, dict]:
    """A small import file for ``client``: (format, content, expected facts {(code, day): (spend, clicks)}).
    Even clients send a Google Ads UI export (campaign names), odd ones a generic CSV (codes); each its
    own campaigns and days after the demo's closed months."""
    first = datetime.date.today() + datetime.timedelta(days=60 + client * IMPORT_DAYS)
    mine = campaigns[client * IMPORT_CAMPAIGNS : (client + 1) * IMPORT_CAMPAIGNS]
    expected, google = {}, client % 2 == 0
    lines = (
        ["Campaign performance report", "Campaign,Day,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value"]
        if google
        else ["Date,Campaign code,Spend,Currency,Impressions,Clicks,Leads"]
    )
    for n, (code, name) in enumerate(mine):
        for d in range(IMPORT_DAYS):
            day = first + datetime.timedelta(days=d)
            spend, clicks = Decimal(f"{100 + n * 7 + d}.{d % 100:02d}"), 10 + n + d
            expected[(code, day)] = (spend, clicks)
            if google:
                lines.append(f'"{name}",{day:%Y-%m-%d},USD,"${spend:,}","{clicks * 40:,}",{clicks},1.00,$0.00')
            else:
                lines.append(f"{day:%Y-%m-%d},{code},{spend},USD,{clicks * 40},{clicks},1")
    return ("google_ads" if google else "generic"), ("\n".join(lines) + "\n").encode(), expected


def api(method: str, path: str, token: str, body: bytes | None = None, content_type: str | None = None):
    """(status, JSON, seconds) of one API request."""
    headers = {"Authorization": f"Token {token}", "Host": "testserver"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(BASE + path, data=body, method=method, headers=headers)
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    return status, json.loads(payload or b"null"), time.perf_counter() - began


def upload(token: str, filename: str, fmt: str, content: bytes):
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="format"\r\n\r\n{fmt}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return api("POST", "/api/v1/imports/", token, body, f"multipart/form-data; boundary={boundary}")


def imports_under_concurrency() -> None:
    from django.db.models import Count
    from rest_framework.authtoken.models import Token

    from campaigns.models import Campaign, ResultFact, SpendEntry
    from campaigns.selectors import editable_campaigns
    from mops.roles import Role

    marketers = get_user_model().objects.filter(groups__name=Role.MARKETER, is_active=True)
    importer = max(marketers, key=lambda user: editable_campaigns(user=user).count())
    token = Token.objects.get_or_create(user=importer)[0].key
    unique_names = Campaign.objects.values("name").annotate(n=Count("pk")).filter(n=1).values("name")
    campaigns = list(  # Google Ads exports name campaigns: names two campaigns share would need a mapping
        editable_campaigns(user=importer).filter(name__in=unique_names).order_by("pk").values_list("code", "name")
    )
    if len(campaigns) < IMPORT_CLIENTS * IMPORT_CAMPAIGNS:
        print(f"  imports: {importer} sees only {len(campaigns)} campaigns: skipped")
        return
    latencies, failures, expected, outcome = [], [], {}, {}

    def client(n: int) -> None:
        fmt, content, facts = import_file(n, campaigns)
        expected.update(facts)
        status, batch, seconds = upload(token, f"bench-{n}.csv", fmt, content)
        latencies.append(seconds)
        if status != 201 or batch["status"] != "uploaded" or batch["unknown_campaigns"]:
            failures.append((n, "upload", status, batch))
            return
        status, started, seconds = api("POST", f"/api/v1/imports/{batch['id']}/start/", token)
        latencies.append(seconds)
        if status != 202:
            failures.append((n, "start", status, started))
            return
        while True:
            status, batch, seconds = api("GET", f"/api/v1/imports/{batch['id']}/", token)
            latencies.append(seconds)
            if status != 200 or batch["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        outcome[n] = time.perf_counter()
        if status != 200 or batch["status"] != "done" or batch["rows_rejected"]:
            failures.append((n, "run", status, batch["status"], batch.get("errors", [])[:3]))

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(IMPORT_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(outcome.values(), default=time.perf_counter()) - began
    days = {day for _, day in expected}
    spend = {
        (code, day): amount
        for code, day, amount in SpendEntry.objects.filter(
            date__in=days, source__in=["generic", "google_ads"]
        ).values_list("campaign__code", "date", "amount")
    }
    clicks = {
        (code, day): n
        for code, day, n in ResultFact.objects.filter(date__in=days, source__in=["generic", "google_ads"]).values_list(
            "campaign__code", "date", "clicks"
        )
    }
    exact = spend == {k: v[0] for k, v in expected.items()} and clicks == {k: v[1] for k, v in expected.items()}
    print(
        f"  imports: {IMPORT_CLIENTS} API clients at once, each uploading, starting and following a "
        f"{IMPORT_CAMPAIGNS * IMPORT_DAYS}-row file (Google Ads UI export or generic CSV); one Celery worker "
        f"(solo pool) on Redis"
    )
    print(
        f"  {len(expected):,} rows in {elapsed:.1f} s end to end = {len(expected) / elapsed:.0f} rows/s; "
        f"request latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f}"
        f" ms, max {max(latencies) * 1000:.0f} ms ({len(latencies)} requests); failed batches {len(failures)}; "
        f"facts exact: {'yes' if exact else 'NO'}; load {load_average()}; of {Campaign.objects.count():,} campaigns"
    )
    assert not failures, failures[:3]
    assert exact, "the imported facts are not the files' facts"


# --- the run ------------------------------------------------------------------------------------


def main():
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): skipped")
        return
    call_command("migrate", verbosity=0)
    script = Path(tempfile.mkdtemp()) / "percentiles.lua"
    script.write_text(PERCENTILES_LUA)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    with_worker = redis_answers()
    print(
        f"database: {connection.vendor}; gunicorn: {WORKERS} sync workers; wrk at {CONNECTIONS} connections; "
        f"{os.cpu_count()} cores; Redis {REDIS_URL if with_worker else 'not answering: no import phase'}"
    )
    for label, times in (("10× the demo", 10), (f"{FACT_ROWS:,} fact rows", None)):
        print(f"== {label}: {build_organisation(times)}")
        cold, warm = dashboard_queries()
        print(f"  CMO dashboard queries built afresh / from the cache: {cold} / {warm}")
        print(f"  {totals_before_and_after()}")
        cookie = session_cookie("cmo")
        with Servers(with_worker) as servers:
            pages_under_load(servers, cookie, str(script))
            if with_worker:
                imports_under_concurrency()
                print(f"  memory after the imports: {servers.memory()}")


if __name__ == "__main__":
    main()
