"""Dirty marks: what changed and is not yet in the rollups, and the debounced refresh they start.

Marks are rows in the database, written by the receivers in ``metrics.receivers`` whenever facts or
budgets change. After the writer's commit one refresh task is scheduled for a short while later
(``METRICS_REFRESH_DELAY_MS``); every change until that task starts rides on it, so a burst of ten
thousand changes is a few task runs. If the broker is down the marks wait in the database and the
every-minute sweep (beat) catches up once it is back.

The refresh task (``metrics.tasks.refresh_rollups``) imports this module; this module never imports
the tasks: ``metrics.receivers.connect()`` (``MetricsConfig.ready``) hands it the task to schedule
(``use_refresh_task``).
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q

from metrics.rollups.models import CellSource, DirtyMark
from mops.celery import app as celery_app

log = logging.getLogger(__name__)
SCHEDULED_KEY = "mops:metrics:refresh-scheduled"
_redis = None
_refresh_task = None  # metrics.tasks.refresh_rollups, given by use_refresh_task at start-up


def use_refresh_task(task) -> None:
    """The Celery task that folds the marks in (``metrics.tasks.refresh_rollups``)."""
    global _refresh_task
    _refresh_task = task


def mark_campaigns(campaign_ids, start=None, end=None) -> None:
    """Campaign facts changed between ``start`` and ``end`` (None: any date, e.g. the campaign's own
    channel, team or planned cost changed)."""
    ids = {int(i) for i in campaign_ids}
    if not ids:
        return
    if start is not None and end is not None and start > end:
        start, end = end, start
    DirtyMark.objects.bulk_create(
        [DirtyMark(source=CellSource.CAMPAIGN, source_id=i, start=start, end=end) for i in sorted(ids)]
    )
    transaction.on_commit(schedule_refresh)


def mark_budget_lines(line_ids) -> None:
    ids = {int(i) for i in line_ids}
    if not ids:
        return
    DirtyMark.objects.bulk_create([DirtyMark(source=CellSource.BUDGET_LINE, source_id=i) for i in sorted(ids)])
    transaction.on_commit(schedule_refresh)


@dataclass(frozen=True)
class SetAside:
    """A campaign or budget line whose refresh failed: its changes wait, retried with backoff
    (``metrics.rollups.services.refresh_pending``) while every other change keeps flowing."""

    source: str  # CellSource
    source_id: int
    marks: int
    attempts: int
    last_error: str
    next_attempt_at: datetime.datetime
    since: datetime.datetime  # the oldest of its waiting changes

    @property
    def label(self) -> str:
        return f"{'Campaign' if self.source == CellSource.CAMPAIGN else 'Budget line'} {self.source_id}"


def set_aside(limit: int | None = 50) -> list[SetAside]:
    """The set-aside campaigns and lines, the longest waiting first (one GROUP BY over the few
    set-aside marks, on their partial index)."""
    rows = (
        DirtyMark.objects.filter(attempts__gt=0)
        .values("source", "source_id")
        # A unit's marks are set aside together, so they share their error and attempts.
        .annotate(
            marks=Count("id"),
            attempts=Max("attempts"),
            last_error=Max("last_error"),
            next_attempt_at=Min("next_attempt_at"),
            since=Min("created_at"),
        )
        .order_by("since", "source", "source_id")[:limit]
    )
    return [SetAside(**row) for row in rows]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def health_check() -> str:
    """``/healthz``'s "rollups": "ok", or "degraded: …" naming the changes set aside (one query)."""
    counts = DirtyMark.objects.filter(attempts__gt=0).aggregate(
        marks=Count("id"),
        campaigns=Count("source_id", distinct=True, filter=Q(source=CellSource.CAMPAIGN)),
        lines=Count("source_id", distinct=True, filter=Q(source=CellSource.BUDGET_LINE)),
    )
    if not counts["marks"]:
        return "ok"
    where = " and ".join(
        _count(n, noun) for n, noun in ((counts["campaigns"], "campaign"), (counts["lines"], "budget line")) if n
    )
    return (
        f"degraded: {_count(counts['marks'], 'change')} to {where} set aside after failing to refresh, "
        "retried with backoff (see the ops dashboard)"
    )


def schedule_refresh() -> None:
    """Start the refresh task unless one is already on its way. Never fails the caller: a broker
    that is down leaves the marks for the sweep."""
    refresh_rollups = _refresh_task
    try:
        if celery_app.conf.task_always_eager:
            refresh_rollups.delay()
        elif not str(celery_app.conf.broker_url).startswith(("redis://", "rediss://")):
            _send(refresh_rollups)  # no flag to share
        elif _client().set(SCHEDULED_KEY, 1, nx=True, px=settings.METRICS_REFRESH_DELAY_MS + 5000):
            _send(refresh_rollups)
    except Exception:  # the broker or Redis is down: the marks are safe in the database
        log.warning("Could not schedule the rollup refresh; the sweep will pick the changes up.", exc_info=True)


def _send(task) -> None:
    # Nobody waits for the result: not subscribing to it keeps a publish while Redis is down at
    # the broker's bounded retry (under a second) instead of the result backend's ~20 s of reconnects.
    task.apply_async(countdown=settings.METRICS_REFRESH_DELAY_MS / 1000, ignore_result=True)


def clear_scheduled() -> None:
    """Called by the refresh task as it starts: changes from now on schedule the next run."""
    if celery_app.conf.task_always_eager or not str(celery_app.conf.broker_url).startswith(("redis://", "rediss://")):
        return
    try:
        _client().delete(SCHEDULED_KEY)
    except Exception:  # the key expires by itself
        log.warning("Could not clear the refresh flag in Redis.", exc_info=True)


def _client():
    global _redis
    if _redis is None:
        import redis  # only with a Redis broker: the embedded run (eager, no Redis) never loads it

        _redis = redis.Redis.from_url(celery_app.conf.broker_url, socket_timeout=1, socket_connect_timeout=1)
    return _redis
