"""The Celery app. Configuration lives in Django settings under the ``CELERY_`` prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mops.settings")

app = Celery("mops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Errors worth retrying: the database or broker blinked. Anything else is a bug and fails loudly.
TRANSIENT_ERRORS = (ConnectionError, TimeoutError)


def transient_retry_options() -> dict:
    """Options for ``@shared_task(**transient_retry_options())``: retry transient errors with
    exponential backoff and jitter, at most five times."""
    from django.db import InterfaceError, OperationalError

    return {
        "autoretry_for": (*TRANSIENT_ERRORS, OperationalError, InterfaceError),
        "retry_backoff": True,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": 5,
    }
