"""Every write of the workflow engine. Each runs in one transaction, locks the instance it moves,
applies transitions through ``workflows.states``, writes its audit event, fires the subject's
callbacks (inside the transaction) and queues notifications (after commit)."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from mops.services import audit
from workflows import notifications, registry, selectors
from workflows.models import (
    AssigneeType,
    Delegation,
    InstanceStatus,
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
from workflows.permissions import act_refusal, can_cancel, can_delegate_for, can_manage_templates, can_reassign
from workflows.sla import add_business_days
from workflows.states import TransitionConflict, instance_transition, step_transition

STEP_FIELDS = [
    "stage",
    "name",
    "kind",
    "assignee_type",
    "role",
    "user",
    "sla_days",
    "stage_rule",
    "condition_attribute",
    "condition_operator",
    "condition_value",
    "escalate_after_reminders",
]


RESERVED_SLUGS = {"new"}


class ActionRefused(PermissionDenied):
    """The actor may not act on this step; the message says why."""


# --- templates ------------------------------------------------------------------------------


def _require_template_admin(actor):
    if not can_manage_templates(actor):
        raise PermissionDenied("Only ops admins can manage workflow templates.")


def _validate_steps(subject_type_key: str, steps: list[dict]) -> None:
    """Raise ValidationError naming each bad step by its number (1-based)."""
    subject_type = registry.get(subject_type_key)
    errors = []
    if not steps:
        errors.append("A template needs at least one step.")
    stage_rules: dict[int, str] = {}
    previous_stage = 0
    for number, step in enumerate(steps, start=1):
        prefix = f"Step {number}"
        if not str(step.get("name", "")).strip():
            errors.append(f"{prefix}: give it a name.")
        stage = step.get("stage") or 0
        if stage < 1:
            errors.append(f"{prefix}: the stage must be 1 or more.")
        elif stage < previous_stage:
            errors.append(f"{prefix}: stages must be in order (stage {stage} after stage {previous_stage}).")
        previous_stage = max(previous_stage, stage)
        kind = step.get("kind")
        if kind not in StepKind.values:
            errors.append(f"{prefix}: choose task or approval.")
        assignee_type = step.get("assignee_type")
        if assignee_type not in AssigneeType.values:
            errors.append(f"{prefix}: choose who the step goes to.")
        if assignee_type in (AssigneeType.ROLE, AssigneeType.TEAM_ROLE) and not step.get("role"):
            errors.append(f"{prefix}: choose the role it goes to.")
        if assignee_type == AssigneeType.USER and not step.get("user"):
            errors.append(f"{prefix}: choose the user it goes to.")
        attribute_name = step.get("condition_attribute") or ""
        if attribute_name:
            attribute = subject_type.attribute(attribute_name)
            if attribute is None:
                errors.append(f"{prefix}: {subject_type.label} has no attribute {attribute_name!r} to test.")
            elif not step.get("condition_operator"):
                errors.append(f"{prefix}: choose how to compare {attribute.label}.")
            else:
                try:
                    if attribute.parse(step.get("condition_value")) is None:
                        errors.append(f"{prefix}: give the value to compare {attribute.label} with.")
                except ValueError as exc:
                    errors.append(f"{prefix}: {exc}")
                if attribute.kind == "text" and step.get("condition_operator") not in ("eq", "ne"):
                    errors.append(f"{prefix}: {attribute.label} is text; compare it with 'is' or 'is not'.")
        rule = step.get("stage_rule") or StageRule.ALL
        if stage in stage_rules and stage_rules[stage] != rule:
            errors.append(f"{prefix}: all steps of stage {stage} must share one rule (all or any).")
        stage_rules.setdefault(stage, rule)
        if kind == StepKind.TASK and rule == StageRule.ANY:
            errors.append(f"{prefix}: 'any one may approve' applies to approvals, not tasks.")
    if errors:
        raise ValidationError({"steps": errors})


def _write_steps(template: WorkflowTemplate, steps: list[dict]) -> None:
    TemplateStep.objects.bulk_create(
        [
            TemplateStep(
                template=template,
                position=position,
                **{field: step.get(field) for field in STEP_FIELDS if step.get(field) is not None},
            )
            for position, step in enumerate(steps, start=1)
        ]
    )


def _template_snapshot(template: WorkflowTemplate) -> dict:
    return {
        "name": template.name,
        "version": template.version,
        "status": template.status,
        "steps": [
            {field: getattr(step, f"{field}_id" if field == "user" else field) for field in STEP_FIELDS}
            for step in template.steps.order_by("position")
        ],
    }


def template_create(
    *, actor, name: str, subject_type: str, steps: list[dict], description: str = ""
) -> WorkflowTemplate:
    """Create version 1 of a template. ``steps`` are dicts of TemplateStep fields, in order."""
    _require_template_admin(actor)
    try:
        registry.get(subject_type)
    except LookupError as exc:
        raise ValidationError({"subject_type": [str(exc)]}) from None
    _validate_steps(subject_type, steps)
    slug = slugify(name)[:80] or "template"
    if slug in RESERVED_SLUGS:
        slug = f"{slug}-template"  # /workflows/templates/new/ is the create page
    if WorkflowTemplate.objects.filter(slug=slug).exists():
        raise ValidationError({"name": [f"A template named like “{name}” exists already."]})
    with transaction.atomic():
        template = WorkflowTemplate.objects.create(
            slug=slug, name=name.strip(), description=description, subject_type=subject_type, created_by=actor
        )
        _write_steps(template, steps)
        audit(actor=actor, action="workflow_template.create", obj=template, after=_template_snapshot(template))
    return template


def template_update(
    *, actor, template: WorkflowTemplate, steps: list[dict], name=None, description=None
) -> WorkflowTemplate:
    """Change a template. A version that instances already use is never edited: the change becomes
    version N+1 and N is superseded; running instances keep the version they started with."""
    _require_template_admin(actor)
    _validate_steps(template.subject_type, steps)
    with transaction.atomic():
        current = WorkflowTemplate.objects.select_for_update().get(pk=template.pk)
        if current.status != TemplateStatus.ACTIVE:
            raise ValidationError("Only the active version of a template can be edited.")
        before = _template_snapshot(current)
        if current.instances.exists():
            WorkflowTemplate.objects.filter(pk=current.pk).update(status=TemplateStatus.SUPERSEDED)
            current = WorkflowTemplate.objects.create(
                slug=current.slug,
                version=current.version + 1,
                name=(name or current.name).strip(),
                description=current.description if description is None else description,
                subject_type=current.subject_type,
                created_by=actor,
            )
        else:
            current.name = (name or current.name).strip()
            if description is not None:
                current.description = description
            current.save(update_fields=["name", "description"])
            current.steps.all().delete()
        _write_steps(current, steps)
        audit(
            actor=actor,
            action="workflow_template.update",
            obj=current,
            before=before,
            after=_template_snapshot(current),
        )
    return current


def template_retire(*, actor, template: WorkflowTemplate) -> WorkflowTemplate:
    _require_template_admin(actor)
    with transaction.atomic():
        updated = WorkflowTemplate.objects.filter(pk=template.pk, status=TemplateStatus.ACTIVE).update(
            status=TemplateStatus.RETIRED
        )
        if not updated:
            raise TransitionConflict("Only an active template can be retired.")
        template.status = TemplateStatus.RETIRED
        audit(
            actor=actor,
            action="workflow_template.retire",
            obj=template,
            before={"status": "active"},
            after={"status": "retired"},
        )
    return template


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
        _advance(instance, actor=actor)
    return instance


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
        registry.fire(instance.subject_type, "approved", instance)
        notifications.instance_finished(instance)
        return
    WorkflowInstance.objects.filter(pk=instance.pk).update(current_stage=first.stage)
    instance.current_stage = first.stage
    now = timezone.now()
    for step in pending.filter(stage=first.stage).select_related("template_step"):
        step_transition(step, "activate", activated_at=now, due_at=add_business_days(now, step.template_step.sla_days))
        users = selectors.route(step.template_step, team_id=instance.team_id, exclude_user_id=instance.started_by_id)
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
    return WorkflowInstance.objects.select_for_update().select_related("template").get(pk=instance_id)


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
        step_transition(task, action, decided_by=actor, decided_at=timezone.now(), comment=comment)
        audit(
            actor=actor,
            action=f"step.{action}",
            obj=instance,
            before=before,
            after={"step": task.name, "status": task.status, "comment": comment},
        )
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
            registry.fire(instance.subject_type, "rejected", instance)
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
            registry.fire(instance.subject_type, "returned", instance)
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
        _create_round(instance, round_number=_current_round(instance) + 1, from_stage=returned.stage if returned else 1)
        registry.fire(instance.subject_type, "resubmitted", instance)
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
        registry.fire(instance.subject_type, "cancelled", instance)
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


# --- SLAs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    marked_overdue: int
    reminded: int
    escalated: int


def sla_sweep(*, now=None) -> SweepResult:
    """Mark overdue steps, remind their assignees once per day, escalate after N reminders.

    Safe to run twice at once or twice a day: each reminder is claimed with a conditional UPDATE on
    ``last_reminded_on``, so a step gets at most one reminder per day.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    overdue = StepTask.objects.filter(status=StepStatus.ACTIVE, due_at__lt=now)
    marked = overdue.filter(overdue_since__isnull=True).update(overdue_since=now)
    reminded = escalated = 0
    candidates = overdue.exclude(last_reminded_on=today).select_related("instance", "template_step")
    for step in candidates:
        with transaction.atomic():
            claimed = (
                StepTask.objects.filter(pk=step.pk, status=StepStatus.ACTIVE)
                .exclude(last_reminded_on=today)
                .update(last_reminded_on=today, reminders_sent=F("reminders_sent") + 1)
            )
            if not claimed:
                continue  # another sweep reminded it today, or it was decided meanwhile
            step.reminders_sent += 1
            reminded += 1
            notifications.step_reminder(step)
            limit = step.template_step.escalate_after_reminders
            if limit and step.reminders_sent >= limit and step.escalated_at is None:
                leads = selectors.team_leads(step.instance.team_id)
                leads = [
                    u for u in leads if not (step.kind == StepKind.APPROVAL and u.pk == step.instance.started_by_id)
                ]
                StepAssignment.objects.bulk_create(
                    [StepAssignment(task=step, user=u, reason=StepAssignment.Reason.ESCALATED) for u in leads],
                    ignore_conflicts=True,
                )
                StepTask.objects.filter(pk=step.pk).update(escalated_at=now)
                audit(
                    actor=None,
                    action="step.escalate",
                    obj=step.instance,
                    after={"step": step.name, "to": [u.username for u in leads]},
                )
                notifications.step_escalated(step, leads)
                escalated += 1
    return SweepResult(marked_overdue=marked, reminded=reminded, escalated=escalated)
