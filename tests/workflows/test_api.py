"""The workflow API: templates, subject types, instances, my tasks and their actions, general
requests, delegations — each as the requester, an approver, a teammate, an outsider and anonymous."""

import datetime

import pytest

from mops.models import AuditEvent
from mops.money import money_bound_message
from mops.roles import Role
from tests.factories import UserFactory
from tests.workflows.conftest import instance_of, step
from workflows import services, subjects
from workflows.models import (
    Delegation,
    Request,
    RequestStatus,
    StepStatus,
    StepTask,
    TemplateStatus,
    WorkflowTemplate,
)
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db

TEMPLATES = "/api/v1/workflow-templates/"
INSTANCES = "/api/v1/workflow-instances/"
TASKS = "/api/v1/tasks/"
REQUESTS = "/api/v1/workflow-requests/"
DELEGATIONS = "/api/v1/delegations/"
SUBJECT_TYPES = "/api/v1/workflow-subject-types/"


def results(response):
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def task_of(user):
    return my_tasks(user).get()


# --- anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", TEMPLATES),
        ("get", f"{TEMPLATES}spend-approval/"),
        ("get", f"{TEMPLATES}spend-approval/preview/"),
        ("post", TEMPLATES),
        ("post", f"{TEMPLATES}spend-approval/retire/"),
        ("get", SUBJECT_TYPES),
        ("get", f"{SUBJECT_TYPES}general_request/"),
        ("get", INSTANCES),
        ("get", "{instance}"),
        ("post", "{instance}cancel/"),
        ("get", TASKS),
        ("get", "{task}"),
        ("post", "{task}approve/"),
        ("get", REQUESTS),
        ("post", REQUESTS),
        ("get", DELEGATIONS),
        ("post", DELEGATIONS),
    ],
)
def test_anonymous_gets_401(api, start_request, method, path):
    instance = instance_of(start_request())
    task = instance.steps.get(status=StepStatus.ACTIVE)
    path = path.format(instance=f"{INSTANCES}{instance.pk}/", task=f"{TASKS}{task.pk}/")
    response = getattr(api, method)(path, {})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


# --- subject types --------------------------------------------------------------------------


def test_subject_types_list_their_attributes(api_as, marketer):
    body = api_as(marketer).get(SUBJECT_TYPES).json()
    general = next(t for t in body if t["key"] == subjects.GENERAL_REQUEST)
    assert general == {
        "key": "general_request",
        "label": "General approval request",
        "attributes": [
            {"name": "amount", "label": "Amount (base currency)", "kind": "decimal"},
            {"name": "team", "label": "Team (code)", "kind": "text"},
        ],
    }
    assert api_as(marketer).get(f"{SUBJECT_TYPES}general_request/").json() == general
    assert api_as(marketer).get(f"{SUBJECT_TYPES}nothing/").status_code == 404


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MARKETER, Role.CMO, Role.FINANCE, Role.OPS_ADMIN])
def test_every_role_reads_templates(api_as, template, role):
    user = UserFactory(roles=[role])
    [listed] = results(api_as(user).get(TEMPLATES))
    assert listed["slug"] == "spend-approval"
    detail = api_as(user).get(f"{TEMPLATES}spend-approval/").json()
    assert detail == listed
    assert (detail["version"], detail["status"]) == (1, "active")
    assert (detail["subject_type"], detail["subject_type_label"]) == ("general_request", "General approval request")
    assert detail["created_by"] == "olga-ops"
    assert [s["name"] for s in detail["steps"]] == ["Lead approval", "Finance approval", "CMO approval"]
    assert detail["steps"][2] == {
        "position": 3,
        "stage": 2,
        "name": "CMO approval",
        "kind": "approval",
        "assignee_type": "role",
        "role": "cmo",
        "user": None,
        "sla_days": 2,
        "stage_rule": "all",
        "condition_attribute": "amount",
        "condition_operator": "gte",
        "condition_value": "50000",
        "escalate_after_reminders": None,
        "fallback_role": "",
    }


