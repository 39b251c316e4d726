"""Reads of workflow data: routing (who a step goes to), conditions, previews, "my tasks", strips."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from mops.models import AuditEvent, Membership
from workflows import registry
from workflows.models import (
    OPEN_INSTANCE_STATES,
    AssigneeType,
    ConditionOperator,
    Delegation,
    StageRule,
    StepAssignment,
    StepKind,
    StepStatus,
    StepTask,
    TemplateStatus,
    TemplateStep,
    WorkflowInstance,
    WorkflowTemplate,
)

_COMPARE = {
    ConditionOperator.EQ: lambda a, b: a == b,
    ConditionOperator.NE: lambda a, b: a != b,
    ConditionOperator.GTE: lambda a, b: a >= b,
    ConditionOperator.GT: lambda a, b: a > b,
    ConditionOperator.LTE: lambda a, b: a <= b,
    ConditionOperator.LT: lambda a, b: a < b,
}


def step_applies(step: TemplateStep, subject_type_key: str, context: dict) -> bool:
    """Does ``step``'s condition hold for a subject whose attribute values are ``context``?

    No condition: always. A condition on a value the subject does not have: the step does not apply.
    Text compares case-insensitively; numbers as decimals.
    """
    if not step.condition_attribute:
        return True
    attribute = registry.get(subject_type_key).attribute(step.condition_attribute)
    if attribute is None:
        return False
    actual = attribute.parse(context.get(step.condition_attribute))
    expected = attribute.parse(step.condition_value)
    if actual is None or expected is None:
        return False
    if isinstance(actual, str):
        actual, expected = actual.casefold(), expected.casefold()
    return _COMPARE[step.condition_operator](actual, expected)


def route(step: TemplateStep, *, team_id, exclude_user_id=None) -> list:
    """The users a step goes to. The requester is never routed an approval of their own request."""
    User = get_user_model()
    users = User.objects.filter(is_active=True)
    if step.assignee_type == AssigneeType.USER:
        users = users.filter(pk=step.user_id)
    elif step.assignee_type == AssigneeType.ROLE:
        users = users.filter(groups__name=step.role)
    elif step.assignee_type == AssigneeType.TEAM_ROLE:
        users = users.filter(groups__name=step.role, memberships__team_id=team_id)
    elif step.assignee_type == AssigneeType.TEAM_LEAD:
        users = users.filter(memberships__team_id=team_id, memberships__is_lead=True)
    if step.kind == StepKind.APPROVAL and exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return list(users.distinct().order_by("username"))


def _role_users(role: str, *, exclude_user_id=None) -> list:
    users = get_user_model().objects.filter(is_active=True, groups__name=role)
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return list(users.distinct().order_by("username"))


def _distinct_deciders(steps, assignees) -> bool:
    """Can each step get its own decider from its assignees (no one deciding two)? Kuhn's augmenting
    paths over a handful of steps and people."""
    owner: dict = {}

    def claim(step, seen) -> bool:
        for user in assignees[step.pk]:
            if user.pk in seen:
                continue
            seen.add(user.pk)
            if user.pk not in owner or claim(owner[user.pk], seen):
                owner[user.pk] = step
                return True
        return False

    return all(claim(step, set()) for step in steps)


def _undecidable(steps, assignees) -> str | None:
    """Why a stage's approvals cannot all be decided by the people they go to, or None."""
    approvals = [s for s in steps if s.kind == StepKind.APPROVAL]
    if not approvals:
        return None
    names = " and ".join(f"“{s.name}”" for s in approvals)
    if approvals[0].stage_rule == StageRule.ANY:
        if any(assignees[s.pk] for s in approvals):
            return None
        return f"{names}: no one but the requester may decide"
    if _distinct_deciders(approvals, assignees):
        return None
    people = sorted({u.username for s in approvals for u in assignees[s.pk]})
    held = f"only {', '.join(people)} may decide" if people else "no one but the requester may decide"
    return f"{names} need {len(approvals)} different approvers other than the requester, and {held}"


@dataclass(frozen=True)
class Staffing:
    """Who each step of a stage goes to, and why the stage cannot be decided (None when it can)."""

    assignees: dict  # template step id → users
    problem: str | None


def staff_stage(steps, *, team_id, requester_id) -> Staffing:
    """Route a stage's steps (``route``); when separation of duties leaves its approvals without
    enough different deciders — the requester never decides, and no one decides two approvals of
    one stage — the steps with a ``fallback_role`` also go to that role. ``problem`` says why the
    stage still cannot be decided, but only when the requester is the cause: too few people holding
    a step's role at all is a set-up gap an ops admin fixes by reassigning, as before."""
    steps = list(steps)
    assignees = {s.pk: route(s, team_id=team_id, exclude_user_id=requester_id) for s in steps}
    problem = _undecidable(steps, assignees)
    if problem is None:
        return Staffing(assignees, None)
    widened = dict(assignees)
    for s in steps:
        if s.kind == StepKind.APPROVAL and s.fallback_role:
            extra = [u for u in _role_users(s.fallback_role, exclude_user_id=requester_id) if u not in widened[s.pk]]
            widened[s.pk] = [*widened[s.pk], *extra]
    problem = _undecidable(steps, widened)
    if problem is not None:
        # Would the stage be decidable if the requester could decide? If not, too few people hold
        # its roles at all: a set-up gap, not the requester's doing (an ops admin reassigns).
        everyone = {s.pk: route(s, team_id=team_id) for s in steps}
        for s in steps:
            if s.kind == StepKind.APPROVAL and s.fallback_role:
                everyone[s.pk] = [*everyone[s.pk], *_role_users(s.fallback_role)]
        if _undecidable(steps, everyone) is not None:
            problem = None
    return Staffing(widened, problem)


