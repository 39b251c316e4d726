"""The SLA sweep: overdue marking, daily reminders, escalation."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mops.services import audit
from workflows import notifications, selectors
from workflows.models import (
    StepAssignment,
    StepKind,
    StepStatus,
    StepTask,
)

# --- SLAs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    marked_overdue: int
    reminded: int
    escalated: int


def sla_sweep(*, now=None, dry_run: bool = False) -> SweepResult:
    """Mark overdue steps, remind their assignees once per day, escalate after N reminders.

    Safe to run twice at once or twice a day: each reminder is claimed with a conditional UPDATE on
    ``last_reminded_on``, so a step gets at most one reminder per day.

    With ``dry_run`` nothing is written and no mail is queued: the counts are those a sweep at
    ``now`` would report (read from the same querysets; a sweep running at the same time could
    claim some of them first).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    overdue = StepTask.objects.filter(status=StepStatus.ACTIVE, due_at__lt=now)
    candidates = overdue.exclude(last_reminded_on=today).select_related("instance", "template_step")
    if dry_run:
        return _sweep_preview(overdue, candidates)
    marked = overdue.filter(overdue_since__isnull=True).update(overdue_since=now)
    reminded = escalated = 0
    for step in candidates:
        with transaction.atomic():
            claimed = (
                StepTask.objects.filter(pk=step.pk, status=StepStatus.ACTIVE)
                .exclude(last_reminded_on=today)
                .update(last_reminded_on=today, reminders_sent=F("reminders_sent") + 1)
            )
            if not claimed:
                continue  # another sweep reminded it today, or it was decided meanwhile
            step.reminders_sent += 1
            reminded += 1
            notifications.step_reminder(step)
            if _escalates(step, step.reminders_sent):
                leads = selectors.team_leads(step.instance.team_id)
                leads = [
                    u for u in leads if not (step.kind == StepKind.APPROVAL and u.pk == step.instance.started_by_id)
                ]
                StepAssignment.objects.bulk_create(
                    [StepAssignment(task=step, user=u, reason=StepAssignment.Reason.ESCALATED) for u in leads],
                    ignore_conflicts=True,
                )
                StepTask.objects.filter(pk=step.pk).update(escalated_at=now)
                audit(
                    actor=None,
                    action="step.escalate",
                    obj=step.instance,
                    after={"step": step.name, "to": [u.username for u in leads]},
                )
                notifications.step_escalated(step, leads)
                escalated += 1
    return SweepResult(marked_overdue=marked, reminded=reminded, escalated=escalated)


def _escalates(step, reminders_sent: int) -> bool:
    """Does a step that has had ``reminders_sent`` reminders go to its team leads now?"""
    limit = step.template_step.escalate_after_reminders
    return bool(limit) and reminders_sent >= limit and step.escalated_at is None


def _sweep_preview(overdue, candidates) -> SweepResult:
    """What ``sla_sweep`` would do now, read only: the same conditions as its writes (each candidate
    would get one more reminder)."""
    steps = list(candidates)
    return SweepResult(
        marked_overdue=overdue.filter(overdue_since__isnull=True).count(),
        reminded=len(steps),
        escalated=sum(_escalates(step, step.reminders_sent + 1) for step in steps),
    )
