"""The workflow API for running workflows: instances (who sees them, filters, cancel, return and
resubmit) and my tasks with one action per decision — as requester, approver, teammate, outsider."""

import datetime

import pytest

from mops.models import AuditEvent
from mops.roles import Role
from tests.factories import UserFactory
from tests.workflows.conftest import instance_of, results, step, task_of
from workflows import services, subjects
from workflows.models import (
    Request,
    RequestStatus,
    StepStatus,
    StepTask,
)

pytestmark = pytest.mark.django_db

INSTANCES = "/api/v1/workflow-instances/"

TASKS = "/api/v1/tasks/"


# --- instances ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["marketer", "teammate", "lead", "finance", "cmo", "ops_admin"])
def test_instances_are_visible_to_requester_team_approvers_and_oversight(api_as, lead, start_request, request, who):
    instance = instance_of(start_request(amount="60000"))
    user = request.getfixturevalue(who)
    [listed] = results(api_as(user).get(INSTANCES))
    assert listed["id"] == instance.pk
    detail = api_as(user).get(f"{INSTANCES}{instance.pk}/").json()
    assert detail == listed
    assert detail["template"] == "spend-approval"
    assert (detail["template_name"], detail["template_version"]) == ("Spend approval", 1)
    assert (detail["subject_type"], detail["subject_repr"], detail["team"]) == (
        "general_request",
        "Trade show booth",
        "na",
    )
    assert (detail["status"], detail["started_by"], detail["finished_at"]) == ("running", "alice", None)
    assert [(s["name"], s["stage"], s["kind"], s["status"], s["assignees"]) for s in detail["steps"]] == [
        ("Lead approval", 1, "approval", "active", ["lena-lead"]),
        ("Finance approval", 2, "approval", "pending", []),
        ("CMO approval", 2, "approval", "pending", []),
    ]
    assert detail["steps"][0]["due_at"] is not None


def test_outsider_does_not_see_another_teams_instance(api_as, start_request, outsider):
    instance = instance_of(start_request())
    assert results(api_as(outsider).get(INSTANCES)) == []
    assert api_as(outsider).get(f"{INSTANCES}{instance.pk}/").status_code == 404
    assert api_as(outsider).post(f"{INSTANCES}{instance.pk}/cancel/", {}).status_code == 404


def test_instance_filters(api_as, start_request, cmo, lead):
    first = instance_of(start_request(title="First"))
    second = instance_of(start_request(title="Second"))
    services.task_act(actor=lead, task=first.steps.get(status="active"), action="reject", comment="No")
    client = api_as(cmo)
    assert [i["id"] for i in results(client.get(f"{INSTANCES}?status=rejected"))] == [first.pk]
    assert [i["id"] for i in results(client.get(f"{INSTANCES}?subject_id={second.subject_id}"))] == [second.pk]
    assert len(results(client.get(f"{INSTANCES}?subject_type=general_request&template=spend-approval"))) == 2
    assert results(client.get(f"{INSTANCES}?template=other")) == []


