"""Fixtures shared by every test: the cast (one user per role plus an outsider), clients, Celery."""

import os
import sys

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from mops.celery import app as celery_app
from mops.roles import Role
from tests.demo_snapshot import demo_organisation, demo_snapshot  # noqa: F401 — fixtures for every test module
from tests.factories import TeamFactory, UserFactory
from tests.needs import needs_postgresql  # noqa: F401 — a fixture for every test module

# pytest-django's live_server runs in a thread while Playwright's sync API holds an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """The tests are written for a fiscal year that starts in January (FY2026 is 2026) and set another
    start themselves where it matters (``settings.FISCAL_YEAR_START_MONTH = 7``), so the suite passes
    whatever FISCAL_YEAR_START_MONTH the environment gives. The demo works with any start: its tests
    follow the environment's (``mops.settings.FISCAL_YEAR_START_MONTH``, see tests/core/test_seed_demo.py),
    which is how ``make test-dates`` runs them with a July year."""
    settings.FISCAL_YEAR_START_MONTH = 1


def pytest_sessionstart(session):
    """Drop test databases left by earlier runs that died or could not drop theirs (a thread still
    held a connection at teardown). Each run's database is named after its process id
    (tests/settings.py), with pytest-django's ``_gwN`` suffix under pytest-xdist (the id is then the
    worker's own): one whose process is gone is garbage, one whose process lives (a sibling worker,
    another run) is left alone."""
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql") or not sys.platform.startswith("linux"):
        return
    import psycopg2

    prefix = f"test_{db['NAME']}_"
    conn = psycopg2.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        connect_timeout=5,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix.replace("_", r"\_") + "%"])
        for (name,) in cursor.fetchall():
            pid = name.removeprefix(prefix).split("_", 1)[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"{db.get('HOST')}:{db.get('PORT')}/{db['NAME']}"
    return [
        f"mops database: {settings.TEST_DATABASE_VENDOR} ({where})",
        f"mops redis: {settings.REDIS_URL or 'none (eager tasks)'}",
    ]


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache (cached dashboards must not leak between tests)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in-process unless a test starts a real worker (see tests/core/test_celery.py)."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def team(db):
    return TeamFactory(name="North America", slug="na")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="EMEA", slug="emea")


@pytest.fixture
def marketer(team):
    return UserFactory(username="alice", roles=[Role.MARKETER], teams=[team])


@pytest.fixture
def teammate(team):
    return UserFactory(username="bob", roles=[Role.MARKETER], teams=[team])


@pytest.fixture
def lead(team):
    """A marketer who leads the marketer's team."""
    user = UserFactory(username="lena-lead", roles=[Role.MARKETER])
    team.memberships.create(user=user, is_lead=True)
    return user


@pytest.fixture
def outsider(other_team):
    """A marketer of another team."""
    return UserFactory(username="charlie", roles=[Role.MARKETER], teams=[other_team])


@pytest.fixture
def cmo(db):
    return UserFactory(username="carol-cmo", roles=[Role.CMO])


@pytest.fixture
def finance(db):
    return UserFactory(username="fred-finance", roles=[Role.FINANCE])


@pytest.fixture
def ops_admin(db):
    return UserFactory(username="olga-ops", roles=[Role.OPS_ADMIN])


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    """``api_as(user)`` — an API client authenticated as ``user`` (session, like the browser)."""

    def login(user):
        api.force_authenticate(user=user)
        return api

    return login
