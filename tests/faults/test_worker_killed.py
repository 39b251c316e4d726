"""A worker killed (``kill -9``) in the middle of an import or of a rollup refresh (issue 8, "Faults"):
a real ``celery -A mops worker`` subprocess on the test database and a private Redis, stopped at a
known point mid-way — it waits on a row another session holds, with part of its work done — killed,
then the work is done again: the facts equal the file, nothing is counted twice, the rollups equal a
full rebuild.

tests/metrics/rollups/test_rollups.py already shows a refresh that raises half-way (in-process) leaves its
marks; tests/campaigns/test_imports.py that a batch left running runs again without double counting
(in-process). These kill the process for real: its transaction cut off by PostgreSQL, its task left
unacknowledged in Redis, its batch left running."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import psycopg2
import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count, Sum
from django.urls import reverse

from campaigns.imports.services import import_stalled
from campaigns.models import ImportBatch, ImportStatus, ResultFact, SpendEntry
from metrics.rollups import services
from metrics.rollups.models import Cell, CellSource, DirtyMark, Rollup
from metrics.tasks import refresh_rollups
from planning.services import fiscal_year_ensure
from tests import needs
from tests.factories import CampaignFactory
from tests.faults.redis_proc import celery_on, private_redis, wait_until, worker

D = datetime.date
CAMPAIGNS, DAYS = 20, 365  # 7,300 campaign-days: four chunks of 2,000 (campaigns.imports.checking.CHUNK)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def other_session():
    db = connection.settings_dict
    return psycopg2.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
    )


def _wait_until_gone(backend_pid: int, *, attempts: int = 200) -> None:
    """A closed session's server process ends a moment after the client hangs up, and its advisory
    locks go with it: wait for the process to leave pg_stat_activity (bounded), not for a time."""
    import time

    with connection.cursor() as cursor:
        for _ in range(attempts):
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend_pid])
            if cursor.fetchone() is None:
                return
            time.sleep(0.05)
    raise AssertionError(f"the closed session's server process {backend_pid} is still there")


@contextmanager
def rows_held(sql: str, params: list):
    """Another session holds these rows (``FOR UPDATE``) until the block ends: whoever writes them waits."""
    session = other_session()
    try:
        with session.cursor() as cursor:
            cursor.execute(sql, params)
            assert cursor.fetchall(), "nothing to hold"
        yield
    finally:
        session.rollback()
        session.close()


def waiting_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


def holds_write_lock(pid: int, model) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND relation = %s::regclass "
            "AND mode = 'RowExclusiveLock' AND granted)",
            [pid, model._meta.db_table],
        )
        return cursor.fetchone()[0]


def the_file(codes) -> tuple[bytes, Decimal, int]:
    lines, spend, clicks = ["Date,Campaign,Spend,Clicks"], Decimal(0), 0
    for i, code in enumerate(codes):
        for offset in range(DAYS):
            amount = Decimal(f"{(offset * 7 + i) % 90}.{offset % 100:02d}")
            lines.append(f"{D(2026, 1, 1) + datetime.timedelta(days=offset):%Y-%m-%d},{code},{amount},{offset % 50}")
            spend += amount
            clicks += offset % 50
    return ("\n".join(lines) + "\n").encode(), spend, clicks


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_a_batch_the_user_starts_again(client, marketer, team):
    needs.postgresql("a real worker shares the test database")
    fiscal_year_ensure(year=2026)
    campaigns = [CampaignFactory(team=team, owner=marketer, code=f"bulk-{i}") for i in range(CAMPAIGNS)]
    content, file_spend, file_clicks = the_file([c.code for c in campaigns])
    # The last campaign-day was imported before with another amount: the fourth chunk must update it.
    last = SpendEntry.objects.create(
        campaign=campaigns[-1],
        date=D(2026, 12, 31),
        amount=Decimal("1.00"),
        currency="USD",
        amount_base=Decimal("1.00"),
        source="generic",
        external_key="generic",
    )
    client.force_login(marketer)
    upload = SimpleUploadedFile("big.csv", content, "text/csv")
    client.post(reverse("campaigns:import-upload"), {"format": "", "commit_mode": "good", "file": upload})
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_total, batch.rows_rejected) == (ImportStatus.UPLOADED, CAMPAIGNS * DAYS, 0)

    with (
        private_redis() as redis_server,
        celery_on(redis_server.url(4), transport_options={"visibility_timeout": 1}) as app,
    ):
        held = f"SELECT id FROM {SpendEntry._meta.db_table} WHERE id = %s FOR UPDATE"
        with rows_held(held, [last.pk]), worker(redis_server.url(4)) as doomed:
            started = client.post(reverse("campaigns:import-start", args=[batch.pk]), follow=True)
            assert "Import started." in started.content.decode()
            # Three chunks committed, the fourth waits on the held row: kill the worker there.
            assert wait_until(lambda: waiting_backends() and ImportBatch.objects.get().rows_done == 6000, 60), (
                doomed.output()
            )
            [backend] = waiting_backends()
            doomed.kill()
        assert wait_until(lambda: backend_gone(backend))  # PostgreSQL ends the dead worker's session

        batch.refresh_from_db()
        assert (batch.status, batch.rows_done) == (ImportStatus.RUNNING, 6000)
        assert SpendEntry.objects.count() == 6000 + 1  # the committed chunks, and the old row
        assert import_stalled(batch)
        page = client.get(reverse("campaigns:import-detail", args=[batch.pk])).content.decode()
        assert "The worker running this import stopped (6,000 of 7,300 rows done)" in page
        assert "Start again" in page

        # The user starts it again; the new worker may also get the dead worker's unacknowledged
        # task back (a 1 s visibility timeout instead of Redis' hour): whichever runs first finishes
        # the batch, the other finds it done.
        response = client.post(reverse("campaigns:import-start", args=[batch.pk]), follow=True)
        assert "Import started." in response.content.decode()
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            assert wait_until(lambda: ImportBatch.objects.get().status == ImportStatus.DONE, 60)
            assert wait_until(lambda: not DirtyMark.objects.exists(), 60)

    batch.refresh_from_db()
    assert (batch.rows_done, batch.rows_rejected) == (CAMPAIGNS * DAYS, 0)
    assert batch.rows_created + batch.rows_updated + batch.rows_unchanged == CAMPAIGNS * DAYS
    facts = SpendEntry.objects.aggregate(n=Count("id"), spend=Sum("amount"), base=Sum("amount_base"))
    assert facts == {"n": CAMPAIGNS * DAYS, "spend": file_spend, "base": file_spend}
    results = ResultFact.objects.aggregate(n=Count("id"), clicks=Sum("clicks"))
    assert results == {"n": CAMPAIGNS * DAYS, "clicks": file_clicks}
    org = Rollup.objects.get(dimension="org", grain="y", period_start=D(2026, 1, 1))
    assert (org.spend, org.clicks) == (file_spend, file_clicks)
    assert services.rebuild_all(compare=True).agreed is True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_refresh_leaves_the_marks_and_the_rerun_equals_a_rebuild(team, marketer):
    needs.postgresql("a real worker shares the test database")
    campaign = CampaignFactory(team=team, owner=marketer, start_date=D(2026, 1, 1))
    for day in range(1, 29):
        SpendEntry.objects.create(
            campaign=campaign, date=D(2026, 2, day), amount=Decimal("2"), currency="USD", amount_base=Decimal("2.00")
        )
    services.rebuild_all(compare=False)
    DirtyMark.objects.all().delete()
    before = Rollup.objects.get(dimension="org", grain="y", period_start=D(2026, 1, 1)).spend
    assert before == Decimal("56.00")

    with private_redis() as redis_server, celery_on(redis_server.url(4)) as app:
        SpendEntry.objects.create(  # marks the campaign and sends its refresh task to Redis
            campaign=campaign, date=D(2026, 2, 14), amount=Decimal("7"), currency="USD", amount_base=Decimal("7.00")
        )
        pending = DirtyMark.objects.count()
        assert pending >= 1
        cells = f"SELECT id FROM {Cell._meta.db_table} WHERE source = %s AND source_id = %s FOR UPDATE"
        with rows_held(cells, [CellSource.CAMPAIGN, campaign.pk]), worker(redis_server.url(4)) as doomed:
            # The refresh took the rollups away (first step) and waits to delete the campaign's cells.
            assert wait_until(lambda: waiting_backends(), 60), doomed.output()
            [backend] = waiting_backends()
            assert holds_write_lock(backend, Rollup)
            doomed.kill()
        assert wait_until(lambda: backend_gone(backend))

        # Nothing half-applied: the rollups are as they were and the marks wait.
        assert Rollup.objects.get(dimension="org", grain="y", period_start=D(2026, 1, 1)).spend == before
        assert DirtyMark.objects.count() == pending
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            refresh_rollups.apply_async(ignore_result=True)  # the beat's every-minute sweep
            assert wait_until(lambda: not DirtyMark.objects.exists(), 60)

    org = Rollup.objects.get(dimension="org", grain="y", period_start=D(2026, 1, 1))
    assert org.spend == Decimal("63.00") == SpendEntry.objects.aggregate(s=Sum("amount_base"))["s"]
    assert services.rebuild_all(compare=True).agreed is True


@pytest.mark.django_db
def test_a_running_import_is_restarted_only_once_its_run_is_gone(marketer, team):
    """The run's lock tells a live run from a dead one: while a session holds it, the batch cannot be
    started again and a second delivery of its task does nothing; once that session is gone, its
    uploader can start it again."""
    needs.postgresql("advisory locks")
    from django.core.exceptions import ValidationError

    from campaigns.imports.services import RUN_LOCK, import_run, import_start, import_upload

    fiscal_year_ensure(year=2026)
    CampaignFactory(team=team, owner=marketer, code="live")
    csv = SimpleUploadedFile("x.csv", b"Date,Campaign,Spend\n2026-01-05,live,10\n")
    batch = import_upload(actor=marketer, file=csv, filename="x.csv")
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.RUNNING, rows_done=0)
    batch.refresh_from_db()
    run = other_session()  # a worker's session, running the batch
    try:
        with run.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK, batch.pk])
        assert not import_stalled(batch)
        with pytest.raises(ValidationError, match=r"This import is running \(0 of 1 rows\)"):
            import_start(actor=marketer, batch=batch)
        assert import_run(batch_id=batch.pk).status == ImportStatus.RUNNING  # a second delivery: nothing
        assert not SpendEntry.objects.exists()
    finally:
        backend = run.get_backend_pid()
        run.close()  # the worker dies
    _wait_until_gone(backend)
    assert import_stalled(batch)
    batch = import_start(actor=marketer, batch=batch)
    assert batch.status == ImportStatus.QUEUED and batch.finished_at is not None  # the next run is a restart
    assert not import_stalled(batch)  # queued again: waiting for a worker, no longer offered a restart
