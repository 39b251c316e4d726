"""Celery tasks of the workflow engine: thin wrappers around services (tasks import services, never
the reverse). The e-mail task is ``workflows.notifications.send_notification``, beside its messages."""

from celery import shared_task

from mops.celery import transient_retry_options
from workflows.services import sla


@shared_task(**transient_retry_options(), time_limit=300, soft_time_limit=270)
def sla_sweep() -> dict:
    """Mark overdue steps, remind once per day, escalate (see ``services.sla.sla_sweep``)."""
    result = sla.sla_sweep()
    return {"marked_overdue": result.marked_overdue, "reminded": result.reminded, "escalated": result.escalated}
