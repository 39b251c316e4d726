"""Settings for the test suite: the project's settings with test-only choices.

Database: ``DATABASE_URL`` when set; else PostgreSQL on 127.0.0.1:5432 when one answers (trust
auth, the machines' default); else SQLite. The choice is printed in pytest's header.

Under pytest-xdist (``make test`` runs two workers) each worker is its own process with its own test
database (named after its process id, plus pytest-django's ``_gw0`` suffix), its own MOPS_VAR_DIR
folder and its own Redis database for the real-worker tests' broker and keys.
"""

import os
import socket
import tempfile
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret-" + "x" * 40)
os.environ["DEBUG"] = "false"
# pytest-xdist names each worker gw0, gw1, … in the environment before it imports anything.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
os.environ.setdefault("MOPS_VAR_DIR", os.path.join(tempfile.gettempdir(), "mops-tests", XDIST_WORKER))


def _postgres_answers(host="127.0.0.1", port=5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            pass
    except OSError:
        return False
    try:
        import psycopg2

        psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres", connect_timeout=2).close()
    except Exception:
        return False
    return True


if not os.environ.get("DATABASE_URL", "").strip() and _postgres_answers():
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/mops"

# The suite runs tasks eagerly unless a test asks for a real worker; REDIS_URL is still read so
# that the health check and the worker test can use the real Redis.
from mops.settings import *  # noqa: E402, F403
from mops.settings import DATABASES, REDIS_URL  # noqa: E402


def _redis_answers(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False
    return True


# Tasks run eagerly (tests/conftest.py flips this per test); the broker is still a real Redis when
# one answers, so that the real-worker test can switch eager mode off and nothing else.
TEST_CELERY_REDIS_URL = REDIS_URL or "redis://127.0.0.1:6379/15"


def _worker_redis_url(url: str, worker: str) -> str:
    """Worker gwN's Redis database: N below the configured one (db 15, 14, … under ``-n 2``), so two
    workers' real Celery workers never take each other's tasks (each would run it on its own test
    database) and never share the refresh's scheduled key (metrics.marks.SCHEDULED_KEY)."""
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return url
    parts = urlsplit(url)
    db = parts.path.strip("/")
    number = (int(db) if db.isdigit() else 0) - int(worker[2:])
    return urlunsplit(parts._replace(path=f"/{number % 16}"))


TEST_CELERY_REDIS_URL = _worker_redis_url(TEST_CELERY_REDIS_URL, XDIST_WORKER)
if _redis_answers(TEST_CELERY_REDIS_URL):
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = TEST_CELERY_REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # One test database per run, so that two suites on one machine (a developer and an editor's
    # test runner, say) never drop each other's database. pytest-django drops it at the end.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
STATIC_ROOT = Path(os.environ["MOPS_VAR_DIR"]) / "static-root"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
TEST_DATABASE_VENDOR = DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
