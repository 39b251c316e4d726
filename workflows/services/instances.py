"""Writes of running workflows: start, act on steps, resubmit, cancel, reassign, delegate.

Each locks the instance it moves, applies transitions through ``workflows.states``, writes its
audit event, fires the subject's callbacks (inside the transaction) and queues notifications
(after commit)."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from mops.services import audit
from workflows import notifications, registry, selectors
from workflows.models import (
    Delegation,
    InstanceStatus,
    StageRule,
    StepAssignment,
    StepKind,
    StepStatus,
    StepTask,
    TemplateStatus,
    WorkflowInstance,
    WorkflowTemplate,
)
from workflows.permissions import act_refusal, acting_for, can_cancel, can_delegate_for, can_reassign
from workflows.sla import add_business_days
from workflows.states import TransitionConflict, instance_transition, step_transition


class ActionRefused(PermissionDenied):
    """The actor may not act on this step; the message says why."""


# --- instances ------------------------------------------------------------------------------


def instance_start(*, actor, subject, subject_type: str, template: WorkflowTemplate | None = None) -> WorkflowInstance:
    """Start a workflow on ``subject``: on ``template`` or the active template of its type.

    Creates every step (conditions decide which apply), activates the first stage with applicable
    steps, and completes at once when no step applies.
    """
    kind = registry.get(subject_type)
    template = template or selectors.active_template_for(subject_type)
    if template is None:
        raise ValidationError(f"There is no active “{kind.label}” workflow template; ask an ops admin to create one.")
    if template.status != TemplateStatus.ACTIVE:
        raise ValidationError(f"The template “{template.name}” is {template.get_status_display().lower()}.")
    if template.subject_type != subject_type:
        raise ValidationError(f"The template “{template.name}” is not for {kind.label.lower()}.")
    team = kind.team_of(subject) if kind.team_of else None
    with transaction.atomic():
        try:
            with transaction.atomic():
                instance = WorkflowInstance.objects.create(
                    template=template,
                    subject_type=subject_type,
                    subject_content_type=ContentType.objects.get_for_model(subject),
                    subject_id=str(subject.pk),
                    subject_repr=str(subject)[:200],
                    context=kind.snapshot(subject),
                    team=team,
                    started_by=actor,
                )
        except IntegrityError:
            raise ValidationError(f"“{subject}” already has a workflow in progress.") from None
        audit(
            actor=actor,
            action="workflow.start",
            obj=instance,
            after={"template": str(template), "context": instance.context},
        )
        _create_round(instance, round_number=1)
        _refuse_undecidable(instance, round_number=1)
        _advance(instance, actor=actor)
    return instance


def _refuse_undecidable(instance: WorkflowInstance, *, round_number: int) -> None:
    """Refuse (roll back) a request no one may decide, rather than let it wait for good: a stage
    whose approvals separation of duties leaves without enough different deciders, even with the
    steps' fallback approvers (``selectors.staff_stage``)."""
    stages: dict[int, list] = {}
    pending = instance.steps.filter(round=round_number, status=StepStatus.PENDING).select_related("template_step")
    for step in pending.order_by("stage", "position"):
        stages.setdefault(step.stage, []).append(step.template_step)
    for steps in stages.values():
        staffing = selectors.staff_stage(steps, team_id=instance.team_id, requester_id=instance.started_by_id)
        if staffing.problem:
            raise ValidationError(
                f"No one may decide this {registry.get(instance.subject_type).label.lower()}: {staffing.problem}. "
                f"Ask someone else to make the request, or an ops admin to give the step a fallback approver "
                f"in “{instance.template.name}”."
            )


def _create_round(instance: WorkflowInstance, *, round_number: int, from_stage: int = 1) -> None:
    """Create the steps of one round (the first, or a resubmission from ``from_stage`` on)."""
    steps = []
    for step in instance.template.steps.filter(stage__gte=from_stage).order_by("position"):
        applies = selectors.step_applies(step, instance.subject_type, instance.context)
        steps.append(
            StepTask(
                instance=instance,
                template_step=step,
                position=step.position,
                stage=step.stage,
                round=round_number,
                name=step.name,
                kind=step.kind,
                status=StepStatus.PENDING if applies else StepStatus.SKIPPED,
            )
        )
    StepTask.objects.bulk_create(steps)


def _current_round(instance) -> int:
    return instance.steps.order_by("-round").values_list("round", flat=True).first() or 1


