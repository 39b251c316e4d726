"""SLAs: due dates in business days, overdue marking, one reminder a day, escalation."""

import datetime

import pytest
from django.conf import settings
from django.core import mail

from mops.roles import Role
from tests.factories import UserFactory
from tests.workflows.conftest import step
from workflows import services, subjects
from workflows.models import StepAssignment, StepTask
from workflows.sla import add_business_days
from workflows.tasks import sla_sweep as sla_sweep_task

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (datetime.datetime(2026, 11, 16, 9, 0), 2, datetime.datetime(2026, 11, 18, 9, 0)),  # Mon + 2 = Wed
        (datetime.datetime(2026, 11, 19, 15, 0), 2, datetime.datetime(2026, 11, 23, 15, 0)),  # Thu + 2 = Mon
        (datetime.datetime(2026, 11, 21, 10, 0), 1, datetime.datetime(2026, 11, 24, 10, 0)),  # Sat → Mon, +1 = Tue
        (datetime.datetime(2026, 11, 20, 10, 0), 0, datetime.datetime(2026, 11, 20, 10, 0)),  # 0 days: same moment
        (datetime.datetime(2026, 11, 20, 10, 0), 5, datetime.datetime(2026, 11, 27, 10, 0)),  # a full week
    ],
)
def test_business_days_skip_weekends(start, days, due):
    assert add_business_days(start, days) == due


@pytest.fixture
def overdue_step(team, ops_admin, marketer, lead):
    lead.email = "lead@example.test"
    lead.save()
    template = services.template_create(
        actor=ops_admin,
        name="Escalating",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[step("Finance approval", stage=1, role=Role.FINANCE, sla_days=1, escalate_after_reminders=2)],
    )
    finance = UserFactory(username="slow-finance", roles=[Role.FINANCE], email="slow@example.test")
    subjects.request_create(actor=marketer, template=template, title="Late", team=team)
    task = StepTask.objects.get(name="Finance approval")
    assert list(task.assignments.values_list("user__username", flat=True)) == [finance.username]
    return task


@pytest.mark.django_db
def test_sweep_marks_overdue_and_reminds_once_a_day(overdue_step, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    day_after = overdue_step.due_at + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.sla_sweep(now=day_after)
        again = services.sla_sweep(now=day_after + datetime.timedelta(minutes=5))
    assert (first.marked_overdue, first.reminded, first.escalated) == (1, 1, 0)
    assert (again.marked_overdue, again.reminded, again.escalated) == (0, 0, 0)  # same day: no second reminder
    overdue_step.refresh_from_db()
    assert overdue_step.overdue_since == day_after
    assert overdue_step.reminders_sent == 1
    assert [m.to for m in mail.outbox] == [["slow@example.test"]]
    assert mail.outbox[0].subject.startswith("[mops] Overdue: Finance approval")


@pytest.mark.django_db
def test_escalates_to_the_team_lead_after_n_reminders(overdue_step, lead, django_capture_on_commit_callbacks):
    day1 = overdue_step.due_at + datetime.timedelta(hours=1)
    services.sla_sweep(now=day1)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.sla_sweep(now=day1 + datetime.timedelta(days=1))
    assert (result.reminded, result.escalated) == (1, 1)
    escalation = StepAssignment.objects.get(task=overdue_step, user=lead)
    assert escalation.reason == StepAssignment.Reason.ESCALATED
    assert mail.outbox[-1].to == ["lead@example.test"]
    # Escalation happens once, however many reminders follow.
    assert services.sla_sweep(now=day1 + datetime.timedelta(days=2)).escalated == 0


@pytest.mark.django_db
def test_decided_steps_are_not_reminded(overdue_step):
    finance = overdue_step.assignments.get().user
    services.task_act(actor=finance, task=overdue_step, action="approve")
    assert services.sla_sweep(now=overdue_step.due_at + datetime.timedelta(days=3)).reminded == 0


@pytest.mark.django_db
def test_sweep_task_runs_through_celery_and_is_scheduled(overdue_step):
    assert sla_sweep_task.delay().get(timeout=10) == {"marked_overdue": 0, "reminded": 0, "escalated": 0}  # not due yet
    schedule = settings.CELERY_BEAT_SCHEDULE["workflows-sla-sweep"]
    assert schedule["task"] == "workflows.tasks.sla_sweep"
