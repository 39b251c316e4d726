"""Checks behind ``GET /healthz``: each returns "ok", "eager" or an error text."""

import redis
from django.conf import settings
from django.db import connection


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy"; the text says which
        return f"error: {exc.__class__.__name__}: {exc}".strip()
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "eager"  # no broker configured: tasks run in-process
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}: {exc}".strip()
    return "ok"


def health() -> tuple[bool, dict]:
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(value in ("ok", "eager") for value in checks.values())
    return healthy, {"status": "ok" if healthy else "error", "version": settings.MOPS_VERSION, **checks}