def _advance(instance: WorkflowInstance, *, actor) -> None:
    """Activate the next stage with pending steps, or complete the instance when none is left."""
    round_number = _current_round(instance)
    pending = instance.steps.filter(round=round_number, status=StepStatus.PENDING).order_by("stage", "position")
    first = pending.first()
    if first is None:
        instance_transition(instance, "complete", finished_at=timezone.now(), current_stage=None)
        audit(actor=actor, action="workflow.complete", obj=instance, after={"status": instance.status})
        registry.fire(instance.subject_type, "approved", instance, actor=actor)
        notifications.instance_finished(instance)
        return
    WorkflowInstance.objects.filter(pk=instance.pk).update(current_stage=first.stage)
    instance.current_stage = first.stage
    now = timezone.now()
    stage_steps = list(pending.filter(stage=first.stage).select_related("template_step"))
    staffing = selectors.staff_stage(
        [step.template_step for step in stage_steps], team_id=instance.team_id, requester_id=instance.started_by_id
    )
    for step in stage_steps:
        step_transition(step, "activate", activated_at=now, due_at=add_business_days(now, step.template_step.sla_days))
        users = staffing.assignees[step.template_step_id]
        StepAssignment.objects.bulk_create([StepAssignment(task=step, user=user) for user in users])
        audit(
            actor=actor,
            action="step.activate",
            obj=instance,
            after={"step": step.name, "assignees": [u.username for u in users], "due_at": step.due_at},
        )
        notifications.step_assigned(step, users)


def _lock(instance_id) -> WorkflowInstance:
    # Every action on an instance takes this row lock first: two approvers acting at once are
    # serialised here, and the loser then finds the step already decided (a conflict, not a repeat).
    # of=("self",): lock the instance row only — locking the joined template row too would make
    # every action on every instance of one template wait for each other.
    return WorkflowInstance.objects.select_for_update(of=("self",)).select_related("template").get(pk=instance_id)


@dataclass(frozen=True)
class ActResult:
    task: StepTask
    instance: WorkflowInstance


def task_act(*, actor, task: StepTask, action: str, comment: str = "") -> ActResult:
    """Complete a task, or approve / reject / return an approval. Reject and return need a comment.

    Raises ActionRefused (403) when the actor may not act, TransitionConflict (409) when the step
    was already decided, ValidationError (400) for a missing comment.
    """
    if action not in ("complete", "approve", "reject", "return"):
        raise ValidationError({"action": [f"Unknown action {action!r}."]})
    comment = (comment or "").strip()
    with transaction.atomic():
        instance = _lock(task.instance_id)
        task = StepTask.objects.select_related("instance").get(pk=task.pk)
        task.instance = instance
        refusal = act_refusal(actor, task, action)
        if refusal:
            raise ActionRefused(refusal)
        if action in ("reject", "return") and not comment:
            raise ValidationError({"comment": ["Say why: a comment is required to reject or send back."]})
        if task.status == StepStatus.PENDING:
            raise TransitionConflict("This step has not started yet: an earlier stage is still open.")
        if task.status != StepStatus.ACTIVE or instance.status != InstanceStatus.RUNNING:
            who = f" by {task.decided_by}" if task.decided_by_id else ""
            raise TransitionConflict(f"This step is already {task.get_status_display().lower()}{who}.")
        before = {"step": task.name, "status": task.status}
        delegator = acting_for(actor, task)  # a delegate decides in the name of an assignee: say whose
        step_transition(
            task, action, decided_by=actor, decided_for=delegator, decided_at=timezone.now(), comment=comment
        )
        after = {"step": task.name, "status": task.status, "comment": comment}
        if delegator is not None:
            after |= {"for": delegator.username, "for_name": delegator.get_full_name() or delegator.username}
        audit(actor=actor, action=f"step.{action}", obj=instance, before=before, after=after)
        notifications.step_decided(task, actor)

        if action == "reject":
            _skip_open_steps(instance)
            instance_transition(instance, "reject", finished_at=timezone.now(), current_stage=None)
            audit(
                actor=actor,
                action="workflow.reject",
                obj=instance,
                after={"status": instance.status, "comment": comment},
            )
            registry.fire(instance.subject_type, "rejected", instance, actor=actor)
            notifications.instance_finished(instance)
        elif action == "return":
            _skip_open_steps(instance)
            instance_transition(instance, "return")
            audit(
                actor=actor,
                action="workflow.return",
                obj=instance,
                after={"status": instance.status, "comment": comment},
            )
            registry.fire(instance.subject_type, "returned", instance, actor=actor)
        else:
            _after_positive_decision(instance, task, actor=actor)
    return ActResult(task=task, instance=instance)


def _skip_open_steps(instance: WorkflowInstance, *, stage: int | None = None) -> None:
    open_steps = instance.steps.filter(status__in=[StepStatus.PENDING, StepStatus.ACTIVE])
    if stage is not None:
        open_steps = open_steps.filter(stage=stage)
    for step in open_steps:
        step_transition(step, "skip")


def _after_positive_decision(instance: WorkflowInstance, task: StepTask, *, actor) -> None:
    stage_steps = instance.steps.filter(round=task.round, stage=task.stage)
    if task.template_step.stage_rule == StageRule.ANY:
        _skip_open_steps(instance, stage=task.stage)  # one approval decides an any-of stage
    elif stage_steps.filter(status=StepStatus.ACTIVE).exists():
        return  # all-of stage: others still to decide
    _advance(instance, actor=actor)