def test_requester_cancels_and_a_teammate_may_not(api_as, start_request, marketer, teammate):
    request = start_request()
    instance = instance_of(request)
    refused = api_as(teammate).post(f"{INSTANCES}{instance.pk}/cancel/", {})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only the person who started this workflow or an ops admin can cancel it."}
    response = api_as(marketer).post(f"{INSTANCES}{instance.pk}/cancel/", {"comment": "Not needed"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert {s["status"] for s in response.json()["steps"]} == {"skipped"}
    assert Request.objects.get(pk=request.pk).status == RequestStatus.CANCELLED
    again = api_as(marketer).post(f"{INSTANCES}{instance.pk}/cancel/", {})
    assert again.status_code == 409


def test_return_and_resubmit_through_the_api(api_as, start_request, marketer, lead):
    instance = instance_of(start_request())
    task = task_of(lead)
    returned = api_as(lead).post(f"{TASKS}{task.pk}/return/", {"comment": "Attach the quote"})
    assert returned.status_code == 200, returned.json()
    assert (returned.json()["status"], returned.json()["instance_status"]) == ("returned", "returned")

    not_mine = api_as(lead).post(f"{INSTANCES}{instance.pk}/resubmit/", {})
    assert not_mine.status_code == 403
    assert not_mine.json() == {"detail": "Only the person who started this workflow can resubmit it."}
    response = api_as(marketer).post(f"{INSTANCES}{instance.pk}/resubmit/", {"comment": "Quote attached"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "running"
    assert [(s["name"], s["round"], s["status"]) for s in body["steps"]] == [
        ("Lead approval", 2, "active"),
        ("Finance approval", 2, "pending"),
        ("CMO approval", 2, "skipped"),
    ]
    assert api_as(marketer).post(f"{INSTANCES}{instance.pk}/resubmit/", {}).status_code == 409


def test_instance_list_query_count_is_constant(api_as, start_request, lead, cmo, django_assert_max_num_queries):
    for number in range(15):
        start_request(title=f"Request {number}")
    for user in (lead, cmo):  # a team member (visibility by joins) and an oversight role
        client = api_as(user)
        # count, page, steps, their assignees, the role check: the same for 1 row or 50.
        with django_assert_max_num_queries(5):
            assert len(results(client.get(INSTANCES))) == 15


# --- tasks ----------------------------------------------------------------------------------


def test_my_tasks_lists_what_waits_for_me(api_as, start_request, lead, finance, marketer):
    instance = instance_of(start_request())
    [task] = results(api_as(lead).get(TASKS))
    assert {k: task[k] for k in ("name", "kind", "stage", "status", "overdue", "instance")} == {
        "name": "Lead approval",
        "kind": "approval",
        "stage": 1,
        "status": "active",
        "overdue": False,
        "instance": instance.pk,
    }
    assert (task["subject_repr"], task["subject_type"], task["template_name"]) == (
        "Trade show booth",
        "general_request",
        "Spend approval",
    )
    assert (task["requester"], task["assignees"], task["instance_status"]) == ("alice", ["lena-lead"], "running")
    assert task["due_at"] is not None
    assert results(api_as(finance).get(TASKS)) == []  # stage 2 has not started
    assert results(api_as(marketer).get(TASKS)) == []


def test_my_tasks_filters(api_as, start_request, lead):
    start_request()
    client = api_as(lead)
    assert len(results(client.get(f"{TASKS}?kind=approval&subject_type=general_request"))) == 1
    assert results(client.get(f"{TASKS}?kind=task")) == []
    assert results(client.get(f"{TASKS}?subject_type=budget_transfer")) == []
    assert results(client.get(f"{TASKS}?overdue=1")) == []
    StepTask.objects.filter(status="active").update(due_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    [overdue] = results(client.get(f"{TASKS}?overdue=true"))
    assert overdue["name"] == "Lead approval"
    bad = client.get(f"{TASKS}?kind=dance")
    assert bad.status_code == 400
    assert list(bad.json()) == ["kind"]


def test_full_approval_through_the_api(api_as, start_request, lead, finance, cmo):
    request = start_request(amount="60000")
    instance = instance_of(request)
    response = api_as(lead).post(f"{TASKS}{task_of(lead).pk}/approve/", {"comment": "Good value"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["decided_by"], body["comment"], body["instance_status"]) == (
        "approved",
        "lena-lead",
        "Good value",
        "running",
    )
    assert api_as(finance).post(f"{TASKS}{task_of(finance).pk}/approve/", {}).json()["instance_status"] == "running"
    last = api_as(cmo).post(f"{TASKS}{task_of(cmo).pk}/approve/")
    assert last.status_code == 200
    assert last.json()["instance_status"] == "completed"
    detail = api_as(cmo).get(f"{INSTANCES}{instance.pk}/").json()
    assert detail["status"] == "completed"
    assert [(s["status"], s["decided_by"]) for s in detail["steps"]] == [
        ("approved", "lena-lead"),
        ("approved", "fred-finance"),
        ("approved", "carol-cmo"),
    ]
    assert Request.objects.get(pk=request.pk).status == RequestStatus.APPROVED


def test_the_approver_still_reads_the_task_after_acting(api_as, start_request, lead):
    start_request()
    task = task_of(lead)
    api_as(lead).post(f"{TASKS}{task.pk}/approve/")
    response = api_as(lead).get(f"{TASKS}{task.pk}/")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"


@pytest.mark.parametrize("action", ["reject", "return"])
def test_reject_and_return_need_a_comment(api_as, start_request, lead, action):
    start_request()
    task = task_of(lead)
    response = api_as(lead).post(f"{TASKS}{task.pk}/{action}/", {"comment": " "})
    assert response.status_code == 400
    assert response.json() == {"comment": ["Say why: a comment is required to reject or send back."]}
    task.refresh_from_db()
    assert task.status == StepStatus.ACTIVE


def test_reject_ends_the_workflow(api_as, start_request, lead):
    request = start_request()
    response = api_as(lead).post(f"{TASKS}{task_of(lead).pk}/reject/", {"comment": "No budget"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["instance_status"]) == ("rejected", "rejected")
    assert Request.objects.get(pk=request.pk).status == RequestStatus.REJECTED


def test_a_second_approval_is_a_conflict(api_as, start_request, lead):
    start_request()
    task = task_of(lead)
    assert api_as(lead).post(f"{TASKS}{task.pk}/approve/").status_code == 200
    again = api_as(lead).post(f"{TASKS}{task.pk}/approve/")
    assert again.status_code == 409
    assert again.json() == {"detail": "This step is already approved by lena-lead."}
    assert AuditEvent.objects.filter(action="step.approve").count() == 1


def test_the_requester_may_not_approve_their_own_request(api_as, team, template, lead, finance):
    requester = UserFactory(username="fin-marketer", roles=[Role.MARKETER, Role.FINANCE], teams=[team])
    instance = instance_of(subjects.request_create(actor=requester, template=template, title="Own", team=team))
    services.task_act(actor=lead, task=task_of(lead), action="approve")
    finance_step = instance.steps.get(name="Finance approval")
    finance_step.assignments.create(user=requester)  # even when routed to them by hand
    response = api_as(requester).post(f"{TASKS}{finance_step.pk}/approve/")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You started this workflow, so you cannot approve its steps (separation of duties)."
    }


def test_someone_not_assigned_gets_403_and_an_outsider_404(api_as, start_request, teammate, outsider, finance):
    start_request()
    task = StepTask.objects.get(name="Lead approval")
    for user in (teammate, finance):  # may see the step, may not decide it
        assert api_as(user).get(f"{TASKS}{task.pk}/").status_code == 200
        response = api_as(user).post(f"{TASKS}{task.pk}/approve/")
        assert response.status_code == 403
        assert response.json() == {"detail": "This step is not assigned to you."}
    assert api_as(outsider).get(f"{TASKS}{task.pk}/").status_code == 404
    assert api_as(outsider).post(f"{TASKS}{task.pk}/approve/").status_code == 404


def test_an_approval_cannot_be_completed(api_as, start_request, lead):
    start_request()
    response = api_as(lead).post(f"{TASKS}{task_of(lead).pk}/complete/")
    assert response.status_code == 403
    assert response.json() == {"detail": "This step is an approval: approve, reject or send it back."}


def test_a_task_step_is_completed(api_as, team, ops_admin, marketer, lead):
    template = services.template_create(
        actor=ops_admin,
        name="Brief",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[step("Write brief", stage=1, kind="task", assignee_type="team_lead")],
    )
    subjects.request_create(actor=marketer, template=template, title="Brief", team=team)
    task = task_of(lead)
    assert api_as(lead).post(f"{TASKS}{task.pk}/approve/").status_code == 403
    response = api_as(lead).post(f"{TASKS}{task.pk}/complete/", {"comment": "Done"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["instance_status"]) == ("done", "completed")


def test_a_delegate_sees_and_decides_the_delegators_steps(api_as, start_request, lead, outsider):
    start_request()
    task = task_of(lead)
    today = datetime.date.today()
    services.delegation_create(actor=lead, delegator=lead, delegate=outsider, starts_on=today, ends_on=today)
    [listed] = results(api_as(outsider).get(TASKS))
    assert listed["id"] == task.pk
    response = api_as(outsider).post(f"{TASKS}{task.pk}/approve/")
    assert response.status_code == 200, response.json()
    assert response.json()["decided_by"] == "charlie"
    assert api_as(outsider).get(f"{TASKS}{task.pk}/").status_code == 200


def test_reassign(api_as, start_request, ops_admin, marketer, teammate, lead):
    start_request()
    task = task_of(lead)
    refused = api_as(teammate).post(f"{TASKS}{task.pk}/reassign/", {"user": teammate.pk})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only ops admins and the lead of the subject's team can reassign steps."}
    to_requester = api_as(ops_admin).post(f"{TASKS}{task.pk}/reassign/", {"user": marketer.pk})
    assert to_requester.status_code == 400
    assert to_requester.json() == {"user": ["The requester cannot approve their own request."]}
    unknown = api_as(ops_admin).post(f"{TASKS}{task.pk}/reassign/", {"user": 999999})
    assert (unknown.status_code, list(unknown.json())) == (400, ["user"])
    response = api_as(ops_admin).post(f"{TASKS}{task.pk}/reassign/", {"user": teammate.pk, "comment": "Lena is away"})
    assert response.status_code == 200, response.json()
    assert response.json()["assignees"] == ["bob"]
    assert [t["id"] for t in results(api_as(teammate).get(TASKS))] == [task.pk]
    assert results(api_as(lead).get(TASKS)) == []


def test_task_list_query_count_is_constant(api_as, start_request, lead, django_assert_max_num_queries):
    for number in range(15):
        start_request(title=f"Request {number}")
    client = api_as(lead)
    with django_assert_max_num_queries(3):  # count, page, assignees
        assert len(results(client.get(TASKS))) == 15
