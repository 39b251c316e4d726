"""E-mails about workflow steps: on assignment, decision, completion, reminder and escalation.

Each builds its message now and queues the sending with Celery after the transaction commits, so
a rolled-back action sends nothing.
"""

from django.conf import settings
from django.urls import reverse

from workflows.tasks import send_notification


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


def step_decided(step, actor) -> None:
    instance = step.instance
    comment = f"\nComment: {step.comment}" if step.comment else ""
    _queue(
        [instance.started_by],
        f"{step.name} {step.get_status_display().lower()}: {instance.subject_repr}",
        f"{actor.get_full_name() or actor.username} marked “{step.name}” as {step.get_status_display().lower()}."
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


def step_escalated(step, leads) -> None:
    _queue(
        leads,
        f"Escalated: {step.name} — {step.instance.subject_repr}",
        f"“{step.name}” is overdue after {step.reminders_sent} reminders and has been escalated to you.\n"
        f"{_link(reverse('workflows:task-detail', args=[step.pk]))}\n",
    )