def instance_resubmit(*, actor, instance: WorkflowInstance, comment: str = "") -> WorkflowInstance:
    """The requester revised a returned subject: run the stage that sent it back (and the rest) again."""
    with transaction.atomic():
        instance = _lock(instance.pk)
        if instance.started_by_id != actor.pk:
            raise ActionRefused("Only the person who started this workflow can resubmit it.")
        returned = instance.steps.filter(status=StepStatus.RETURNED).order_by("-round", "stage").first()
        instance_transition(instance, "resubmit")
        kind = registry.get(instance.subject_type)
        instance.context = kind.snapshot(instance.subject)  # conditions see the revised subject
        instance.save(update_fields=["context"])
        audit(
            actor=actor,
            action="workflow.resubmit",
            obj=instance,
            after={"comment": comment, "context": instance.context},
        )
        round_number = _current_round(instance) + 1
        _create_round(instance, round_number=round_number, from_stage=returned.stage if returned else 1)
        _refuse_undecidable(instance, round_number=round_number)
        registry.fire(instance.subject_type, "resubmitted", instance, actor=actor)
        _advance(instance, actor=actor)
    return instance


def instance_cancel(*, actor, instance: WorkflowInstance, comment: str = "") -> WorkflowInstance:
    with transaction.atomic():
        instance = _lock(instance.pk)
        if not can_cancel(actor, instance):
            raise ActionRefused("Only the person who started this workflow or an ops admin can cancel it.")
        _skip_open_steps(instance)
        instance_transition(instance, "cancel", finished_at=timezone.now(), current_stage=None)
        audit(
            actor=actor, action="workflow.cancel", obj=instance, after={"status": instance.status, "comment": comment}
        )
        registry.fire(instance.subject_type, "cancelled", instance, actor=actor)
    return instance


def task_reassign(*, actor, task: StepTask, to_user, comment: str = "") -> StepTask:
    """Give an active step to someone else instead of its current assignees (managers, ops admins)."""
    with transaction.atomic():
        instance = _lock(task.instance_id)
        task = StepTask.objects.select_related("instance").get(pk=task.pk)
        if not can_reassign(actor, task):
            raise ActionRefused("Only ops admins and the lead of the subject's team can reassign steps.")
        if task.status != StepStatus.ACTIVE:
            raise TransitionConflict(f"This step is already {task.get_status_display().lower()}.")
        if task.kind == StepKind.APPROVAL and to_user.pk == instance.started_by_id:
            raise ValidationError({"to_user": ["The requester cannot approve their own request."]})
        decided_sibling = StepTask.objects.filter(
            instance=instance, round=task.round, stage=task.stage, kind=StepKind.APPROVAL, decided_by=to_user
        ).exclude(pk=task.pk)
        if task.kind == StepKind.APPROVAL and decided_sibling.exists():
            raise ValidationError(
                {"to_user": [f"{to_user} already decided another approval of this stage; choose someone else."]}
            )
        if not to_user.is_active:
            raise ValidationError({"to_user": [f"{to_user} is not an active user."]})
        before = sorted(task.assignments.values_list("user__username", flat=True))
        task.assignments.all().delete()
        StepAssignment.objects.create(task=task, user=to_user, reason=StepAssignment.Reason.REASSIGNED)
        audit(
            actor=actor,
            action="step.reassign",
            obj=instance,
            before={"step": task.name, "assignees": before},
            after={"step": task.name, "assignees": [to_user.username], "comment": comment},
        )
        notifications.step_assigned(task, [to_user])
    return task


def delegation_create(*, actor, delegator, delegate, starts_on, ends_on) -> Delegation:
    if not can_delegate_for(actor, delegator):
        raise PermissionDenied("You can delegate your own steps; team leads and ops admins can delegate for others.")
    delegation = Delegation(
        delegator=delegator, delegate=delegate, starts_on=starts_on, ends_on=ends_on, created_by=actor
    )
    if delegator == delegate:
        raise ValidationError({"delegate": ["Choose someone other than the person delegating."]})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": ["The end date is before the start date."]})
    if not delegate.is_active:
        raise ValidationError({"delegate": [f"{delegate} is not an active user."]})
    overlapping = Delegation.objects.filter(delegator=delegator, starts_on__lte=ends_on, ends_on__gte=starts_on)
    if overlapping.exists():
        other = overlapping.select_related("delegate").first()
        raise ValidationError(
            {
                "starts_on": [
                    f"{delegator} already delegates to {other.delegate} from {other.starts_on} to {other.ends_on}."
                ]
            }
        )
    with transaction.atomic():
        delegation.save()
        audit(
            actor=actor,
            action="delegation.create",
            obj=delegation,
            after={"delegator": delegator.username, "delegate": delegate.username, "from": starts_on, "to": ends_on},
        )
    return delegation
