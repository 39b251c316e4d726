"""What every benchmark script shares: a throwaway environment (SQLite in a temporary folder by
default, or BENCH_DATABASE_URL — created when missing — for PostgreSQL), Django set up, and timing
helpers. Import it before anything from Django: ``from benchkit import setup; setup()``.

Scripts print figures; none asserts anything about time.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]


def setup(*, eager: bool = True) -> str:
    """Point the settings at the bench database and set Django up; returns the temporary folder."""
    sys.path.insert(0, str(ROOT))
    tmp = tempfile.mkdtemp(prefix="mops-bench-")
    os.environ.update(
        DEBUG="false", SECRET_KEY="bench-" + "x" * 50, MOPS_VAR_DIR=tmp, STATIC_ROOT=tmp, ALLOWED_HOSTS="testserver"
    )
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    if eager:
        os.environ.pop("REDIS_URL", None)  # tasks run eagerly, in this process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mops.settings")
    if os.environ["DATABASE_URL"].startswith("postgres"):
        ensure_postgres_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings

    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    settings.SECURE_SSL_REDIRECT = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the demo's notifications
    return tmp


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE when the bench database does not exist yet."""
    import psycopg2

    parts = urlparse(url)
    admin = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password or None,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')
    admin.close()


def timed(fn, repeat: int):
    """(median ms, max ms, the last result) of ``repeat`` calls."""
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, max(samples) * 1000, result


def percentile(samples, fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def count_queries(fn) -> int:
    from django.db import connection

    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        fn()
    return len(queries)
