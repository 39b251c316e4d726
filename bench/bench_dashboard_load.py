"""Dashboard under load: gunicorn serving the CMO dashboard, the KPI API and a bare Django page
(``/healthz``: one ``SELECT 1``) to 16 concurrent keep-alive clients (wrk) for a bounded time, in the
same run. Prints requests per second, p50/p95/p99 latency, errors, the dashboard's query count on
the demo data and at 10× it, and the gunicorn workers' memory before and after.

Needs ``wrk`` (Debian package ``wrk``); on BENCH_DATABASE_URL (PostgreSQL) or a throwaway SQLite.
Prints figures only.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchkit import ROOT, count_queries, setup

tmp = setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
PORT = 8765
PERCENTILES_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("MOPS %d %d %d %.1f %.1f %.1f\\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


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


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wrk(path: str, cookie: str, script: str) -> dict:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(CLIENTS, 4)}",
            f"-c{CLIENTS}",
            f"-d{SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            script,
            "-H",
            f"Cookie: {cookie}",
            "-H",
            "Host: testserver",
            f"http://127.0.0.1:{PORT}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests, errors, bad_status, p50, p95, p99 = re.search(
        r"MOPS (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out
    ).groups()
    return {
        "rps": int(requests) / SECONDS,
        "errors": int(errors) + int(bad_status),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
    }


def scale_demo(times: int) -> None:
    """Copy the demo's campaigns and their facts ``times - 1`` more times (facts set-based through a
    table of old → new campaign ids), then rebuild the rollups."""
    from campaigns.models import Campaign, ResultFact, SpendEntry
    from metrics import services

    originals = list(Campaign.objects.all())
    pairs = []
    for copy in range(1, times):
        clones = [
            Campaign(
                **{
                    **{f.attname: getattr(c, f.attname) for f in Campaign._meta.concrete_fields},
                    "id": None,
                    "code": f"{c.code}-x{copy}",
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


def dashboard_queries() -> tuple[int, int]:
    """Queries of the CMO dashboard built afresh, and served from the cache (the same filters again)."""
    from django.core.cache import cache

    client = Client()
    client.force_login(get_user_model().objects.get(username="cmo"))
    cache.clear()
    cold = count_queries(lambda: client.get("/metrics/cmo/"))
    return cold, count_queries(lambda: client.get("/metrics/cmo/"))


def main():
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): skipped")
        return
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0)
    demo_queries = dashboard_queries()
    scale_demo(10)
    from campaigns.models import ResultFact, SpendEntry

    print(
        f"database: {connection.vendor}; 10× the demo: {SpendEntry.objects.count():,} spend entries, "
        f"{ResultFact.objects.count():,} result rows"
    )
    cold, warm = dashboard_queries()
    print(
        f"CMO dashboard queries built afresh / from the cache: {demo_queries[0]} / {demo_queries[1]} on the demo, "
        f"{cold} / {warm} at 10× the demo"
    )
    cookie = session_cookie("cmo")
    script = Path(tempfile.mkdtemp()) / "percentiles.lua"
    script.write_text(PERCENTILES_LUA)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DB_CONN_MAX_AGE": "600",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mops.wsgi",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            str(WORKERS),
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            f"{tmp}/gunicorn.log",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        pids = worker_pids(server.pid)
        before = rss_mb(pids)
        print(f"gunicorn: {WORKERS} sync workers; wrk: {CLIENTS} connections for {SECONDS} s each")
        results = {}
        for label, path in (
            ("bare Django page (/healthz)", "/healthz"),
            ("CMO dashboard", "/metrics/cmo/"),
            ("CMO dashboard, one channel", "/metrics/cmo/?channel=1"),
            ("KPI API by channel", "/api/v1/kpis/?metrics=spend,revenue,roas,cpl&group_by=channel"),
            ("campaign list", "/campaigns/"),
        ):
            results[label] = r = wrk(path, cookie, str(script))
            print(
                f"{label}: {r['rps']:.0f} req/s, p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
                f"p99 {r['p99']:.0f} ms, errors {r['errors']}"
            )
        bare = results["bare Django page (/healthz)"]["rps"]
        print(f"CMO dashboard throughput = {results['CMO dashboard']['rps'] / bare:.2f} × the bare page")
        print(f"gunicorn workers' memory: {before:.0f} MB before, {rss_mb(pids):.0f} MB after")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
