"""Checks behind ``GET /healthz``: each returns "ok", "eager", "degraded: …" or "error: …".

The core checks the database and Redis itself; the apps above it add their own checks through
``register`` in their ``AppConfig.ready()`` (the core imports no business app), e.g. metrics'
"rollups", degraded while changes are set aside after failing to refresh. "degraded" keeps the
answer a 200 (the service works, something needs a look); any "error" makes it a 503.
"""

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection

_CHECKS: dict[str, Callable[[], str]] = {}


def register(name: str, check: Callable[[], str]) -> None:
    """Add ``check`` (no arguments, returns "ok", "degraded: …" or "error: …") to the report as
    ``name``. It runs only while the database answers; registering a name again replaces it."""
    _CHECKS[name] = check


def _error(exc: Exception) -> str:
    return f"error: {exc.__class__.__name__}: {exc}".strip()


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy"; the text says which
        return _error(exc)
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "eager"  # no broker configured: tasks run in-process
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:
        return _error(exc)
    return "ok"


def _run(check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception as exc:  # a check that cannot run is an error, never a 500
        return _error(exc)


def health() -> tuple[bool, dict]:
    """(healthy, report). Healthy unless a check is an error; the report's "status" is "ok",
    "degraded" (some check is degraded) or "error"."""
    checks = {"database": check_database(), "redis": check_redis()}
    for name, check in _CHECKS.items():
        checks[name] = _run(check) if checks["database"] == "ok" else "unknown: the database is unavailable"
    healthy = not any(value.startswith("error") for value in checks.values())
    degraded = any(value.startswith("degraded") for value in checks.values())
    status = "error" if not healthy else "degraded" if degraded else "ok"
    return healthy, {"status": status, "version": settings.MOPS_VERSION, **checks}
