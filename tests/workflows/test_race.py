"""Two approvers deciding the same step at the same moment, on real concurrent connections: exactly
one decision is recorded, the other answer is a conflict, and the workflow moves on once.

Needs PostgreSQL (row locks across connections); each thread has its own connection, so the data
is created and committed in the main thread first (a transactional test, flushed afterwards).
"""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from mops.models import AuditEvent
from mops.roles import Role
from tests.workflows.conftest import instance_of, step
from workflows import services, subjects
from workflows.models import InstanceStatus, StepStatus, StepTask, WorkflowInstance
from workflows.services import ActResult
from workflows.states import TransitionConflict

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("needs_postgresql"),
]


def run_at_once(*calls):
    """Run each call in its own thread (and DB connection), released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()  # this thread's connection; the test database is flushed afterwards

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return outcomes


@pytest.fixture
def contested_step(ops_admin, team, marketer, finance, second_finance, cmo):
    """A request whose stage 1 is one finance approval routed to both finance users (either may
    decide it); stage 2 is the CMO's."""
    template = services.template_create(
        actor=ops_admin,
        name="Finance then CMO",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[step("Finance approval", stage=1, role=Role.FINANCE), step("CMO approval", stage=2, role=Role.CMO)],
    )
    request = subjects.request_create(actor=marketer, template=template, title="Contested", team=team)
    task = StepTask.objects.get(instance=instance_of(request), name="Finance approval")
    assert task.status == StepStatus.ACTIVE
    assert set(task.assignments.values_list("user__username", flat=True)) == {"fred-finance", "fiona-finance"}
    return task


def assert_decided_once(task, winner):
    instance = WorkflowInstance.objects.get(pk=task.instance_id)
    task.refresh_from_db()
    assert (task.status, task.decided_by) == (StepStatus.APPROVED, winner)
    events = AuditEvent.objects.filter(object_id=str(instance.pk), content_type__model="workflowinstance")
    assert events.filter(action="step.approve").count() == 1
    # The workflow moved on exactly once: stage 2 activated once, its step routed once.
    assert (instance.status, instance.current_stage) == (InstanceStatus.RUNNING, 2)
    assert [e.after["step"] for e in events.filter(action="step.activate").order_by("id")] == [
        "Finance approval",
        "CMO approval",
    ]
    cmo_step = instance.steps.get(name="CMO approval")
    assert cmo_step.status == StepStatus.ACTIVE
    assert list(cmo_step.assignments.values_list("user__username", flat=True)) == ["carol-cmo"]


def test_two_approvers_at_once_one_wins_the_other_gets_a_conflict(contested_step, finance, second_finance):
    outcomes = run_at_once(
        lambda: services.task_act(actor=finance, task=contested_step, action="approve", comment="fred"),
        lambda: services.task_act(actor=second_finance, task=contested_step, action="approve", comment="fiona"),
    )
    wins = [o for o in outcomes if isinstance(o, ActResult)]
    conflicts = [o for o in outcomes if isinstance(o, TransitionConflict)]
    assert (len(wins), len(conflicts)) == (1, 1), outcomes
    winner = wins[0].task.decided_by
    assert str(conflicts[0]) == f"This step is already approved by {winner.username}."
    assert_decided_once(contested_step, winner)


def test_two_approvers_at_once_over_http_get_200_and_409(contested_step, finance, second_finance):
    def approve(user):
        client = APIClient()
        client.force_authenticate(user=user)
        return client.post(f"/api/v1/tasks/{contested_step.pk}/approve/", {}, format="json")

    responses = run_at_once(lambda: approve(finance), lambda: approve(second_finance))
    assert sorted(r.status_code for r in responses) == [200, 409], responses
    won = next(r for r in responses if r.status_code == 200).json()
    lost = next(r for r in responses if r.status_code == 409).json()
    assert lost == {"detail": f"This step is already approved by {won['decided_by']}."}
    winner = finance if won["decided_by"] == finance.username else second_finance
    assert_decided_once(contested_step, winner)
