"""The Celery app. Configuration lives in Django settings under the ``CELERY_`` prefix."""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mops.settings")


class Task(DjangoTask):
    """Tasks sent after commit (``delay_on_commit``) never fail nor hold up the request that
    committed: with the broker down the committed work stands and the sending error is logged
    (Django's robust on_commit) instead of a 500 for a change that was saved; and as nobody can
    wait for such a task's result, the sender does not subscribe to it (a subscription makes every
    later send retry the result store for ~20 s while Redis is down)."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        self._send_on_commit(args, kwargs)

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        self._send_on_commit(args, kwargs, **options)

    def _send_on_commit(self, args, kwargs, **options) -> None:
        from django.db import transaction  # here: mops.celery loads (mops/__init__) before Django is set up

        options.setdefault("ignore_result", True)

        def send():
            self.apply_async(args, kwargs, **options)

        send.__qualname__ = f"{self.name}.apply_async"  # named in the log if it fails
        # An eager task's errors are the caller's (and the tests'): only a real send is robust.
        transaction.on_commit(send, robust=not self.app.conf.task_always_eager)


app = Celery("mops", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Redis may stop, or hang (a paused VM, a dead network path), while users work: a request that
# queues a task must not hang on it. Connecting gives up after 2 s and a command after 3 s (the
# worker's BRPOP asks for at most 1 s); a publish is retried once, at once (a pooled connection
# Redis dropped when it restarted is replaced) — Celery's default three retries cost a hung Redis
# four read timeouts. Measured on a busy 2-core machine (tests/faults/test_redis_down.py): with Redis
# stopped a write takes 0.05–0.3 s and starting an import 0.1–0.3 s; with Redis hung (SIGSTOP) a
# write takes 2.2 s (the marks' client, metrics.rollups.marks) and starting an import 9 s (25 s before).
# Callers that cannot queue keep their work in the database for a sweep or a retry
# (``metrics.rollups.marks``, ``campaigns.imports.services.import_start``).
BROKER_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 3}
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


@app.on_after_configure.connect
def _bound_broker_timeouts(sender, **kwargs):
    sender.conf.broker_transport_options = {**BROKER_TIMEOUTS, **(sender.conf.broker_transport_options or {})}
    sender.conf.task_publish_retry_policy = PUBLISH_RETRY_POLICY


# Errors worth retrying: the database or broker blinked. Anything else is a bug and fails loudly.
TRANSIENT_ERRORS = (ConnectionError, TimeoutError)


def transient_retry_options() -> dict:
    """Options for ``@shared_task(**transient_retry_options())``: retry transient errors with
    exponential backoff and jitter, at most five times."""
    from django.db import InterfaceError, OperationalError  # here: loaded before Django is set up

    return {
        "autoretry_for": (*TRANSIENT_ERRORS, OperationalError, InterfaceError),
        "retry_backoff": True,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": 5,
    }
