"""Celery tasks of metrics: the debounced incremental refresh, the every-minute sweep that catches
marks whose task never ran (broker down), the nightly rebuild that checks the incremental path, and
the weekly e-mail report, and the fit of a response model.

One tasks module for the whole app, so that Celery's autodiscovery (``<app>.tasks``) finds them and
their names (``metrics.tasks.…``, in the beat schedule and in messages already queued) stay put. Each
is a thin wrapper over a subsystem's service; the services never import this module (they are handed
the tasks they enqueue by ``metrics.receivers.connect()``)."""

import datetime
import logging
from smtplib import SMTPException

from celery import shared_task

from metrics.dashboards import report
from metrics.rollups import marks, services
from metrics.scenarios import services as scenario_services
from mops.celery import transient_retry_options

log = logging.getLogger(__name__)


@shared_task(**transient_retry_options())
def refresh_rollups() -> dict:
    """Fold pending dirty marks into the rollups. Safe to run twice or concurrently: marks are folded
    in once each, and a run that dies leaves them for the next. A campaign or line whose refresh
    fails is set aside (``set_aside`` marks) and retried with backoff by later runs (the sweep)."""
    marks.clear_scheduled()
    run = services.refresh_pending()
    if run is None:
        return {"marks": 0}
    return {
        "marks": run.marks,
        "set_aside": run.set_aside,
        "campaigns": run.campaigns,
        "budget_lines": run.budget_lines,
        "ms": run.duration_ms,
    }


@shared_task(**transient_retry_options())
def rebuild_rollups() -> dict:
    run = services.rebuild_all(compare=True)
    if not run.agreed:
        log.error("Nightly rollup rebuild: %s rows differed from the incrementally kept ones.", run.differences)
    return {"agreed": run.agreed, "differences": run.differences, "ms": run.duration_ms}


# Idempotent per week and recipient (metrics.dashboards.report records each send as it goes), so
# transient errors — an SMTP server that drops the line half-way included — are retried: the retry
# mails only those not yet mailed. A retry reads the week from its own date: five retries at most
# ten minutes apart end on the Monday morning the beat started them, so it is the same week.
@shared_task(
    **{**transient_retry_options(), "autoretry_for": (*transient_retry_options()["autoretry_for"], SMTPException)},
    time_limit=300,
    soft_time_limit=270,
)
def send_weekly_report(today: str | None = None) -> int:
    """Send the weekly report of the last full week to every active CMO and finance user who has not
    had it; returns how many messages were sent. ``today`` (ISO date) is for resends by hand."""
    return report.send(datetime.date.fromisoformat(today) if today else None)


# Scenario planning (issue 7). Idempotent: a model already fitted (or failed) is left as it is.
@shared_task(**transient_retry_options(), time_limit=300, soft_time_limit=270)
def fit_response_model(model_id: int) -> dict:
    """Fit one response model (``metrics.scenarios.services.response_model_fit``); seconds, not minutes."""
    model = scenario_services.response_model_fit(model_id=model_id)
    return {"status": model.status, "seconds": model.fit_seconds}
