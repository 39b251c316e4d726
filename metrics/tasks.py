"""Celery tasks of metrics: the debounced incremental refresh, the every-minute sweep that catches
marks whose task never ran (broker down), the nightly rebuild that checks the incremental path, and
the weekly e-mail report, and the fit of a response model.

One tasks module for the whole app, so that Celery's autodiscovery (``<app>.tasks``) finds them and
their names (``metrics.tasks.…``, in the beat schedule and in messages already queued) stay put. Each
is a thin wrapper over a subsystem's service; the services never import this module (they are handed
the tasks they enqueue by ``metrics.receivers.connect()``)."""

import logging

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


# No automatic retries: after a partial SMTP failure a retry would mail the first recipients again.
# Not idempotent per week either (metrics.dashboards.report): each run is one mailing to every recipient.
@shared_task(time_limit=300, soft_time_limit=270)
def send_weekly_report() -> int:
    """Send the weekly report of the last full week to every active CMO and finance user; returns
    how many messages were sent."""
    return report.send()


# Scenario planning (issue 7). Idempotent: a model already fitted (or failed) is left as it is.
@shared_task(**transient_retry_options(), time_limit=300, soft_time_limit=270)
def fit_response_model(model_id: int) -> dict:
    """Fit one response model (``metrics.scenarios.services.response_model_fit``); seconds, not minutes."""
    model = scenario_services.response_model_fit(model_id=model_id)
    return {"status": model.status, "seconds": model.fit_seconds}
