"""The demo organisation for tests that start from it, seeded once per test process (per pytest-xdist
worker) instead of once per test: ``manage.py seed_demo`` takes seconds, restoring its rows takes a
fraction of that.

``demo_organisation`` (a fixture; tests/conftest.py makes it available everywhere) puts the database in
the state ``call_command("seed_demo")`` at the start of the test would leave: the first time, the demo is
seeded for real (committed, so its on-commit steps — the rollups' rebuild — run as in the command) and
every table is copied into the ``demo_snapshot`` schema of the worker's own test database, then the
tables go back to their state before the seed (copied to ``demo_blank`` first). Each test that asks
for the demo then gets its tables emptied and refilled from ``demo_snapshot`` and the sequences moved
past the copied ids, in one transaction (Django's foreign keys are deferred on PostgreSQL, so the
order of the tables does not matter).

It works with pytest-django's ``db`` (the restore is rolled back with the test) and ``transactional_db``
and live-server tests (their flush empties the tables after the test). Tests that check the seed itself
(tests/core/test_seed_demo.py, test_demo_any_date.py, the rollups' marks) still run the command.
The snapshot is taken again when the day or FISCAL_YEAR_START_MONTH changed since (a run across
midnight, a test's settings). On SQLite the fixture simply runs the command.
"""

import dataclasses
import datetime
import io

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

SEEDED, BLANK = "demo_snapshot", "demo_blank"


@dataclasses.dataclass
class Snapshot:
    day: datetime.date | None = None
    fiscal_start: int | None = None
    tables: tuple[str, ...] = ()

    def fresh(self) -> bool:
        return (self.day, self.fiscal_start) == (timezone.localdate(), settings.FISCAL_YEAR_START_MONTH)


def _tables() -> list[str]:
    """The tables a flush empties: every model's (content types and permissions included)."""
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _copy_to(schema: str, tables) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        for table in tables:
            cursor.execute(f'CREATE TABLE "{schema}"."{table}" AS TABLE public."{table}"')


def _restore_from(schema: str, tables) -> None:
    """Every table as in ``schema``, in one transaction; the sequences past the restored ids."""
    models = apps.get_models(include_auto_created=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("TRUNCATE " + ", ".join(f'public."{table}"' for table in tables))
        for table in tables:
            cursor.execute(f'INSERT INTO public."{table}" SELECT * FROM "{schema}"."{table}"')
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
    # The content types' ids are the snapshot's again: the per-process cache must not keep others.
    ContentType.objects.clear_cache()


def _seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def _take(snapshot: Snapshot) -> None:
    """Seed for real, copy every table, and put them back as they were before the seed."""
    tables = _tables()
    _copy_to(BLANK, tables)
    _seed()
    _copy_to(SEEDED, tables)
    _restore_from(BLANK, tables)
    snapshot.day, snapshot.fiscal_start = timezone.localdate(), settings.FISCAL_YEAR_START_MONTH
    snapshot.tables = tuple(tables)


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    """This process's snapshot of the demo, taken the first time a test asks for the demo. Session
    fixtures are set up before a test's ``db`` transaction begins, between tests, when the tables are
    as the last test's rollback or flush left them."""
    snapshot = Snapshot()
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock():
            _take(snapshot)
    yield snapshot
    if snapshot.tables:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for schema in (SEEDED, BLANK):
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def demo_organisation(request, demo_snapshot):
    """The database as ``manage.py seed_demo`` leaves it (see the module's docstring). With ``db`` the
    restore is part of the test's transaction; with ``transactional_db`` (live-server tests) the flush
    after the test empties it."""
    if request.node.get_closest_marker("django_db") is None and "transactional_db" not in request.fixturenames:
        request.getfixturevalue("db")
    if not demo_snapshot.tables:  # SQLite
        _seed()
    elif demo_snapshot.fresh():
        _restore_from(SEEDED, demo_snapshot.tables)
    elif connection.in_atomic_block:  # a new day inside a ``db`` test's transaction: seed in it
        _seed()
    else:
        _take(demo_snapshot)
        _restore_from(SEEDED, demo_snapshot.tables)