def test_unknown_template_is_404(api_as, marketer):
    assert api_as(marketer).get(f"{TEMPLATES}nope/").status_code == 404


def test_retired_templates_are_listed_on_request(api_as, template, ops_admin, marketer):
    services.template_retire(actor=ops_admin, template=template)
    assert results(api_as(marketer).get(TEMPLATES)) == []
    [retired] = results(api_as(marketer).get(f"{TEMPLATES}?retired=1"))
    assert retired["status"] == "retired"


def test_ops_admin_creates_a_template_with_nested_steps(api_as, ops_admin, finance):
    response = api_as(ops_admin).post(
        TEMPLATES,
        {
            "name": "Sponsorship sign-off",
            "description": "Events we sponsor.",
            "subject_type": "general_request",
            "steps": [
                step("Lead approval", stage=1, assignee_type="team_lead"),
                step("Fred approves", stage=2, assignee_type="user", user=finance.pk, sla_days=5),
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["version"], body["status"]) == ("sponsorship-sign-off", 1, "active")
    assert [(s["position"], s["name"], s["user"], s["sla_days"]) for s in body["steps"]] == [
        (1, "Lead approval", None, 2),
        (2, "Fred approves", finance.pk, 5),
    ]
    template = WorkflowTemplate.objects.get(slug="sponsorship-sign-off")
    assert template.steps.get(position=2).user == finance
    assert AuditEvent.objects.filter(action="workflow_template.create", actor=ops_admin).exists()


@pytest.mark.parametrize("role", [Role.MARKETER, Role.CMO, Role.FINANCE])
def test_only_ops_admins_write_templates(api_as, template, role):
    user = UserFactory(roles=[role])
    client = api_as(user)
    payload = {"name": "X", "subject_type": "general_request", "steps": [step("A", stage=1, role=Role.CMO)]}
    for response in (
        client.post(TEMPLATES, payload),
        client.put(f"{TEMPLATES}spend-approval/", payload),
        client.patch(f"{TEMPLATES}spend-approval/", payload),
        client.post(f"{TEMPLATES}spend-approval/retire/"),
    ):
        assert response.status_code == 403
        assert "detail" in response.json()
    template.refresh_from_db()
    assert (template.name, template.status) == ("Spend approval", TemplateStatus.ACTIVE)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"name": "Bad", "subject_type": "general_request", "steps": [step("A", stage=1)]},
            {"steps": ["Step 1: choose the role it goes to."]},
        ),
        (
            {"name": "Bad", "subject_type": "general_request", "steps": []},
            {"steps": ["A template needs at least one step."]},
        ),
        (
            {
                "name": "Bad",
                "subject_type": "general_request",
                "steps": [
                    step("A", stage=1, role=Role.CMO),
                    step(
                        "B",
                        stage=1,
                        role=Role.CMO,
                        condition_attribute="amount",
                        condition_operator="gte",
                        condition_value="lots",
                    ),
                ],
            },
            {"steps": ["Step 2: Amount (base currency) must be a number."]},
        ),
        (
            {"name": "Bad", "subject_type": "spaceship", "steps": [step("A", stage=1, role=Role.CMO)]},
            {"subject_type": ["No workflow subject type 'spaceship' is registered."]},
        ),
        ({"name": "Bad", "steps": [step("A", stage=1, role=Role.CMO)]}, {"subject_type": ["This field is required."]}),
        ({"name": "Bad", "subject_type": "general_request"}, {"steps": ["This field is required."]}),
        (
            {"name": "Bad", "subject_type": "general_request", "steps": [step("A", stage=1, role="cmo"), "B"]},
            {"steps": ["Step 2: Invalid data. Expected a dictionary, but got str."]},
        ),
        (
            {"name": "Bad", "subject_type": "general_request", "steps": [step("A", stage=1, kind="dance")]},
            {"steps": ['Step 1, kind: "dance" is not a valid choice.']},
        ),
        (
            {"name": "Spend approval", "subject_type": "general_request", "steps": [step("A", stage=1, role="cmo")]},
            {"name": ["A template named like “Spend approval” exists already."]},
        ),
    ],
)
def test_template_validation_names_fields_and_steps(api_as, ops_admin, template, payload, errors):
    response = api_as(ops_admin).post(TEMPLATES, payload)
    assert response.status_code == 400
    assert response.json() == errors


