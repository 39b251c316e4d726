"""Celery tasks of campaigns: thin wrappers that call services."""

import datetime

from celery import shared_task
from django.conf import settings

from campaigns.imports.services import import_check, import_run, imports_requeue
from mops.celery import transient_retry_options


# A 50 MB export is a few hundred thousand rows: minutes, not the default ten. The outcome is on the
# batch, so the result is not stored: sending it then never waits on the result backend (Redis down).
@shared_task(**transient_retry_options(), time_limit=3600, soft_time_limit=3300, ignore_result=True)
def run_import(batch_id: int) -> dict:
    """Write an import batch's facts (``campaigns.imports.services.import_run``); safe to run twice."""
    batch = import_run(batch_id=batch_id)
    return {"batch": batch.pk, "status": batch.status}


# A large upload's check (``campaigns.imports.services.import_check``): the file is read, nothing written.
@shared_task(**transient_retry_options(), time_limit=1800, soft_time_limit=1700, ignore_result=True)
def check_import(batch_id: int) -> dict:
    """Check a large upload's rows in the worker, not in the web request; safe to run twice."""
    batch = import_check(batch_id=batch_id)
    return {"batch": batch.pk, "status": batch.status}


@shared_task(ignore_result=True)
def requeue_imports() -> int:
    """The beat's sweep: send again imports whose task the broker lost (``imports_requeue``)."""
    return imports_requeue(older_than=datetime.timedelta(seconds=settings.IMPORT_REQUEUE_AFTER_SECONDS))
