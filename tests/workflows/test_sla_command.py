"""The SLA sweep by hand (``manage.py sla_sweep``): it does what the hourly beat task does, its
``--dry-run`` writes and mails nothing, and the escalation mail counts its reminders in good English."""

import datetime
import io

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from mops.models import AuditEvent
from mops.roles import Role
from tests.factories import UserFactory
from tests.workflows.conftest import step
from workflows import services, subjects
from workflows.models import StepAssignment, StepTask

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
MONDAY = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # the request starts; due a business day later
WEDNESDAY = datetime.datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # overdue: first reminder
THURSDAY = datetime.datetime(2026, 11, 19, 10, 0, tzinfo=UTC)  # second reminder


def make_overdue_step(*, ops_admin, marketer, team, lead, escalate_after):
    lead.email = "lead@example.test"
    lead.save()
    with time_machine.travel(MONDAY, tick=False):
        template = services.template_create(
            actor=ops_admin,
            name="Escalating",
            subject_type=subjects.GENERAL_REQUEST,
            steps=[
                step(
                    "Finance approval", stage=1, role=Role.FINANCE, sla_days=1, escalate_after_reminders=escalate_after
                )
            ],
        )
        UserFactory(username="slow-finance", roles=[Role.FINANCE], email="slow@example.test")
        subjects.request_create(actor=marketer, template=template, title="Late", team=team)
    return StepTask.objects.get(name="Finance approval")


def sweep(*args, capture):
    out = io.StringIO()
    with capture(execute=True) as callbacks:
        call_command("sla_sweep", *args, stdout=out)
    return out.getvalue(), callbacks


def state(task):
    task.refresh_from_db()
    return (
        task.overdue_since,
        task.reminders_sent,
        task.last_reminded_on,
        task.escalated_at,
        StepAssignment.objects.filter(task=task).count(),
        AuditEvent.objects.count(),
    )


def test_the_command_marks_reminds_and_escalates_like_the_task(
    ops_admin, marketer, team, lead, django_capture_on_commit_callbacks
):
    task = make_overdue_step(ops_admin=ops_admin, marketer=marketer, team=team, lead=lead, escalate_after=2)
    mail.outbox.clear()
    with time_machine.travel(WEDNESDAY, tick=False):
        out, _ = sweep(capture=django_capture_on_commit_callbacks)
    assert "1 step(s) marked overdue, 1 reminder(s) queued for mailing, 0 step(s) escalated" in out
    assert [m.to for m in mail.outbox] == [["slow@example.test"]]
    task.refresh_from_db()
    assert (task.reminders_sent, task.overdue_since) == (1, WEDNESDAY)

    mail.outbox.clear()
    with time_machine.travel(THURSDAY, tick=False):
        out, _ = sweep(capture=django_capture_on_commit_callbacks)
    assert "0 step(s) marked overdue, 1 reminder(s) queued for mailing, 1 step(s) escalated" in out
    escalation = next(m for m in mail.outbox if m.subject.startswith("[mops] Escalated"))
    assert escalation.to == ["lead@example.test"]
    assert "is overdue after 2 reminders and has been escalated to you" in escalation.body


def test_dry_run_reports_what_the_sweep_would_do_and_changes_nothing(
    ops_admin, marketer, team, lead, django_capture_on_commit_callbacks
):
    task = make_overdue_step(ops_admin=ops_admin, marketer=marketer, team=team, lead=lead, escalate_after=1)
    mail.outbox.clear()
    before = state(task)
    with time_machine.travel(WEDNESDAY, tick=False):
        out, callbacks = sweep("--dry-run", capture=django_capture_on_commit_callbacks)
    assert "Dry run" in out
    assert "1 step(s) marked overdue, 1 reminder(s) queued for mailing, 1 step(s) escalated" in out
    assert state(task) == before
    assert callbacks == [] and mail.outbox == []

    # The real sweep then does exactly what the dry run announced.
    with time_machine.travel(WEDNESDAY, tick=False):
        out, _ = sweep(capture=django_capture_on_commit_callbacks)
    assert "1 step(s) marked overdue, 1 reminder(s) queued for mailing, 1 step(s) escalated" in out


def test_the_escalation_mail_says_one_reminder_in_the_singular(
    ops_admin, marketer, team, lead, django_capture_on_commit_callbacks
):
    make_overdue_step(ops_admin=ops_admin, marketer=marketer, team=team, lead=lead, escalate_after=1)
    mail.outbox.clear()
    with time_machine.travel(WEDNESDAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = services.sla_sweep()
    assert result.escalated == 1
    escalation = next(m for m in mail.outbox if m.subject.startswith("[mops] Escalated"))
    assert "is overdue after 1 reminder and has been escalated to you" in escalation.body
    assert "1 reminders" not in escalation.body