def test_updating_an_unused_template_changes_it_in_place(api_as, ops_admin, template):
    response = api_as(ops_admin).put(
        f"{TEMPLATES}spend-approval/",
        {"name": "Spend approval", "subject_type": "general_request", "steps": [step("Only", stage=1, role="cmo")]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["version"], [s["name"] for s in body["steps"]]) == (template.pk, 1, ["Only"])


def test_updating_a_template_in_use_answers_with_the_new_version(api_as, ops_admin, template, start_request):
    start_request()
    response = api_as(ops_admin).patch(
        f"{TEMPLATES}spend-approval/",
        {"description": "Finance only now.", "steps": [step("Finance only", stage=1, role=Role.FINANCE)]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["slug"], body["version"], body["status"]) == ("spend-approval", 2, "active")
    assert body["description"] == "Finance only now."
    assert [s["name"] for s in body["steps"]] == ["Finance only"]
    template.refresh_from_db()
    assert template.status == TemplateStatus.SUPERSEDED
    # The detail URL follows the live version; older ones stay readable.
    assert api_as(ops_admin).get(f"{TEMPLATES}spend-approval/").json()["version"] == 2
    old = api_as(ops_admin).get(f"{TEMPLATES}spend-approval/?version=1").json()
    assert (old["status"], len(old["steps"])) == ("superseded", 3)
    assert api_as(ops_admin).get(f"{TEMPLATES}spend-approval/?version=9").status_code == 404


def test_update_rules(api_as, ops_admin, template):
    client = api_as(ops_admin)
    no_steps = client.patch(f"{TEMPLATES}spend-approval/", {"name": "Renamed"})
    assert (no_steps.status_code, no_steps.json()) == (400, {"steps": ["This field is required."]})
    other_type = client.patch(
        f"{TEMPLATES}spend-approval/",
        {"subject_type": "budget_transfer", "steps": [step("A", stage=1, role="cmo")]},
    )
    assert other_type.status_code == 400
    assert "subject_type" in other_type.json()


def test_retire(api_as, ops_admin, template):
    response = api_as(ops_admin).post(f"{TEMPLATES}spend-approval/retire/")
    assert response.status_code == 200
    assert response.json()["status"] == "retired"
    again = api_as(ops_admin).post(f"{TEMPLATES}spend-approval/retire/")
    assert again.status_code == 409
    assert again.json() == {"detail": "Only an active template can be retired."}


def test_preview_says_which_steps_apply_and_to_whom(api_as, marketer, template, team, lead, finance, cmo):
    client = api_as(marketer)
    response = client.get(f"{TEMPLATES}spend-approval/preview/?amount=60000&team={team.pk}&requester={marketer.pk}")
    assert response.status_code == 200, response.json()
    rows = response.json()
    assert [(r["position"], r["stage"], r["name"], r["kind"], r["applies"]) for r in rows] == [
        (1, 1, "Lead approval", "approval", True),
        (2, 2, "Finance approval", "approval", True),
        (3, 2, "CMO approval", "approval", True),
    ]
    assert rows[0]["assignees"] == [{"id": lead.pk, "username": "lena-lead", "full_name": lead.get_full_name()}]
    assert [a["username"] for a in rows[2]["assignees"]] == ["carol-cmo"]

    small = client.get(f"{TEMPLATES}spend-approval/preview/?amount=100&team=na&requester={lead.pk}").json()
    assert [(r["applies"], [a["username"] for a in r["assignees"]]) for r in small] == [
        (True, []),  # the lead requests: nobody else leads the team
        (True, ["fred-finance"]),
        (False, []),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [("amount=lots", "amount"), ("team=atlantis", "team"), ("requester=999999", "requester")],
)
def test_preview_names_a_bad_parameter(api_as, marketer, template, query, field):
    response = api_as(marketer).get(f"{TEMPLATES}spend-approval/preview/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_preview_bad_number_message(api_as, marketer, template):
    response = api_as(marketer).get(f"{TEMPLATES}spend-approval/preview/?amount=lots")
    assert response.json() == {"amount": ["Amount (base currency) must be a number."]}


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


# --- general requests -----------------------------------------------------------------------


def test_marketer_raises_a_request_and_its_workflow_starts(api_as, marketer, team, template, lead):
    response = api_as(marketer).post(
        REQUESTS,
        {
            "template": "spend-approval",
            "title": "Booth at SaaStr",
            "description": "10x10 booth",
            "team": team.pk,
            "amount": "1200.50",
            "currency": "USD",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    request = Request.objects.get(pk=body["id"])
    instance = instance_of(request)
    assert body == {
        "id": request.pk,
        "title": "Booth at SaaStr",
        "description": "10x10 booth",
        "team": "na",
        "amount": "1200.50",
        "currency": "USD",
        "amount_base": "1200.50",
        "status": "in_review",
        "requested_by": "alice",
        "created_at": body["created_at"],
        "open_instance": instance.pk,
        "instance": instance.pk,
    }
    assert task_of(lead).instance_id == instance.pk


def test_a_request_by_team_slug_on_the_default_template(api_as, marketer, template):
    response = api_as(marketer).post(REQUESTS, {"title": "No amount", "team": "na"})
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] is None
    assert instance_of(Request.objects.get()).template == template


def test_request_for_another_team_is_refused(api_as, outsider, team, template):
    response = api_as(outsider).post(REQUESTS, {"template": "spend-approval", "title": "Sneaky", "team": "na"})
    # The policy for ids in bodies (docs/api.md): another team is one the outsider cannot see.
    assert response.status_code == 400
    assert response.json() == {"team": ["There is no team 'na'."]}
    assert not Request.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "", "team": "na"}, "title"),
        ({"title": "X", "team": "atlantis"}, "team"),
        ({"title": "X", "team": "na", "template": "nope"}, "template"),
        ({"title": "X", "team": "na", "amount": "-5", "currency": "USD"}, "amount"),
        ({"title": "X", "team": "na", "amount": "abc", "currency": "USD"}, "amount"),
        ({"title": "X", "team": "na", "amount": "5"}, "currency"),
        ({"title": "X", "team": "na", "amount": "5", "currency": "XXX"}, "currency"),
    ],
)
def test_request_validation_names_the_field(api_as, marketer, template, payload, field):
    response = api_as(marketer).post(REQUESTS, payload)
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert not Request.objects.exists()


