"""Writes of workflow templates: create, edit (versioning when in use), retire."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from mops.roles import Role
from mops.services import audit
from workflows import registry
from workflows.models import (
    AssigneeType,
    StageRule,
    StepKind,
    TemplateStatus,
    TemplateStep,
    WorkflowTemplate,
)
from workflows.permissions import can_manage_templates
from workflows.states import TransitionConflict

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
    "fallback_role",
]


RESERVED_SLUGS = {"new"}


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
        fallback = step.get("fallback_role") or ""
        if fallback and fallback not in Role.values:
            errors.append(f"{prefix}: the fallback approver must be one of the roles.")
        elif fallback and kind != StepKind.APPROVAL:
            errors.append(f"{prefix}: a fallback approver applies to approvals, not tasks.")
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
