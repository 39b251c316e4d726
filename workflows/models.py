"""Workflow templates (what ops admins define), instances (a template running on one subject),
step tasks (the work and approvals people act on), and delegations.

State machines live in ``workflows/states.py``; every write goes through ``workflows/services/``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from mops.money import CurrencyField, MoneyField
from mops.roles import Role


class TemplateStatus(models.TextChoices):
    ACTIVE = "active", "Active"  # the live version: new instances start on it
    SUPERSEDED = "superseded", "Superseded"  # an older version; its running instances carry on
    RETIRED = "retired", "Retired"  # no new instances; running ones carry on


class WorkflowTemplate(models.Model):
    """One version of a process definition. Versions of one template share its ``slug``.

    A version that has instances is never edited: editing creates version N+1 and supersedes N.
    """

    slug = models.SlugField(max_length=80)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    subject_type = models.CharField(max_length=60)  # a key of workflows.registry
    status = models.CharField(max_length=12, choices=TemplateStatus.choices, default=TemplateStatus.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="wftemplate_unique_slug_version"),
            # At most one live (active) version per template.
            models.UniqueConstraint(
                fields=["slug"], condition=Q(status="active"), name="wftemplate_one_active_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="wftemplate_version_positive"),
        ]
        indexes = [
            # "Which templates can a subject of this type start?"
            models.Index(fields=["subject_type", "status"], name="wftemplate_subject_status_idx"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class StepKind(models.TextChoices):
    TASK = "task", "Task"  # someone does something and marks it complete
    APPROVAL = "approval", "Approval"  # someone approves, rejects or sends back


class AssigneeType(models.TextChoices):
    ROLE = "role", "Anyone with a role"
    TEAM_ROLE = "team_role", "A role within the subject's team"
    TEAM_LEAD = "team_lead", "The subject team's lead"
    USER = "user", "A named user"


class StageRule(models.TextChoices):
    ALL = "all", "All must approve"
    ANY = "any", "Any one may approve"


class ConditionOperator(models.TextChoices):
    EQ = "eq", "is"
    NE = "ne", "is not"
    GTE = "gte", "≥"
    GT = "gt", ">"
    LTE = "lte", "≤"
    LT = "lt", "<"


class TemplateStep(models.Model):
    """A step of a template version. Steps with the same ``stage`` run in parallel; stages run in order."""

    template = models.ForeignKey(WorkflowTemplate, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    stage = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    assignee_type = models.CharField(max_length=12, choices=AssigneeType.choices)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sla_days = models.PositiveSmallIntegerField(default=2, help_text="Business days to act once the step is active.")
    stage_rule = models.CharField(max_length=3, choices=StageRule.choices, default=StageRule.ALL)
    condition_attribute = models.CharField(max_length=60, blank=True)
    condition_operator = models.CharField(max_length=3, choices=ConditionOperator.choices, blank=True)
    condition_value = models.CharField(max_length=120, blank=True)
    escalate_after_reminders = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="After this many daily reminders, the subject team's lead is added."
    )
    # Separation of duties can leave an approval with no one to decide it (the requester is one of
    # only two finance users, and both finance steps of a stage need different people): the step
    # then also goes to this role. Without it, such a request is refused when it is made.
    fallback_role = models.CharField(
        max_length=20,
        choices=Role.choices,
        blank=True,
        help_text="When too few people may decide this approval (the requester cannot), it also goes to this role.",
    )

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="wfstep_unique_template_position"),
            models.CheckConstraint(condition=Q(stage__gte=1), name="wfstep_stage_positive"),
            models.CheckConstraint(
                condition=~Q(assignee_type__in=["role", "team_role"]) | ~Q(role=""), name="wfstep_role_needs_role"
            ),
            models.CheckConstraint(
                condition=~Q(assignee_type="user") | Q(user__isnull=False), name="wfstep_user_needs_user"
            ),
            models.CheckConstraint(
                condition=Q(condition_attribute="") | ~Q(condition_operator=""), name="wfstep_condition_complete"
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.name}"


class InstanceStatus(models.TextChoices):
    RUNNING = "running", "Running"  # a stage is active
    RETURNED = "returned", "Sent back"  # waiting for the requester to revise and resubmit
    COMPLETED = "completed", "Approved / completed"  # every applicable step done or approved
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_INSTANCE_STATES = [InstanceStatus.RUNNING, InstanceStatus.RETURNED]


class WorkflowInstance(models.Model):
    """A template version running on one subject (a campaign, an allocation request, …)."""

    template = models.ForeignKey(WorkflowTemplate, on_delete=models.PROTECT, related_name="instances")
    subject_type = models.CharField(max_length=60)
    subject_content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    subject_id = models.CharField(max_length=64)
    subject_repr = models.CharField(max_length=200)
    # Attribute values of the subject when started (or resubmitted): what conditions were tested on.
    context = models.JSONField(default=dict)
    team = models.ForeignKey("mops.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING)
    current_stage = models.PositiveSmallIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One open workflow per subject: a second start while one runs is refused.
            models.UniqueConstraint(
                fields=["subject_content_type", "subject_id"],
                condition=Q(status__in=["running", "returned"]),
                name="wfinstance_one_open_per_subject",
            ),
        ]
        indexes = [
            # The subject's page: "this subject's workflows, newest first".
            models.Index(fields=["subject_content_type", "subject_id", "-started_at"], name="wfinstance_subject_idx"),
            # "Requests I started".
            models.Index(fields=["started_by", "status"], name="wfinstance_starter_status_idx"),
        ]

    def __str__(self):
        return f"{self.template.name}: {self.subject_repr}"

    @property
    def subject(self):
        return self.subject_content_type.get_object_for_this_type(pk=self.subject_id)


class StepStatus(models.TextChoices):
    PENDING = "pending", "Upcoming"  # its stage has not started
    ACTIVE = "active", "Waiting"  # assigned, waiting for someone to act
    DONE = "done", "Done"  # a task completed
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SKIPPED = "skipped", "Skipped"  # its condition did not apply, or an any-of stage was decided
    RETURNED = "returned", "Sent back"


class StepTask(models.Model):
    """One step of one instance: what people see in "My tasks" and act on."""

    instance = models.ForeignKey(WorkflowInstance, on_delete=models.CASCADE, related_name="steps")
    template_step = models.ForeignKey(TemplateStep, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    stage = models.PositiveSmallIntegerField()
    round = models.PositiveSmallIntegerField(default=1)  # resubmission after a send-back starts round 2
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, through="StepAssignment", related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    overdue_since = models.DateTimeField(null=True, blank=True)  # set by the SLA task
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_on = models.DateField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The assignee a delegate decided for (``Delegation``); empty when an assignee decided themselves.
    decided_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["instance", "round", "position"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "round", "position"], name="wfstep_unique_instance_round_pos"),
            models.CheckConstraint(
                condition=~Q(status__in=["done", "approved", "rejected", "returned"]) | Q(decided_at__isnull=False),
                name="wfstep_decided_has_time",
            ),
        ]
        indexes = [
            # The SLA sweep: active steps by due time.
            models.Index(fields=["due_at"], condition=Q(status="active"), name="wfstep_active_due_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"

    @property
    def is_overdue(self):
        """Past its due time and still waiting (the SLA sweep records when it first noticed)."""
        return self.status == StepStatus.ACTIVE and self.due_at is not None and self.due_at < timezone.now()


class StepAssignment(models.Model):
    """Who a step waits for. Resolved from the template step when the step activates."""

    class Reason(models.TextChoices):
        ROUTED = "routed", "Routed by the template"
        REASSIGNED = "reassigned", "Reassigned"
        ESCALATED = "escalated", "Escalated"

    task = models.ForeignKey(StepTask, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="step_assignments")
    reason = models.CharField(max_length=12, choices=Reason.choices, default=Reason.ROUTED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="wfassignment_unique_task_user")]
        # "My tasks": assignments of a user (the unique index above serves task-first lookups).
        indexes = [models.Index(fields=["user", "task"], name="wfassignment_user_task_idx")]

    def __str__(self):
        return f"{self.user} on {self.task}"


class Delegation(models.Model):
    """While active, ``delegate`` may act on every step waiting for ``delegator`` (e.g. holidays)."""

    delegator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given")
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_received"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="delegation_ends_after_start"),
            models.CheckConstraint(condition=~Q(delegator=F("delegate")), name="delegation_not_to_self"),
        ]
        indexes = [models.Index(fields=["delegate", "ends_on"], name="delegation_delegate_idx")]

    def __str__(self):
        return f"{self.delegator} → {self.delegate} ({self.starts_on}–{self.ends_on})"


class RequestStatus(models.TextChoices):
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class Request(models.Model):
    """A general approval request ("sign off this sponsorship"): the workflow subject the engine
    offers itself, for processes no business app models yet."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    team = models.ForeignKey("mops.Team", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(null=True, blank=True)
    currency = CurrencyField(blank=True)
    amount_base = MoneyField(null=True, blank=True)  # in settings.BASE_CURRENCY, at the request date's rate
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.IN_REVIEW)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(amount__isnull=True), name="request_amount_not_negative"
            ),
        ]

    def __str__(self):
        return self.title