def test_a_request_needs_a_template_for_requests(api_as, marketer, ops_admin):
    services.template_create(
        actor=ops_admin, name="Transfers", subject_type="budget_transfer", steps=[step("A", stage=1, role="finance")]
    )
    response = api_as(marketer).post(REQUESTS, {"title": "X", "team": "na", "template": "transfers"})
    assert response.status_code == 400
    assert response.json() == {"template": ["Choose a template for general approval requests."]}
    nothing = api_as(marketer).post(REQUESTS, {"title": "X", "team": "na"})
    assert nothing.status_code == 400
    assert list(nothing.json()) == ["template"]


@pytest.mark.parametrize(
    ("who", "sees"), [("marketer", True), ("teammate", True), ("finance", True), ("outsider", False)]
)
def test_request_visibility(api_as, start_request, request, who, sees):
    raised = start_request()
    client = api_as(request.getfixturevalue(who))
    assert [r["id"] for r in results(client.get(REQUESTS))] == ([raised.pk] if sees else [])
    assert client.get(f"{REQUESTS}{raised.pk}/").status_code == (200 if sees else 404)


def test_request_list_query_count_is_constant(api_as, start_request, marketer, django_assert_max_num_queries):
    for number in range(15):
        start_request(title=f"Request {number}")
    client = api_as(marketer)
    with django_assert_max_num_queries(3):  # count, page (workflow ids are subqueries), content type
        assert len(results(client.get(REQUESTS))) == 15


