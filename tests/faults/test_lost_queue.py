"""Redis restarts without persistence while an import waits in its queue (issue 8, "Faults"): the
task is gone with it; the beat's sweep sends the batch again once it has waited long enough, a real
worker runs it, and the facts are the file's — once."""

import datetime
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.utils import timezone

from campaigns.imports.services import import_start, import_upload, imports_requeue
from campaigns.models import ImportBatch, ImportStatus, SpendEntry
from campaigns.tasks import requeue_imports
from planning.services import fiscal_year_ensure
from tests import needs
from tests.factories import CampaignFactory
from tests.faults.redis_proc import celery_on, private_redis, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
CSV = b"Date,Campaign,Spend,Clicks\n2026-03-02,lost-queue,40.00,12\n2026-03-03,lost-queue,60.00,18\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_import_whose_task_redis_lost_is_sent_again_by_the_sweep(settings, marketer, team):
    needs.postgresql("a real worker shares the test database")
    settings.IMPORT_REQUEUE_AFTER_SECONDS = 600
    fiscal_year_ensure(year=2026)
    CampaignFactory(team=team, owner=marketer, code="lost-queue", start_date=datetime.date(2026, 1, 1))
    batch = import_upload(actor=marketer, file=SimpleUploadedFile("lost.csv", CSV, "text/csv"), filename="lost.csv")

    with private_redis() as redis_server, celery_on(redis_server.url(4)) as app:
        batch = import_start(actor=marketer, batch=batch)  # sent to Redis; no worker yet
        assert batch.status == ImportStatus.QUEUED and batch.queued_at is not None
        redis_server.stop()
        redis_server.start()  # no persistence: the queued task is gone

        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            # A batch queued a moment ago is left alone: its task may simply be waiting its turn.
            assert imports_requeue(older_than=datetime.timedelta(seconds=600)) == 0
            batch.refresh_from_db()
            assert batch.status == ImportStatus.QUEUED and not SpendEntry.objects.exists()

            # Twenty minutes later the beat's sweep sends it again and the worker runs it.
            ImportBatch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - datetime.timedelta(minutes=20))
            requeue_imports.apply_async(ignore_result=True)
            assert wait_until(lambda: ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.DONE, timeout=60)

            assert imports_requeue(older_than=datetime.timedelta(0)) == 0  # nothing queued any more

    # The lost task's twin arriving late (a broker that kept it after all) finds the batch done.
    from campaigns.tasks import run_import

    assert run_import.apply(args=[batch.pk]).get() == {"batch": batch.pk, "status": ImportStatus.DONE}
    batch.refresh_from_db()
    assert (batch.rows_created, batch.rows_rejected) == (2, 0)
    totals = SpendEntry.objects.aggregate(spend=Sum("amount_base"))
    assert SpendEntry.objects.count() == 2 and totals["spend"] == Decimal("100.00")
