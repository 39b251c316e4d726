"""Who may do what in workflows. Acting on a step has reasons worth telling the user, so
``act_refusal`` returns the reason (or None) instead of a bare yes/no."""

import rules
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from mops.models import Membership
from mops.permissions import is_cmo, is_finance, is_ops_admin
from mops.roles import Role
from workflows.models import Delegation, Request, StepKind, StepStatus, StepTask, WorkflowInstance

_VIEW = {"workflows.view_workflowtemplate", "workflows.view_workflowinstance", "workflows.view_request"}
ROLE_GRANTS = {
    Role.MARKETER: _VIEW,
    Role.CMO: _VIEW,
    Role.FINANCE: _VIEW,
    Role.OPS_ADMIN: _VIEW
    | {
        "workflows.add_workflowtemplate",
        "workflows.change_workflowtemplate",
        "workflows.view_delegation",
        "workflows.add_delegation",
    },
}

can_manage_templates = is_ops_admin
can_view_templates = rules.is_authenticated
sees_all_workflows = is_cmo | is_finance | is_ops_admin


def _lead_of(user, team_id) -> bool:
    return team_id is not None and Membership.objects.filter(user=user, team_id=team_id, is_lead=True).exists()


@rules.predicate
def is_lead_of_instance_team(user, task):
    return task is not None and _lead_of(user, task.instance.team_id)


can_reassign = is_ops_admin | is_lead_of_instance_team


def can_delegate_for(user, delegator) -> bool:
    """Anyone for themselves; ops admins for anyone; a team lead for the members of their teams."""
    if not user.is_authenticated:
        return False
    if user == delegator or is_ops_admin(user):
        return True
    led = Membership.objects.filter(user=user, is_lead=True).values("team_id")
    return Membership.objects.filter(user=delegator, team_id__in=led).exists()


def delegators_of(user, on=None) -> QuerySet:
    """Users whose steps ``user`` may act on today through an active delegation."""
    on = on or timezone.localdate()
    return get_user_model().objects.filter(
        delegations_given__delegate=user, delegations_given__starts_on__lte=on, delegations_given__ends_on__gte=on
    )


def may_act_for(user, task) -> bool:
    """Is ``user`` assigned to ``task``, directly or as an active delegate of an assignee?"""
    assignees = task.assignments.values("user_id")
    if task.assignments.filter(user=user).exists():
        return True
    today = timezone.localdate()
    return Delegation.objects.filter(
        delegate=user, delegator_id__in=assignees, starts_on__lte=today, ends_on__gte=today
    ).exists()


def acting_for(user, task):
    """The assignee ``user`` acts for as their delegate today, or None when ``user`` is assigned to
    ``task`` themselves (or may not act on it at all). With several delegators among the assignees,
    the first assigned."""
    if task.assignments.filter(user=user).exists():
        return None
    mine = task.assignments.filter(user__in=delegators_of(user)).select_related("user")
    assignment = mine.order_by("created_at", "pk").first()
    return assignment.user if assignment else None


SEPARATION_OF_DUTIES = "You started this workflow, so you cannot approve its steps (separation of duties)."


def act_refusal(user, task: StepTask, action: str) -> str | None:
    """Why ``user`` may not ``action`` this step, or None when they may."""
    if not user.is_authenticated:
        return "Log in first."
    if task.kind == StepKind.TASK and action != "complete":
        return "This step is a task: it can only be completed."
    if task.kind == StepKind.APPROVAL and action == "complete":
        return "This step is an approval: approve, reject or send it back."
    if task.status != StepStatus.ACTIVE:
        return None  # not a permission matter: the service answers with a conflict
    # Separation of duties first: the requester is never assigned an approval of their own request,
    # and "not assigned to you" would hide the real reason.
    if task.kind == StepKind.APPROVAL and task.instance.started_by_id == user.pk:
        return SEPARATION_OF_DUTIES
    if not may_act_for(user, task):
        return "This step is not assigned to you."
    if task.kind == StepKind.APPROVAL:
        already = StepTask.objects.filter(
            instance_id=task.instance_id, round=task.round, decided_by=user, kind=StepKind.APPROVAL, stage=task.stage
        ).exclude(pk=task.pk)
        if already.exists():
            return "You already decided another approval of this stage; a second approver must decide this one."
    return None


def instance_refusal(user, instance: WorkflowInstance, action: str = "approve") -> str | None:
    """Why ``user`` may not ``action`` any active step of ``instance`` (the engine's reason, e.g.
    separation of duties for the requester), or None when one of them is theirs to decide. For pages
    and endpoints that act on a subject rather than on a step."""
    reasons = []
    for task in instance.steps.filter(status=StepStatus.ACTIVE).select_related("instance").order_by("position"):
        reason = act_refusal(user, task, action)
        if reason is None:
            return None
        reasons.append(reason)
    if SEPARATION_OF_DUTIES in reasons:
        return SEPARATION_OF_DUTIES
    return reasons[0] if reasons else "No step of this workflow is waiting for a decision."


def instances_visible_to(user) -> QuerySet[WorkflowInstance]:
    """Everything for the CMO, finance and ops admins; otherwise the instances a user started, of
    their teams, with a step assigned to them (or to someone they stand in for today), or decided by them."""
    if not user.is_authenticated:
        return WorkflowInstance.objects.none()
    if sees_all_workflows(user):
        return WorkflowInstance.objects.all()
    teams = Membership.objects.filter(user=user).values("team_id")
    involved = StepTask.objects.filter(
        Q(assignments__user=user) | Q(assignments__user__in=delegators_of(user)) | Q(decided_by=user)
    ).values("instance_id")
    return WorkflowInstance.objects.filter(Q(started_by=user) | Q(team_id__in=teams) | Q(pk__in=involved))


def delegations_visible_to(user) -> QuerySet[Delegation]:
    """Delegations a user gave, received or set up for someone (team leads); all for ops admins."""
    if not user.is_authenticated:
        return Delegation.objects.none()
    if is_ops_admin(user):
        return Delegation.objects.all()
    return Delegation.objects.filter(Q(delegator=user) | Q(delegate=user) | Q(created_by=user))


def requests_visible_to(user) -> QuerySet[Request]:
    if not user.is_authenticated:
        return Request.objects.none()
    if sees_all_workflows(user):
        return Request.objects.all()
    teams = Membership.objects.filter(user=user).values("team_id")
    return Request.objects.filter(Q(requested_by=user) | Q(team_id__in=teams))


def can_start_request_for(user, team) -> bool:
    """Marketers raise requests for their own teams; ops admins for any team."""
    if not user.is_authenticated or team is None:
        return False
    return is_ops_admin(user) or Membership.objects.filter(user=user, team=team).exists()


def can_cancel(user, instance) -> bool:
    return user.is_authenticated and (instance.started_by_id == user.pk or is_ops_admin(user))
