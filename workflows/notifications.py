"""E-mails about workflow steps: on assignment, decision, completion, reminder and escalation.

Each builds its message now and queues the sending with Celery after the transaction commits, so
a rolled-back action sends nothing.

The sending task lives here, beside the messages, rather than in ``workflows.tasks``: the services
import this module, and ``workflows.tasks`` imports the services, so tasks → services →
notifications is the one direction (its registered name stays ``workflows.tasks.send_notification``
for messages already queued).
"""

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from mops.celery import transient_retry_options


@shared_task(name="workflows.tasks.send_notification", **transient_retry_options(), time_limit=60, soft_time_limit=45)
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


def _link(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _queue(users, subject: str, body: str) -> None:
    user_ids = sorted({user.pk for user in users if user is not None})
    if user_ids:
        send_notification.delay_on_commit(user_ids, f"[mops] {subject}", body)


def step_assigned(step, users) -> None:
    instance = step.instance
    _queue(
        users,
        f"{step.name}: {instance.subject_repr}",
        f"A step waits for you in “{instance.template.name}” on {instance.subject_repr}.\n"
        f"Step: {step.name} ({step.get_kind_display().lower()}), due {step.due_at:%Y-%m-%d %H:%M}.\n"
        f"Open it: {_link(reverse('workflows:task-detail', args=[step.pk]))}\n",
    )


def _name(user) -> str:
    return user.get_full_name() or user.username


def step_decided(step, actor) -> None:
    instance = step.instance
    comment = f"\nComment: {step.comment}" if step.comment else ""
    acted_for = f" for {_name(step.decided_for)}" if step.decided_for_id else ""
    _queue(
        [instance.started_by],
        f"{step.name} {step.get_status_display().lower()}: {instance.subject_repr}",
        f"{_name(actor)}{acted_for} marked “{step.name}” as {step.get_status_display().lower()}."
        f"{comment}\nFollow it: {_link(reverse('workflows:instance-detail', args=[instance.pk]))}\n",
    )


def instance_finished(instance) -> None:
    _queue(
        [instance.started_by],
        f"{instance.get_status_display()}: {instance.subject_repr}",
        f"“{instance.template.name}” on {instance.subject_repr} is {instance.get_status_display().lower()}.\n"
        f"{_link(reverse('workflows:instance-detail', args=[instance.pk]))}\n",
    )


def step_reminder(step) -> None:
    _queue(
        [a.user for a in step.assignments.select_related("user")],
        f"Overdue: {step.name} — {step.instance.subject_repr}",
        f"“{step.name}” was due {step.due_at:%Y-%m-%d %H:%M} and still waits for you "
        f"(reminder {step.reminders_sent}).\n{_link(reverse('workflows:task-detail', args=[step.pk]))}\n",
    )


def _reminders(count: int) -> str:
    return f"{count} reminder" if count == 1 else f"{count} reminders"


def step_escalated(step, leads) -> None:
    _queue(
        leads,
        f"Escalated: {step.name} — {step.instance.subject_repr}",
        f"“{step.name}” is overdue after {_reminders(step.reminders_sent)} and has been escalated to you.\n"
        f"{_link(reverse('workflows:task-detail', args=[step.pk]))}\n",
    )
