"""Celery tasks of the workflow engine: thin wrappers around services."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from mops.celery import transient_retry_options


@shared_task(**transient_retry_options(), time_limit=60, soft_time_limit=45)
def send_notification(user_ids: list[int], subject: str, body: str) -> int:
    """Send one e-mail to each user that has an address. Returns how many were sent."""
    recipients = list(
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    for address in recipients:
        send_mail(subject, body, None, [address])
    return len(recipients)


@shared_task(**transient_retry_options(), time_limit=300, soft_time_limit=270)
def sla_sweep() -> dict:
    """Mark overdue steps, remind once per day, escalate (see ``services.sla_sweep``)."""
    from workflows.services import sla_sweep as sweep

    result = sweep()
    return {"marked_overdue": result.marked_overdue, "reminded": result.reminded, "escalated": result.escalated}