@dataclass(frozen=True)
class PreviewStep:
    step: TemplateStep
    applies: bool
    assignees: list


def preview(template: WorkflowTemplate, *, context: dict, team_id=None, requester_id=None) -> list[PreviewStep]:
    """Which steps apply for a subject like this, and to whom each goes."""
    steps = list(template.steps.select_related("user").order_by("position"))
    applies = {step.pk: step_applies(step, template.subject_type, context) for step in steps}
    assignees: dict = {}
    for stage in sorted({step.stage for step in steps}):
        staged = [step for step in steps if step.stage == stage and applies[step.pk]]
        # As the engine routes them: with the fallback approvers when separation of duties needs them.
        assignees.update(staff_stage(staged, team_id=team_id, requester_id=requester_id).assignees)
    return [PreviewStep(step, applies[step.pk], assignees.get(step.pk, [])) for step in steps]


def active_template_for(subject_type_key: str) -> WorkflowTemplate | None:
    """The template an app's subject starts on: the most recently created active one of its type."""
    return (
        WorkflowTemplate.objects.filter(subject_type=subject_type_key, status=TemplateStatus.ACTIVE)
        .order_by("-created_at", "-id")
        .first()
    )


def template_list(*, include_retired: bool = False) -> QuerySet[WorkflowTemplate]:
    """The live version of each template (and retired ones on request), with step and instance counts."""
    statuses = [TemplateStatus.ACTIVE, TemplateStatus.RETIRED] if include_retired else [TemplateStatus.ACTIVE]
    return (
        WorkflowTemplate.objects.filter(status__in=statuses)
        .annotate(
            step_count=Count("steps", distinct=True),
            running_count=Count("instances", filter=Q(instances__status="running"), distinct=True),
        )
        .order_by("name")
    )


def template_versions(slug: str) -> QuerySet[WorkflowTemplate]:
    return (
        WorkflowTemplate.objects.filter(slug=slug)
        .select_related("created_by")
        .annotate(instance_count=Count("instances"))
        .order_by("-version")
    )


def my_tasks(user, *, kind: str = "", overdue: bool = False, subject_type: str = "") -> QuerySet[StepTask]:
    """Active steps waiting for ``user``: assigned to them, or to someone who delegated to them today."""
    today = timezone.localdate()
    delegators = Delegation.objects.filter(delegate=user, starts_on__lte=today, ends_on__gte=today).values(
        "delegator_id"
    )
    mine = StepAssignment.objects.filter(task=OuterRef("pk")).filter(Q(user=user) | Q(user_id__in=delegators))
    qs = (
        StepTask.objects.filter(status=StepStatus.ACTIVE)
        .filter(Exists(mine))
        .select_related("instance__template", "instance__started_by", "instance__team")
        .order_by("due_at", "id")
    )
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = qs.filter(due_at__lt=timezone.now())
    if subject_type:
        qs = qs.filter(instance__subject_type=subject_type)
    return qs


def my_task_count(user) -> int:
    return my_tasks(user).count() if user.is_authenticated else 0


def instance_steps(instance: WorkflowInstance) -> list[StepTask]:
    """The instance's steps for its progress strip: the latest round of each position, in order."""
    steps = list(
        instance.steps.select_related("decided_by", "decided_for")
        .prefetch_related(Prefetch("assignments", queryset=StepAssignment.objects.select_related("user")))
        .order_by("position", "-round")
    )
    latest = {}
    for step in steps:
        latest.setdefault(step.position, step)
    return sorted(latest.values(), key=lambda s: s.position)


def instance_history(instance: WorkflowInstance) -> QuerySet[AuditEvent]:
    """Every transition of the instance, oldest first (audit events are written against the instance)."""
    return (
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(WorkflowInstance), object_id=str(instance.pk)
        )
        .select_related("actor")
        .order_by("at", "id")
    )


def instances_of(subject) -> QuerySet[WorkflowInstance]:
    """The workflows that ran or run on a subject, newest first — for the subject's own page."""
    return WorkflowInstance.objects.filter(
        subject_content_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk)
    ).select_related("template", "started_by")


def open_instance_of(subject) -> WorkflowInstance | None:
    return instances_of(subject).filter(status__in=["running", "returned"]).first()


def open_instances_started_by(user) -> QuerySet[WorkflowInstance]:
    """ "Requests I started" that are still running or sent back to me."""
    return WorkflowInstance.objects.filter(started_by=user, status__in=OPEN_INSTANCE_STATES).select_related("template")


def team_leads(team_id) -> list:
    return [m.user for m in Membership.objects.filter(team_id=team_id, is_lead=True).select_related("user")]
