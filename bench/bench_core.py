"""Core figures: FX lookups, the team list page and the health check.

Runs on a throwaway SQLite database by default, or on BENCH_DATABASE_URL (e.g. the local
PostgreSQL) when set. Prints figures; asserts nothing about time.
"""

import datetime
import os
import time
from decimal import Decimal

from benchkit import setup, timed

setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def main():
    if "sqlite" in settings.DATABASES["default"]["ENGINE"] or os.environ.get("BENCH_DATABASE_URL"):
        call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    from mops.models import FxRate, Team
    from mops.selectors import fx_rate_on

    # Ten years of daily EUR rates: the lookup must stay an index probe.
    start = datetime.date(2017, 1, 1)
    FxRate.objects.bulk_create(
        [FxRate(currency_id="CHF", date=start + datetime.timedelta(days=i), rate=Decimal("1.1")) for i in range(3650)],
        ignore_conflicts=True,
    )
    day = datetime.date(2024, 6, 15)
    n = 2000
    began = time.perf_counter()
    for _ in range(n):
        fx_rate_on("CHF", day)
    per_lookup_us = (time.perf_counter() - began) / n * 1e6
    print(f"fx_rate_on over 3,650 daily rates: {per_lookup_us:.0f} µs per lookup ({n} lookups)")

    Team.objects.bulk_create([Team(name=f"Bench team {i:03}", slug=f"bench-{i:03}") for i in range(200)])
    client = Client()
    client.force_login(get_user_model().objects.get(username="cmo"))
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        assert client.get("/teams/").status_code == 200
    median, worst, _ = timed(lambda: client.get("/teams/"), 30)
    print(
        f"GET /teams/ with 204 teams (25 per page): median {median:.1f} ms, max {worst:.1f} ms, {len(queries)} queries"
    )
    median, worst, _ = timed(lambda: client.get("/api/v1/teams/?page_size=100"), 30)
    print(f"GET /api/v1/teams/?page_size=100: median {median:.1f} ms, max {worst:.1f} ms")
    median, worst, _ = timed(lambda: client.get("/metrics/cmo/"), 30)
    print(f"GET /metrics/cmo/ (the CMO dashboard on the demo): median {median:.1f} ms, max {worst:.1f} ms")
    median, worst, _ = timed(lambda: Client().get("/healthz"), 50)
    print(f"GET /healthz: median {median:.2f} ms, max {worst:.2f} ms")
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")


if __name__ == "__main__":
    main()
