"""The engine: routing, conditions, stages, decisions, callbacks, versioning, separation of duties."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from mops.models import AuditEvent
from mops.roles import Role
from tests.factories import UserFactory
from tests.workflows.conftest import instance_of, step
from workflows import services, subjects
from workflows.models import InstanceStatus, Request, RequestStatus, StepStatus, StepTask, TemplateStatus
from workflows.selectors import instance_steps, my_tasks, preview
from workflows.services import ActionRefused
from workflows.states import TransitionConflict

pytestmark = pytest.mark.django_db


def statuses(instance):
    return [(s.name, s.status) for s in instance_steps(instance)]


def test_start_activates_the_first_stage_and_routes_to_the_team_lead(start_request, lead, finance):
    instance = instance_of(start_request())
    assert instance.status == InstanceStatus.RUNNING
    assert statuses(instance) == [
        ("Lead approval", "active"),
        ("Finance approval", "pending"),
        ("CMO approval", "skipped"),  # 1,000 < 50,000
    ]
    assert [t.name for t in my_tasks(lead)] == ["Lead approval"]
    assert list(my_tasks(finance)) == []


def test_full_approval_fires_on_approved_once_the_last_step_is_approved(start_request, lead, finance, cmo):
    request = start_request(amount="60000")
    instance = instance_of(request)
    services.task_act(actor=lead, task=my_tasks(lead).get(), action="approve", comment="ok")
    assert Request.objects.get(pk=request.pk).status == RequestStatus.IN_REVIEW
    assert statuses(instance) == [
        ("Lead approval", "approved"),
        ("Finance approval", "active"),
        ("CMO approval", "active"),
    ]
    services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING  # all-of stage: the CMO has still to approve
    services.task_act(actor=cmo, task=my_tasks(cmo).get(), action="approve")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.finished_at is not None
    assert Request.objects.get(pk=request.pk).status == RequestStatus.APPROVED


def test_reject_ends_the_instance_and_skips_the_rest(start_request, lead):
    request = start_request()
    result = services.task_act(actor=lead, task=my_tasks(lead).get(), action="reject", comment="No budget left")
    assert result.instance.status == InstanceStatus.REJECTED
    assert statuses(result.instance) == [
        ("Lead approval", "rejected"),
        ("Finance approval", "skipped"),
        ("CMO approval", "skipped"),
    ]
    assert Request.objects.get(pk=request.pk).status == RequestStatus.REJECTED


@pytest.mark.parametrize("action", ["reject", "return"])
def test_reject_and_return_need_a_comment(start_request, lead, action):
    start_request()
    with pytest.raises(ValidationError) as error:
        services.task_act(actor=lead, task=my_tasks(lead).get(), action=action, comment="  ")
    assert "comment" in error.value.message_dict
    assert my_tasks(lead).get().status == StepStatus.ACTIVE


def test_return_and_resubmit_runs_the_returning_stage_again(start_request, marketer, lead, finance):
    request = start_request()
    instance = instance_of(request)
    services.task_act(actor=lead, task=my_tasks(lead).get(), action="approve")
    services.task_act(actor=finance, task=my_tasks(finance).get(), action="return", comment="Attach the quote")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RETURNED
    assert Request.objects.get(pk=request.pk).status == RequestStatus.CHANGES_REQUESTED
    assert list(my_tasks(finance)) == []

    services.instance_resubmit(actor=marketer, instance=instance, comment="Quote attached")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert Request.objects.get(pk=request.pk).status == RequestStatus.IN_REVIEW
    # Round 2 starts at the stage that sent it back: the lead's approval stands.
    assert statuses(instance) == [
        ("Lead approval", "approved"),
        ("Finance approval", "active"),
        ("CMO approval", "skipped"),
    ]
    services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED


def test_only_the_requester_resubmits(start_request, lead, finance):
    instance = instance_of(start_request())
    services.task_act(actor=lead, task=my_tasks(lead).get(), action="return", comment="Fix the title")
    with pytest.raises(ActionRefused):
        services.instance_resubmit(actor=lead, instance=instance)


def test_requester_never_approves_their_own_request_even_with_the_role(team, template, lead, finance):
    requester = UserFactory(username="fin-marketer", roles=[Role.MARKETER, Role.FINANCE], teams=[team])
    request = subjects.request_create(actor=requester, template=template, title="Own", team=team)
    instance = instance_of(request)
    services.task_act(actor=lead, task=my_tasks(lead).get(), action="approve")
    finance_step = instance.steps.get(name="Finance approval")
    # Not routed to them …
    assert not finance_step.assignments.filter(user=requester).exists()
    # … and refused even if someone routes it to them directly.
    finance_step.assignments.create(user=requester)
    with pytest.raises(ActionRefused, match="separation of duties"):
        services.task_act(actor=requester, task=finance_step, action="approve")


def test_someone_not_assigned_cannot_act(start_request, outsider, finance):
    start_request()
    task = StepTask.objects.get(name="Lead approval")
    for user in (outsider, finance):
        with pytest.raises(ActionRefused, match="not assigned to you"):
            services.task_act(actor=user, task=task, action="approve")


def test_acting_twice_is_a_conflict_not_a_second_decision(start_request, lead):
    start_request()
    task = my_tasks(lead).get()
    services.task_act(actor=lead, task=task, action="approve")
    with pytest.raises(TransitionConflict, match="already approved by"):
        services.task_act(actor=lead, task=task, action="approve")
    assert AuditEvent.objects.filter(action="step.approve").count() == 1


def test_a_task_can_only_be_completed_and_an_approval_not(team, ops_admin, marketer, lead):
    template = services.template_create(
        actor=ops_admin,
        name="Brief",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[step("Write brief", stage=1, kind="task", assignee_type="team_lead")],
    )
    subjects.request_create(actor=marketer, template=template, title="Brief", team=team)
    task = my_tasks(lead).get()
    with pytest.raises(ActionRefused, match="can only be completed"):
        services.task_act(actor=lead, task=task, action="approve")
    result = services.task_act(actor=lead, task=task, action="complete", comment="Done")
    assert result.task.status == StepStatus.DONE
    assert result.instance.status == InstanceStatus.COMPLETED


def test_any_of_stage_is_decided_by_the_first_approval(team, ops_admin, marketer, finance, second_finance):
    template = services.template_create(
        actor=ops_admin,
        name="Either finance",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[
            step("Finance A", stage=1, assignee_type="user", user=finance, stage_rule="any"),
            step("Finance B", stage=1, assignee_type="user", user=second_finance, stage_rule="any"),
        ],
    )
    request = subjects.request_create(actor=marketer, template=template, title="Either", team=team)
    services.task_act(actor=second_finance, task=my_tasks(second_finance).get(), action="approve")
    instance = instance_of(request)
    assert instance.status == InstanceStatus.COMPLETED
    assert statuses(instance) == [("Finance A", "skipped"), ("Finance B", "approved")]


def test_one_person_cannot_approve_two_parallel_steps_of_one_instance(team, ops_admin, marketer, finance):
    template = services.template_create(
        actor=ops_admin,
        name="Two finance approvals",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[step("Budget check", stage=1, role=Role.FINANCE), step("Tax check", stage=1, role=Role.FINANCE)],
    )
    subjects.request_create(actor=marketer, template=template, title="Twice", team=team)
    first, second = my_tasks(finance).order_by("position")
    services.task_act(actor=finance, task=first, action="approve")
    with pytest.raises(ActionRefused, match="second approver"):
        services.task_act(actor=finance, task=second, action="approve")


def test_a_condition_on_text_compares_case_insensitively(team, ops_admin, marketer, cmo):
    template = services.template_create(
        actor=ops_admin,
        name="NA only",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[
            step(
                "CMO for NA",
                stage=1,
                role=Role.CMO,
                condition_attribute="team",
                condition_operator="eq",
                condition_value="NA",
            ),
        ],
    )
    request = subjects.request_create(actor=marketer, template=template, title="NA", team=team)
    assert statuses(instance_of(request)) == [("CMO for NA", "active")]


def test_when_no_step_applies_the_instance_completes_at_once(team, ops_admin, marketer):
    template = services.template_create(
        actor=ops_admin,
        name="Big only",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[
            step(
                "CMO",
                stage=1,
                role=Role.CMO,
                condition_attribute="amount",
                condition_operator="gt",
                condition_value="1e6",
            )
        ],
    )
    request = subjects.request_create(actor=marketer, template=template, title="Small", team=team)
    assert instance_of(request).status == InstanceStatus.COMPLETED
    assert Request.objects.get(pk=request.pk).status == RequestStatus.APPROVED


def test_one_open_workflow_per_subject(start_request, marketer, template):
    request = start_request()
    with pytest.raises(ValidationError, match="already has a workflow in progress"):
        services.instance_start(
            actor=marketer, subject=request, subject_type=subjects.GENERAL_REQUEST, template=template
        )


def test_cancel_by_the_requester(start_request, marketer, lead):
    request = start_request()
    instance = services.instance_cancel(actor=marketer, instance=instance_of(request), comment="Not needed")
    assert instance.status == InstanceStatus.CANCELLED
    assert list(my_tasks(lead)) == []
    assert Request.objects.get(pk=request.pk).status == RequestStatus.CANCELLED


def test_every_transition_is_audited_against_the_instance(start_request, lead, finance):
    instance = instance_of(start_request())
    services.task_act(actor=lead, task=my_tasks(lead).get(), action="approve", comment="fine")
    services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    actions = list(
        AuditEvent.objects.filter(object_id=str(instance.pk), content_type__model="workflowinstance")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "workflow.start",
        "step.activate",
        "step.approve",
        "step.activate",
        "step.approve",
        "workflow.complete",
    ]


def test_notifications_are_sent_after_commit(start_request, lead, finance, django_capture_on_commit_callbacks):
    lead.email, finance.email = "lead@example.test", "fin@example.test"
    lead.save()
    finance.save()
    with django_capture_on_commit_callbacks(execute=True):
        start_request()
    assert [m.to for m in mail.outbox] == [["lead@example.test"]]
    assert "Lead approval" in mail.outbox[0].subject


def test_editing_a_template_in_use_creates_a_new_version(start_request, template, ops_admin, lead):
    request = start_request()
    new = services.template_update(
        actor=ops_admin, template=template, steps=[step("Finance only", stage=1, role=Role.FINANCE)]
    )
    template.refresh_from_db()
    assert (template.version, template.status) == (1, TemplateStatus.SUPERSEDED)
    assert (new.version, new.status, new.slug) == (2, TemplateStatus.ACTIVE, template.slug)
    # The running instance keeps version 1 …
    services.task_act(actor=lead, task=my_tasks(lead).get(), action="approve")
    instance = instance_of(request)
    assert instance.template == template
    assert [s.name for s in instance_steps(instance)] == ["Lead approval", "Finance approval", "CMO approval"]


def test_editing_an_unused_template_changes_it_in_place(template, ops_admin):
    same = services.template_update(
        actor=ops_admin, template=template, steps=[step("Only", stage=1, role=Role.CMO)], name="Renamed"
    )
    assert (same.pk, same.version, same.name) == (template.pk, 1, "Renamed")
    assert [s.name for s in same.steps.all()] == ["Only"]


def test_retired_templates_start_nothing(template, ops_admin, start_request):
    services.template_retire(actor=ops_admin, template=template)
    with pytest.raises(ValidationError, match="retired"):
        start_request()
    assert not Request.objects.exists()  # the request rolled back with the refused start


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "at least one step"),
        ([step("", stage=1, role=Role.CMO)], "Step 1: give it a name"),
        ([step("A", stage=1, assignee_type="role")], "Step 1: choose the role"),
        ([step("A", stage=1, assignee_type="user")], "Step 1: choose the user"),
        ([step("A", stage=2, role=Role.CMO), step("B", stage=1, role=Role.CMO)], "Step 2: stages must be in order"),
        (
            [
                step(
                    "A",
                    stage=1,
                    role=Role.CMO,
                    condition_attribute="colour",
                    condition_operator="eq",
                    condition_value="x",
                )
            ],
            "no attribute 'colour'",
        ),
        (
            [
                step(
                    "A",
                    stage=1,
                    role=Role.CMO,
                    condition_attribute="amount",
                    condition_operator="gte",
                    condition_value="lots",
                )
            ],
            "must be a number",
        ),
        ([step("A", stage=1, kind="task", role=Role.CMO, stage_rule="any")], "applies to approvals"),
        (
            [step("A", stage=1, role=Role.CMO, stage_rule="any"), step("B", stage=1, role=Role.CMO, stage_rule="all")],
            "must share one rule",
        ),
    ],
)
def test_template_validation_names_the_bad_step(ops_admin, steps, message):
    with pytest.raises(ValidationError) as error:
        services.template_create(actor=ops_admin, name="Bad", subject_type=subjects.GENERAL_REQUEST, steps=steps)
    assert any(message in text for text in error.value.message_dict["steps"]), error.value.message_dict


def test_only_ops_admins_manage_templates(finance):
    with pytest.raises(Exception, match="Only ops admins"):
        services.template_create(
            actor=finance, name="X", subject_type=subjects.GENERAL_REQUEST, steps=[step("A", stage=1, role=Role.CMO)]
        )


def test_preview_tells_which_steps_apply_and_to_whom(template, team, marketer, lead, finance, cmo):
    rows = preview(template, context={"amount": "60000", "team": "na"}, team_id=team.pk, requester_id=marketer.pk)
    assert [(r.step.name, r.applies, [u.username for u in r.assignees]) for r in rows] == [
        ("Lead approval", True, ["lena-lead"]),
        ("Finance approval", True, ["fred-finance"]),
        ("CMO approval", True, ["carol-cmo"]),
    ]
    rows = preview(template, context={"amount": "100"}, team_id=team.pk, requester_id=lead.pk)
    assert [(r.step.name, r.applies, [u.username for u in r.assignees]) for r in rows] == [
        ("Lead approval", True, []),  # the lead requests: nobody else leads the team
        ("Finance approval", True, ["fred-finance"]),
        ("CMO approval", False, []),
    ]


def test_a_delegate_sees_and_acts_on_the_delegators_step(start_request, lead, outsider):
    import datetime

    from django.utils import timezone

    from workflows.permissions import instances_visible_to

    instance = instance_of(start_request())
    assert not instances_visible_to(outsider).filter(pk=instance.pk).exists()
    today = timezone.localdate()
    services.delegation_create(
        actor=lead, delegator=lead, delegate=outsider, starts_on=today, ends_on=today + datetime.timedelta(days=7)
    )
    assert instances_visible_to(outsider).filter(pk=instance.pk).exists()
    task = my_tasks(outsider).get()
    services.task_act(actor=outsider, task=task, action="approve", comment="For Lena, on holiday")
    # Once the delegation ends, having decided a step still lets them see the instance.
    from workflows.models import Delegation

    Delegation.objects.update(ends_on=today - datetime.timedelta(days=1), starts_on=today - datetime.timedelta(days=2))
    assert instances_visible_to(outsider).filter(pk=instance.pk).exists()


def test_an_unassigned_user_rejecting_without_comment_is_refused_not_asked_for_a_comment(start_request, outsider):
    start_request()
    with pytest.raises(ActionRefused):
        services.task_act(actor=outsider, task=StepTask.objects.get(name="Lead approval"), action="reject")


def test_a_template_named_new_does_not_collide_with_the_create_page(ops_admin):
    template = services.template_create(
        actor=ops_admin, name="New", subject_type=subjects.GENERAL_REQUEST, steps=[step("A", stage=1, role=Role.CMO)]
    )
    assert template.slug == "new-template"


def test_reassigning_to_someone_who_decided_a_parallel_approval_is_refused(team, ops_admin, marketer, finance):
    template = services.template_create(
        actor=ops_admin,
        name="Two checks",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[step("Budget check", stage=1, role=Role.FINANCE), step("Tax check", stage=1, role=Role.CMO)],
    )
    subjects.request_create(actor=marketer, template=template, title="Twice", team=team)
    services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")
    tax = StepTask.objects.get(name="Tax check")
    with pytest.raises(ValidationError, match="already decided another approval"):
        services.task_reassign(actor=ops_admin, task=tax, to_user=finance)


def test_overlapping_delegations_are_refused(lead, outsider, teammate):
    import datetime

    start = datetime.date(2026, 12, 20)
    services.delegation_create(actor=lead, delegator=lead, delegate=outsider, starts_on=start, ends_on=start)
    with pytest.raises(ValidationError, match="already delegates"):
        services.delegation_create(actor=lead, delegator=lead, delegate=teammate, starts_on=start, ends_on=start)


# --- a request no one may decide is routed or refused, never stuck (issue 19, 3b) -------------


def _two_approvers(ops_admin, *, role=Role.FINANCE, fallback_role="", rule="all"):
    return services.template_create(
        actor=ops_admin,
        name="Two approvers",
        subject_type=subjects.GENERAL_REQUEST,
        steps=[
            step("First approval", stage=1, role=role, stage_rule=rule, fallback_role=fallback_role),
            step("Second approval", stage=1, role=role, stage_rule=rule, fallback_role=fallback_role),
        ],
    )


def _raise(template, actor, team):
    return subjects.request_create(actor=actor, template=template, title="Booth", team=team)


@pytest.fixture
def finance_requester(team):
    return UserFactory(username="frank-finance", roles=[Role.FINANCE, Role.MARKETER], teams=[team])


def test_an_all_stage_that_separation_of_duties_leaves_short_is_refused_when_made(
    ops_admin, finance_requester, finance, team
):
    template = _two_approvers(ops_admin)
    with pytest.raises(ValidationError, match="No one may decide this general approval request") as refused:
        _raise(template, finance_requester, team)
    assert "“First approval” and “Second approval” need 2 different approvers" in str(refused.value)
    assert "fallback approver" in str(refused.value)
    assert not Request.objects.exists()


def test_the_fallback_role_takes_the_steps_finance_cannot_staff(ops_admin, finance_requester, finance, cmo, team):
    template = _two_approvers(ops_admin, fallback_role=Role.CMO)
    instance = instance_of(_raise(template, finance_requester, team))
    assert {t.name for t in my_tasks(cmo)} == {"First approval", "Second approval"}
    services.task_act(actor=finance, task=my_tasks(finance).get(name="First approval"), action="approve")
    with pytest.raises(ActionRefused, match="already decided another approval"):
        services.task_act(actor=finance, task=my_tasks(finance).get(name="Second approval"), action="approve")
    services.task_act(actor=cmo, task=my_tasks(cmo).get(name="Second approval"), action="approve")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED


def test_the_fallback_is_not_used_when_the_role_has_enough_people(
    ops_admin, finance_requester, finance, second_finance, cmo, team
):
    template = _two_approvers(ops_admin, fallback_role=Role.CMO)
    _raise(template, finance_requester, team)
    assert list(my_tasks(cmo)) == []
    assert my_tasks(finance).count() == my_tasks(second_finance).count() == 2


def test_an_any_stage_with_only_the_requester_is_refused(ops_admin, finance_requester, team):
    template = _two_approvers(ops_admin, rule="any")
    with pytest.raises(ValidationError, match="no one but the requester may decide"):
        _raise(template, finance_requester, team)


def test_a_role_no_one_holds_is_left_to_an_ops_admin_as_before(ops_admin, marketer, team):
    template = _two_approvers(ops_admin, role=Role.CMO)  # no CMO user at all: not the requester's doing
    instance = instance_of(_raise(template, marketer, team))
    assert instance.status == InstanceStatus.RUNNING


def test_a_fallback_role_is_for_approvals(ops_admin):
    with pytest.raises(ValidationError, match="a fallback approver applies to approvals, not tasks"):
        services.template_create(
            actor=ops_admin,
            name="Task with fallback",
            subject_type=subjects.GENERAL_REQUEST,
            steps=[step("Do it", stage=1, kind="task", assignee_type="role", role=Role.FINANCE, fallback_role="cmo")],
        )
