"""Core Celery tasks."""

from celery import shared_task
from django.conf import settings

from mops.celery import transient_retry_options
from mops.health import check_database


@shared_task(**transient_retry_options(), time_limit=30, soft_time_limit=20)
def worker_health() -> dict:
    """Run the database check from inside a worker: proves broker → worker → database → result."""
    return {"database": check_database(), "version": settings.MOPS_VERSION}
