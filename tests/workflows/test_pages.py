"""The workflow pages: who may open what, acting on steps, the template editor and preview,
general requests, delegations and the navigation badge."""

import datetime
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from mops.models import AuditEvent
from mops.roles import Role
from tests.factories import TeamFactory
from tests.workflows.conftest import instance_of, step
from workflows import services, subjects
from workflows.models import (
    Delegation,
    InstanceStatus,
    Request,
    RequestStatus,
    StepStatus,
    StepTask,
    TemplateStatus,
    WorkflowTemplate,
)
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"workflows:{name}", args=args)


def lead_task():
    return StepTask.objects.get(name="Lead approval", round=1)


def flash(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def formset_data(steps, *, prefix="steps", extra=2, **fields):
    """POST data of the template editor: ``steps`` as rows, then ``extra`` untouched blank rows."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(steps) + extra),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        **fields,
    }
    blank = {"kind": "approval", "stage_rule": "all", "assignee_type": "role", "sla_days": "2"}
    for index, row in enumerate([*steps, *([blank] * extra)]):
        for key, value in {**blank, **row}.items():
            data[f"{prefix}-{index}-{key}"] = "" if value is None else str(value)
    return data


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


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "sees_button"), [("marketer", False), ("finance", False), ("ops_admin", True)])
def test_everyone_reads_the_template_list(request, client, template, who, sees_button):
    client.force_login(request.getfixturevalue(who))
    response = client.get(url("template-list"))
    assert response.status_code == 200
    assert b"Spend approval" in response.content
    assert b"General approval request" in response.content
    assert (b"New template" in response.content) is sees_button


def test_retired_templates_are_listed_on_request(client, template, ops_admin):
    services.template_retire(actor=ops_admin, template=template)
    client.force_login(ops_admin)
    assert list(client.get(url("template-list")).context["templates"]) == []
    assert [t.name for t in client.get(url("template-list"), {"retired": "1"}).context["templates"]] == [
        "Spend approval"
    ]


def test_template_list_query_count(client, ops_admin, start_request, django_assert_max_num_queries):
    start_request()
    for number in range(15):
        services.template_create(
            actor=ops_admin,
            name=f"Process {number}",
            subject_type=subjects.GENERAL_REQUEST,
            steps=[step("A", stage=1, role=Role.CMO), step("B", stage=2, role=Role.FINANCE)],
        )
    client.force_login(ops_admin)
    with django_assert_max_num_queries(8):
        response = client.get(url("template-list"))
    assert len(response.context["templates"]) == 16


@pytest.mark.parametrize("who", ["marketer", "finance", "cmo"])
def test_only_ops_admins_open_the_editor(request, client, template, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("template-create")).status_code == 403
    assert client.get(url("template-edit", template.slug)).status_code == 403
    assert (
        client.post(url("template-create"), formset_data([], name="X", subject_type="general_request")).status_code
        == 403
    )
    assert client.post(url("template-retire", template.slug)).status_code == 403
    assert WorkflowTemplate.objects.filter(status=TemplateStatus.ACTIVE).count() == 1


def test_ops_admin_creates_a_template_with_the_formset(client, ops_admin, finance):
    client.force_login(ops_admin)
    assert client.get(url("template-create")).status_code == 200
    data = formset_data(
        [
            {"stage": 1, "name": "Lead approval", "assignee_type": "team_lead"},
            {"stage": 2, "name": "Named finance", "assignee_type": "user", "user": finance.pk, "sla_days": 3},
            {
                "stage": 2,
                "name": "CMO above 50k",
                "role": Role.CMO,
                "condition_attribute": "amount",
                "condition_operator": "gte",
                "condition_value": "50000",
                "escalate_after_reminders": 2,
            },
        ],
        name="Sponsorship sign-off",
        description="For sponsorships",
        subject_type="general_request",
    )
    response = client.post(url("template-create"), data)
    assert response.status_code == 302
    template = WorkflowTemplate.objects.get(slug="sponsorship-sign-off")
    assert response.url == url("template-detail", template.slug)
    steps = list(template.steps.order_by("position"))
    assert [(s.position, s.stage, s.name, s.assignee_type, s.role) for s in steps] == [
        (1, 1, "Lead approval", "team_lead", ""),
        (2, 2, "Named finance", "user", ""),
        (3, 2, "CMO above 50k", "role", Role.CMO),
    ]
    assert (steps[1].user, steps[1].sla_days) == (finance, 3)
    assert (steps[2].condition_attribute, steps[2].condition_value, steps[2].escalate_after_reminders) == (
        "amount",
        "50000",
        2,
    )


def test_deleted_rows_are_left_out(client, ops_admin):
    client.force_login(ops_admin)
    data = formset_data(
        [
            {"stage": 1, "name": "Keep", "role": Role.CMO},
            {"stage": 1, "name": "Drop", "role": Role.CMO, "DELETE": "on"},
        ],
        name="Pruned",
        subject_type="general_request",
    )
    assert client.post(url("template-create"), data).status_code == 302
    assert [s.name for s in WorkflowTemplate.objects.get(slug="pruned").steps.all()] == ["Keep"]


def test_invalid_steps_show_the_services_messages_and_keep_the_input(client, ops_admin):
    client.force_login(ops_admin)
    data = formset_data(
        [
            {"stage": 2, "name": "", "role": Role.CMO},
            {
                "stage": 1,
                "name": "Big ones",
                "role": Role.CMO,
                "condition_attribute": "amount",
                "condition_operator": "gte",
                "condition_value": "lots",
            },
        ],
        name="Broken",
        description="Keep me",
        subject_type="general_request",
    )
    response = client.post(url("template-create"), data)
    assert response.status_code == 200
    errors = response.context["step_errors"]
    assert "Step 1: give it a name." in errors
    assert any(e.startswith("Step 2: stages must be in order") for e in errors)
    assert "Step 2: Amount (base currency) must be a number." in errors
    content = response.content.decode()
    assert "Step 1: give it a name." in content
    assert 'value="lots"' in content and 'value="Big ones"' in content and "Keep me" in content
    assert not WorkflowTemplate.objects.filter(slug="broken").exists()


def test_add_more_rows_keeps_the_input_and_saves_nothing(client, ops_admin):
    client.force_login(ops_admin)
    data = formset_data([{"stage": 1, "name": "First", "role": Role.CMO}], extra=0, name="Growing")
    data.update(subject_type="general_request", add_rows="1")
    response = client.post(url("template-create"), data)
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 4
    assert 'value="First"' in response.content.decode()
    assert not WorkflowTemplate.objects.exists()


def test_a_duplicate_name_is_a_form_error(client, ops_admin, template):
    client.force_login(ops_admin)
    data = formset_data(
        [{"stage": 1, "name": "A", "role": Role.CMO}], name="Spend approval", subject_type="general_request"
    )
    response = client.post(url("template-create"), data)
    assert "name" in response.context["form"].errors


def test_the_editor_is_prefilled_from_the_active_version(client, ops_admin, template):
    client.force_login(ops_admin)
    response = client.get(url("template-edit", template.slug))
    formset = response.context["formset"]
    assert [f.initial.get("name") for f in formset.forms[:3]] == ["Lead approval", "Finance approval", "CMO approval"]
    assert formset.forms[2].initial["condition_value"] == "50000"
    assert response.context["form"].fields["subject_type"].disabled


def _edit_data(template, rows, **fields):
    return formset_data(rows, name=fields.pop("name", template.name), subject_type=template.subject_type, **fields)


def test_editing_a_template_in_use_saves_version_2(client, ops_admin, template, start_request):
    start_request()
    client.force_login(ops_admin)
    data = _edit_data(template, [{"stage": 1, "name": "Finance only", "role": Role.FINANCE}])
    response = client.post(url("template-edit", template.slug), data, follow=True)
    assert "Saved as version 2; 1 running instance keeps version 1." in flash(response)
    template.refresh_from_db()
    assert template.status == TemplateStatus.SUPERSEDED
    new = WorkflowTemplate.objects.get(slug=template.slug, version=2)
    assert [s.name for s in new.steps.all()] == ["Finance only"]
    assert [v.version for v in response.context["versions"]] == [2, 1]


def test_editing_an_unused_template_changes_it_in_place(client, ops_admin, template):
    client.force_login(ops_admin)
    data = _edit_data(template, [{"stage": 1, "name": "Only CMO", "role": Role.CMO}], name="Renamed")
    response = client.post(url("template-edit", template.slug), data, follow=True)
    assert "Version 1 saved." in flash(response)
    template.refresh_from_db()
    assert (template.name, template.version, [s.name for s in template.steps.all()]) == ("Renamed", 1, ["Only CMO"])


def test_retire_and_retire_again(client, ops_admin, template):
    client.force_login(ops_admin)
    response = client.post(url("template-retire", template.slug), follow=True)
    template.refresh_from_db()
    assert template.status == TemplateStatus.RETIRED
    assert any("retired" in m for m in flash(response))
    response = client.post(url("template-retire", template.slug), follow=True)
    assert "Only an active template can be retired." in flash(response)
    assert client.get(url("template-edit", template.slug)).status_code == 302  # retired: not editable


def test_template_detail_groups_steps_by_stage(client, marketer, template):
    client.force_login(marketer)
    response = client.get(url("template-detail", template.slug))
    assert response.status_code == 200
    assert [(stage, [s.name for s in steps]) for stage, steps in response.context["stages"]] == [
        (1, ["Lead approval"]),
        (2, ["Finance approval", "CMO approval"]),
    ]
    assert b"All must approve" in response.content
    assert b"Retire" not in response.content
    assert client.get(url("template-detail", "no-such-template")).status_code == 404


def test_preview_shows_who_each_step_goes_to(client, ops_admin, template, team, marketer, lead, finance, cmo):
    client.force_login(ops_admin)
    response = client.get(
        url("template-detail", template.slug),
        {"preview": "1", "p-attr_amount": "60,000", "p-attr_team": "na", "p-team": team.pk, "p-requester": marketer.pk},
    )
    rows = response.context["preview_rows"]
    assert [(r.step.name, r.applies, [u.username for u in r.assignees]) for r in rows] == [
        ("Lead approval", True, ["lena-lead"]),
        ("Finance approval", True, ["fred-finance"]),
        ("CMO approval", True, ["carol-cmo"]),
    ]
    assert b"lena-lead" in response.content


def test_preview_without_a_team_says_nobody(client, marketer, template, finance):
    client.force_login(marketer)
    response = client.get(url("template-detail", template.slug), {"preview": "1", "p-attr_amount": "10"})
    rows = response.context["preview_rows"]
    assert [(r.step.name, r.applies) for r in rows] == [
        ("Lead approval", True),
        ("Finance approval", True),
        ("CMO approval", False),
    ]
    assert b"nobody \xe2\x80\x94 ops admin must reassign" in response.content


def test_preview_with_a_bad_number_is_a_form_error(client, ops_admin, template):
    client.force_login(ops_admin)
    response = client.get(url("template-detail", template.slug), {"preview": "1", "p-attr_amount": "lots"})
    assert response.status_code == 200
    assert response.context["preview_rows"] is None
    assert "attr_amount" in response.context["preview_form"].errors
    assert b"must be a number" in response.content


# --- general requests -----------------------------------------------------------------------


def request_data(template, team, **overrides):
    return {
        "template": template.pk,
        "title": "Partner webinar",
        "description": "Co-hosted",
        "team": team.pk,
        "amount": "2500",
        "currency": "USD",
        **overrides,
    }


def test_marketer_raises_a_request(client, marketer, team, template, lead):
    client.force_login(marketer)
    assert client.get(url("request-create")).status_code == 200
    response = client.post(url("request-create"), request_data(template, team))
    created = Request.objects.get(title="Partner webinar")
    assert response.status_code == 302
    assert response.url == url("request-detail", created.pk)
    assert (created.team, created.requested_by, created.amount) == (team, marketer, 2500)
    assert instance_of(created).status == InstanceStatus.RUNNING
    assert [t.name for t in my_tasks(lead)] == ["Lead approval"]


def test_a_request_for_a_team_the_user_is_not_in_is_refused(client, marketer, other_team, template):
    client.force_login(marketer)
    response = client.post(url("request-create"), request_data(template, other_team))
    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Request.objects.exists()


def test_an_amount_must_not_be_negative(client, marketer, team, template):
    client.force_login(marketer)
    response = client.post(url("request-create"), request_data(template, team, amount="-5"))
    assert "amount" in response.context["form"].errors


def test_request_list_and_detail_respect_visibility(client, start_request, marketer, teammate, outsider, cmo):
    request = start_request()
    for user, listed, status in [(marketer, 1, 200), (teammate, 1, 200), (cmo, 1, 200), (outsider, 0, 404)]:
        client.force_login(user)
        assert len(client.get(url("request-list")).context["page"]) == listed
        assert client.get(url("request-detail", request.pk)).status_code == status


def test_request_detail_shows_the_strip_and_the_starters_forms(client, start_request, marketer, lead):
    request = start_request()
    client.force_login(marketer)
    response = client.get(url("request-detail", request.pk))
    assert b'data-step-status="active"' in response.content
    assert response.context["can_cancel"] is True
    client.post(url("request-detail", request.pk), {"operation": "cancel", "cancel-comment": "Dropped"})
    assert Request.objects.get(pk=request.pk).status == RequestStatus.CANCELLED


# --- delegations ----------------------------------------------------------------------------


def test_a_delegate_sees_the_delegators_task(client, start_request, lead, teammate):
    start_request()
    today = timezone.localdate()
    client.force_login(lead)
    assert client.get(url("delegation-list")).status_code == 200
    response = client.post(
        url("delegation-list"),
        {"delegator": lead.pk, "delegate": teammate.pk, "starts_on": today, "ends_on": today + timedelta(days=7)},
    )
    assert response.status_code == 302
    assert Delegation.objects.get().delegator == lead

    client.force_login(teammate)
    response = client.get(url("my-tasks"))
    assert [t.name for t in response.context["page"]] == ["Lead approval"]
    assert client.get(url("task-detail", lead_task().pk)).context["actions"]  # and may act on it


def test_a_marketer_delegates_only_their_own_steps(client, marketer, teammate, outsider):
    client.force_login(marketer)
    today = timezone.localdate()
    client.post(
        url("delegation-list"),
        {"delegator": teammate.pk, "delegate": outsider.pk, "starts_on": today, "ends_on": today},
    )
    # The delegator field is fixed to the user: a forged value is ignored.
    assert list(Delegation.objects.values_list("delegator__username", "delegate__username")) == [("alice", "charlie")]


def test_a_lead_cannot_delegate_for_someone_outside_their_teams(client, lead, outsider, teammate):
    client.force_login(lead)
    today = timezone.localdate()
    response = client.post(
        url("delegation-list"),
        {"delegator": outsider.pk, "delegate": teammate.pk, "starts_on": today, "ends_on": today},
    )
    assert "delegator" in response.context["form"].errors
    assert not Delegation.objects.exists()


def test_a_delegation_ending_before_it_starts_is_a_form_error(client, marketer, teammate):
    client.force_login(marketer)
    response = client.post(
        url("delegation-list"),
        {
            "delegator": marketer.pk,
            "delegate": teammate.pk,
            "starts_on": datetime.date(2026, 5, 10),
            "ends_on": datetime.date(2026, 5, 1),
        },
    )
    assert "ends_on" in response.context["form"].errors
    assert not Delegation.objects.exists()


def test_delegations_are_listed_to_those_involved(client, lead, marketer, teammate, outsider, ops_admin):
    today = timezone.localdate()
    # The lead sets it up for a member of their team.
    client.force_login(lead)
    response = client.post(
        url("delegation-list"),
        {"delegator": marketer.pk, "delegate": teammate.pk, "starts_on": today, "ends_on": today},
    )
    assert response.status_code == 302
    for user, count in [(marketer, 1), (teammate, 1), (lead, 1), (outsider, 0), (ops_admin, 1)]:
        client.force_login(user)
        assert len(client.get(url("delegation-list")).context["delegations"]) == count


# --- navigation -----------------------------------------------------------------------------


def test_the_nav_shows_my_task_count(client, start_request, lead, marketer):
    start_request(title="One")
    start_request(title="Two")
    client.force_login(lead)
    response = client.get(url("request-list"))
    tasks = next(item for item in response.context["nav_items"] if item.label == "Tasks")
    assert tasks.badge == 2
    assert b'data-testid="nav-badge">2<' in response.content
    client.force_login(marketer)
    response = client.get(url("request-list"))
    assert next(item for item in response.context["nav_items"] if item.label == "Tasks").badge == 0
    assert b"nav-badge" not in response.content


def test_the_nav_offers_workflows_to_ops_admins_only(client, marketer, ops_admin):
    for user, shown in [(marketer, False), (ops_admin, True)]:
        client.force_login(user)
        response = client.get(url("template-list"))
        labels = [item.label for item in response.context["nav_items"]]
        assert "Tasks" in labels
        assert ("Workflows" in labels) is shown
    assert response.context["nav_active"].label == "Workflows"  # the longest matching prefix wins


def test_a_second_team_does_not_leak_into_the_request_form(client, marketer, team):
    TeamFactory(name="Elsewhere", slug="elsewhere")
    client.force_login(marketer)
    teams = list(client.get(url("request-create")).context["form"].fields["team"].queryset)
    assert teams == [team]


def test_a_delegate_from_another_team_can_open_and_act_on_the_delegated_task(client, start_request, lead, outsider):
    start_request()
    today = timezone.localdate()
    services.delegation_create(actor=lead, delegator=lead, delegate=outsider, starts_on=today, ends_on=today)
    client.force_login(outsider)
    assert [t.name for t in client.get(url("my-tasks")).context["page"]] == ["Lead approval"]
    assert client.get(url("task-detail", lead_task().pk)).status_code == 200
    response = client.post(url("task-detail", lead_task().pk), {"action": "approve", "comment": "For Lena"})
    assert response.status_code == 302
    assert (lead_task().status, lead_task().decided_by) == (StepStatus.APPROVED, outsider)


def test_the_template_says_who_decides_when_separation_of_duties_leaves_too_few(client, ops_admin, marketer):
    client.force_login(ops_admin)
    data = formset_data(
        [
            {"stage": 1, "name": "Source side", "role": Role.FINANCE, "fallback_role": Role.CMO},
            {"stage": 1, "name": "Destination side", "role": Role.FINANCE},
        ],
        name="Two-sided sign-off",
        description="",
        subject_type="general_request",
    )
    assert client.post(url("template-create"), data).status_code == 302
    template = WorkflowTemplate.objects.get(slug="two-sided-sign-off")
    assert [s.fallback_role for s in template.steps.order_by("position")] == [Role.CMO, ""]
    client.force_login(marketer)
    page = client.get(url("template-detail", template.slug)).content.decode()
    assert "it also goes to: CMO." in page
    assert "is refused when it is made" in page
