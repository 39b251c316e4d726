"""The workflow pages people act on: my tasks, the task page (deciding, sending back, reassigning)
and the instance page — who may open what and why they cannot act."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mops.models import AuditEvent
from tests.workflows.conftest import flash, instance_of, lead_task, url
from workflows import subjects
from workflows.models import (
    InstanceStatus,
    Request,
    RequestStatus,
    StepStatus,
    StepTask,
)
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db


# --- my tasks -------------------------------------------------------------------------------


def test_my_tasks_lists_what_waits_for_me(client, start_request, lead):
    start_request()
    client.force_login(lead)
    response = client.get(url("my-tasks"))
    assert response.status_code == 200
    assert [task.name for task in response.context["page"]] == ["Lead approval"]
    assert b"Trade show booth" in response.content
    assert b"Spend approval" in response.content


def test_my_tasks_shows_the_requests_i_started(client, start_request, marketer, lead):
    start_request(title="Booth at SaaStr")
    client.force_login(marketer)
    response = client.get(url("my-tasks"))
    assert list(response.context["page"]) == []
    assert [i.subject_repr for i in response.context["started"]] == ["Booth at SaaStr"]


def test_overdue_tasks_get_a_badge_and_a_filter(client, start_request, lead):
    start_request(title="Late one")
    start_request(title="On time")
    StepTask.objects.filter(instance__subject_repr="Late one").update(due_at=timezone.now() - timedelta(days=1))
    client.force_login(lead)
    response = client.get(url("my-tasks"))
    assert response.content.count(b">overdue</span>") == 1
    response = client.get(url("my-tasks"), {"overdue": "on"})
    assert [t.instance.subject_repr for t in response.context["page"]] == ["Late one"]


def test_my_tasks_filters_by_kind(client, start_request, lead):
    start_request()
    client.force_login(lead)
    assert len(client.get(url("my-tasks"), {"kind": "approval"}).context["page"]) == 1
    assert len(client.get(url("my-tasks"), {"kind": "task"}).context["page"]) == 0


def test_my_tasks_query_count_does_not_grow_with_tasks(client, start_request, lead, django_assert_max_num_queries):
    for number in range(20):
        start_request(title=f"Request {number}")
    client.force_login(lead)
    with django_assert_max_num_queries(10):
        response = client.get(url("my-tasks"))
    assert len(response.context["page"]) == 20


# --- the task page --------------------------------------------------------------------------


def test_assignee_sees_the_decision_buttons(client, start_request, lead):
    start_request()
    client.force_login(lead)
    response = client.get(url("task-detail", lead_task().pk))
    assert response.status_code == 200
    assert [a for a, _, _ in response.context["actions"]] == ["approve", "reject", "return"]
    assert b"Send back for changes" in response.content
    assert b'data-step-status="active"' in response.content


def test_teammate_sees_the_task_and_why_they_cannot_act(client, start_request, teammate):
    start_request()
    client.force_login(teammate)
    response = client.get(url("task-detail", lead_task().pk))
    assert response.status_code == 200
    assert response.context["actions"] == []
    assert b"This step is not assigned to you." in response.content


def test_requester_sees_why_they_cannot_approve(client, team, template, marketer, lead):
    team.memberships.filter(user=marketer).update(is_lead=True)  # a second lead: the other decides
    subjects.request_create(actor=marketer, template=template, title="Own", team=team)
    lead_step = lead_task()
    lead_step.assignments.create(user=marketer)
    client.force_login(marketer)
    response = client.get(url("task-detail", lead_step.pk))
    assert b"separation of duties" in response.content


def test_outsider_guessing_a_task_id_gets_404(client, start_request, outsider):
    start_request()
    client.force_login(outsider)
    assert client.get(url("task-detail", lead_task().pk)).status_code == 404
    assert client.post(url("task-detail", lead_task().pk), {"action": "approve"}).status_code == 404
    assert lead_task().status == StepStatus.ACTIVE


def test_approve_from_the_task_page(client, start_request, lead):
    request = start_request()
    client.force_login(lead)
    response = client.post(url("task-detail", lead_task().pk), {"action": "approve", "comment": "Fine by me"})
    assert response.status_code == 302
    assert response.url == url("my-tasks")
    task = lead_task()
    assert (task.status, task.decided_by, task.comment) == (StepStatus.APPROVED, lead, "Fine by me")
    assert instance_of(request).steps.get(name="Finance approval").status == StepStatus.ACTIVE
    assert any("approved" in message for message in flash(response))


def test_reject_without_a_comment_is_a_form_error_and_changes_nothing(client, start_request, lead):
    start_request()
    client.force_login(lead)
    response = client.post(url("task-detail", lead_task().pk), {"action": "reject", "comment": " "})
    assert response.status_code == 200
    assert "comment" in response.context["action_form"].errors
    assert b"a comment is required to reject" in response.content
    assert lead_task().status == StepStatus.ACTIVE
    assert not AuditEvent.objects.filter(action="step.reject").exists()


def test_reject_with_a_comment_rejects_the_request(client, start_request, lead):
    request = start_request()
    client.force_login(lead)
    client.post(url("task-detail", lead_task().pk), {"action": "reject", "comment": "No budget left"})
    assert Request.objects.get(pk=request.pk).status == RequestStatus.REJECTED
    assert instance_of(request).status == InstanceStatus.REJECTED


def test_send_back_then_the_requester_resubmits(client, start_request, marketer, lead):
    request = start_request()
    client.force_login(lead)
    client.post(url("task-detail", lead_task().pk), {"action": "return", "comment": "Add the quote"})
    instance = instance_of(request)
    assert instance.status == InstanceStatus.RETURNED

    client.force_login(marketer)
    response = client.get(url("instance-detail", instance.pk))
    assert response.context["can_resubmit"] is True
    assert b"Add the quote" in response.content  # the comment, in the strip and the history
    response = client.post(
        url("instance-detail", instance.pk), {"operation": "resubmit", "resubmit-comment": "Quote attached"}
    )
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    event = AuditEvent.objects.get(action="workflow.resubmit")
    assert event.after["comment"] == "Quote attached"


def test_a_second_approval_shows_the_conflict(client, start_request, lead):
    start_request()
    client.force_login(lead)
    task_url = url("task-detail", lead_task().pk)
    client.post(task_url, {"action": "approve"})
    response = client.post(task_url, {"action": "approve"}, follow=True)
    assert response.redirect_chain == [(task_url, 302)]
    assert "This step is already approved by lena-lead." in flash(response)
    assert b"already approved by lena-lead" in response.content
    assert AuditEvent.objects.filter(action="step.approve").count() == 1


def test_acting_on_a_step_not_assigned_is_a_403_with_the_reason(client, start_request, finance):
    start_request()
    client.force_login(finance)  # sees every workflow, but this step waits for the lead
    response = client.post(url("task-detail", lead_task().pk), {"action": "approve"})
    assert response.status_code == 403
    assert b"This step is not assigned to you." in response.content
    assert lead_task().status == StepStatus.ACTIVE


def test_the_team_lead_reassigns_a_step(client, start_request, lead, teammate):
    start_request()
    client.force_login(lead)
    assert client.get(url("task-detail", lead_task().pk)).context["reassign_form"] is not None
    response = client.post(url("task-reassign", lead_task().pk), {"to_user": teammate.pk, "comment": "Holiday"})
    assert response.status_code == 302
    assert [t.name for t in my_tasks(teammate)] == ["Lead approval"]
    assert list(my_tasks(lead)) == []


def test_reassigning_an_approval_to_the_requester_is_a_form_error(client, start_request, lead, marketer):
    start_request()
    client.force_login(lead)
    response = client.post(url("task-reassign", lead_task().pk), {"to_user": marketer.pk})
    assert response.status_code == 200
    assert "to_user" in response.context["reassign_form"].errors
    assert [t.name for t in my_tasks(lead)] == ["Lead approval"]


def test_marketers_cannot_reassign(client, start_request, teammate, lead):
    start_request()
    client.force_login(teammate)
    assert client.get(url("task-detail", lead_task().pk)).context["reassign_form"] is None
    assert client.post(url("task-reassign", lead_task().pk), {"to_user": teammate.pk}).status_code == 403
    assert [t.name for t in my_tasks(lead)] == ["Lead approval"]


def test_reassign_is_post_only(client, start_request, lead):
    start_request()
    client.force_login(lead)
    assert client.get(url("task-reassign", lead_task().pk)).status_code == 405


# --- the instance page ----------------------------------------------------------------------


def test_instance_page_shows_subject_strip_and_history(client, start_request, marketer, lead):
    request = start_request()
    instance = instance_of(request)
    client.force_login(marketer)
    response = client.get(url("instance-detail", instance.pk))
    assert response.status_code == 200
    assert response.context["subject_url"] == url("request-detail", request.pk)
    assert [s.name for s in response.context["steps"]] == ["Lead approval", "Finance approval", "CMO approval"]
    assert b"started the workflow" in response.content
    assert response.context["can_cancel"] is True
    assert response.context["can_resubmit"] is False


def test_outsider_gets_404_for_an_instance(client, start_request, outsider):
    instance = instance_of(start_request())
    client.force_login(outsider)
    assert client.get(url("instance-detail", instance.pk)).status_code == 404
    assert client.post(url("instance-detail", instance.pk), {"operation": "cancel"}).status_code == 404


def test_the_starter_cancels(client, start_request, marketer, lead):
    request = start_request()
    client.force_login(marketer)
    client.post(
        url("instance-detail", instance_of(request).pk), {"operation": "cancel", "cancel-comment": "Not needed"}
    )
    assert instance_of(request).status == InstanceStatus.CANCELLED
    assert list(my_tasks(lead)) == []


def test_a_teammate_cannot_cancel(client, start_request, teammate):
    request = start_request()
    client.force_login(teammate)
    instance = instance_of(request)
    assert client.get(url("instance-detail", instance.pk)).context["can_cancel"] is False
    assert client.post(url("instance-detail", instance.pk), {"operation": "cancel"}).status_code == 403
    assert instance_of(request).status == InstanceStatus.RUNNING