def test_request_shows_its_finished_workflow(api_as, start_request, marketer, lead, finance):
    raised = start_request()
    services.task_act(actor=lead, task=task_of(lead), action="approve")
    services.task_act(actor=finance, task=task_of(finance), action="approve")
    body = api_as(marketer).get(f"{REQUESTS}{raised.pk}/").json()
    assert (body["status"], body["open_instance"], body["instance"]) == ("approved", None, instance_of(raised).pk)


# --- delegations ----------------------------------------------------------------------------


def test_delegate_my_own_steps(api_as, lead, teammate, outsider, ops_admin):
    response = api_as(lead).post(
        DELEGATIONS, {"delegate": teammate.pk, "starts_on": "2026-07-01", "ends_on": "2026-07-14"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["delegator_username"], body["delegate_username"], body["created_by"]) == (
        "lena-lead",
        "bob",
        "lena-lead",
    )
    assert body["delegator"] == lead.pk
    delegation = Delegation.objects.get()
    for user, sees in ((lead, True), (teammate, True), (ops_admin, True), (outsider, False)):
        assert [d["id"] for d in results(api_as(user).get(DELEGATIONS))] == ([delegation.pk] if sees else [])
        assert api_as(user).get(f"{DELEGATIONS}{delegation.pk}/").status_code == (200 if sees else 404)


def test_delegating_for_someone_else(api_as, lead, marketer, teammate, outsider, ops_admin):
    payload = {"delegator": marketer.pk, "delegate": teammate.pk, "starts_on": "2026-07-01", "ends_on": "2026-07-02"}
    refused = api_as(outsider).post(DELEGATIONS, payload)
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "You can delegate your own steps; team leads and ops admins can delegate for others."
    }
    assert api_as(lead).post(DELEGATIONS, payload).status_code == 201  # the lead of alice's team
    later = {**payload, "starts_on": "2026-08-01", "ends_on": "2026-08-02"}
    assert api_as(ops_admin).post(DELEGATIONS, later).status_code == 201
    clash = api_as(ops_admin).post(DELEGATIONS, payload)  # the same days again
    assert clash.status_code == 400
    assert "already delegates" in clash.json()["starts_on"][0]


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"delegate": "self", "starts_on": "2026-07-01", "ends_on": "2026-07-02"},
            {"delegate": ["Choose someone other than the person delegating."]},
        ),
        (
            {"delegate": "bob", "starts_on": "2026-07-05", "ends_on": "2026-07-02"},
            {"ends_on": ["The end date is before the start date."]},
        ),
        ({"delegate": "bob", "starts_on": "someday", "ends_on": "2026-07-02"}, {"starts_on": None}),
        ({"starts_on": "2026-07-01", "ends_on": "2026-07-02"}, {"delegate": ["This field is required."]}),
    ],
)
def test_delegation_validation(api_as, marketer, teammate, payload, errors):
    ids = {"self": marketer.pk, "bob": teammate.pk}
    if "delegate" in payload:
        payload = {**payload, "delegate": ids[payload["delegate"]]}
    response = api_as(marketer).post(DELEGATIONS, payload)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == list(errors)
    for field, messages in errors.items():
        if messages is not None:
            assert body[field] == messages
    assert not Delegation.objects.exists()


@pytest.mark.parametrize("amount", ["1000000000000.00", "1e308", "NaN", "Infinity"])
def test_a_request_amount_past_the_money_bound_names_the_limit(api_as, marketer, team, template, amount):
    response = api_as(marketer).post(
        REQUESTS, {"template": "spend-approval", "title": "Huge", "team": "na", "amount": amount}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json() == {"amount": [money_bound_message("Amount")]}
    assert not Request.objects.exists()
