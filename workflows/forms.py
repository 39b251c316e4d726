"""Forms of the workflow pages. They parse input only; the rules live in ``workflows.services``
(which names a bad template step as "Step N: …") and ``workflows.permissions``."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from mops.forms import CrispyFormMixin
from mops.models import Currency, Membership, Team
from mops.permissions import is_ops_admin
from mops.roles import Role
from workflows import registry
from workflows.models import (
    AssigneeType,
    ConditionOperator,
    StageRule,
    StepKind,
    TemplateStatus,
    WorkflowTemplate,
)
from workflows.services.templates import STEP_FIELDS
from workflows.subjects import GENERAL_REQUEST


def active_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


def _comment_field(required=False, label="Comment"):
    return forms.CharField(required=required, label=label, widget=forms.Textarea(attrs={"rows": 3}))


# --- tasks ----------------------------------------------------------------------------------


class TaskFilterForm(forms.Form):
    """The filters of "My tasks" (GET)."""

    kind = forms.ChoiceField(choices=[("", "Any kind"), *StepKind.choices], required=False)
    subject_type = forms.ChoiceField(required=False, label="Subject")
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_type"].choices = [("", "Any subject"), *registry.choices()]


class ActionForm(forms.Form):
    """The comment of a decision; the action is the button pressed (rendered by the template)."""

    comment = _comment_field()


class ReassignForm(forms.Form):
    to_user = UserChoiceField(queryset=active_users(), label="Give this step to")
    comment = _comment_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = active_users()


class CommentForm(forms.Form):
    """Resubmit or cancel a workflow: an optional comment."""

    comment = _comment_field()


# --- templates ------------------------------------------------------------------------------


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    subject_type = forms.ChoiceField(label="Runs on", help_text="What kind of subject this workflow approves.")

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_type"].choices = [("", "Choose…"), *registry.choices()]
        if editing:
            self.fields["subject_type"].disabled = True
            self.fields["subject_type"].help_text = "The subject type of a template cannot change."


def attribute_choices(subject_type_key: str | None = None) -> list[tuple[str, str]]:
    """Attributes a condition may test: those of one subject type, or of every registered type."""
    types = [registry.get(subject_type_key)] if subject_type_key else registry.all_types()
    seen: dict[str, str] = {}
    for subject_type in types:
        for attribute in subject_type.attributes:
            seen.setdefault(attribute.name, attribute.label)
    return [("", "— always applies —"), *((name, f"{name} — {label}") for name, label in sorted(seen.items()))]


class StepForm(forms.Form):
    """One row of the template editor. Field-level checks are about types only; whether the steps
    make a valid template is the service's call (its messages are shown above the rows)."""

    stage = forms.IntegerField(min_value=1, required=False)
    name = forms.CharField(max_length=120, required=False, label="Step name")
    kind = forms.ChoiceField(choices=StepKind.choices, initial=StepKind.APPROVAL)
    stage_rule = forms.ChoiceField(choices=StageRule.choices, initial=StageRule.ALL, label="Parallel rule")
    assignee_type = forms.ChoiceField(choices=AssigneeType.choices, initial=AssigneeType.ROLE, label="Goes to")
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)
    user = UserChoiceField(queryset=active_users(), required=False, label="User")
    sla_days = forms.IntegerField(min_value=0, initial=2, required=False, label="SLA (business days)")
    condition_attribute = forms.ChoiceField(required=False, label="Attribute (e.g. amount, team, channel)")
    condition_operator = forms.ChoiceField(
        choices=[("", "—"), *ConditionOperator.choices], required=False, label="Operator"
    )
    condition_value = forms.CharField(max_length=120, required=False, label="Value")
    escalate_after_reminders = forms.IntegerField(
        min_value=1, required=False, label="Escalate after N reminders", help_text="Blank: never escalate."
    )
    fallback_role = forms.ChoiceField(
        choices=[("", "— none: refuse such requests —"), *Role.choices],
        required=False,
        label="Fallback approver",
        help_text="Who also decides an approval when separation of duties leaves too few people (e.g. the CMO).",
    )

    def __init__(self, *args, subject_type=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_users()
        self.fields["condition_attribute"].choices = attribute_choices(subject_type)

    def step(self) -> dict:
        """The row as the service expects it: a dict of TemplateStep fields (user as a User or None)."""
        data = dict(self.cleaned_data)
        data.pop("DELETE", None)
        # A value the chosen assignee type ignores would be stored but never used: drop it.
        if data.get("assignee_type") not in (AssigneeType.ROLE, AssigneeType.TEAM_ROLE):
            data["role"] = ""
        if data.get("assignee_type") != AssigneeType.USER:
            data["user"] = None
        if not data.get("condition_attribute"):
            data["condition_operator"] = data["condition_value"] = ""
        if data.get("kind") != StepKind.APPROVAL:
            data["fallback_role"] = ""
        return data


class _StepFormSet(forms.BaseFormSet):
    def __init__(self, *args, subject_type=None, **kwargs):
        self.subject_type = subject_type
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "subject_type": self.subject_type}

    def steps(self) -> list[dict]:
        """The filled rows in order: untouched blank rows and rows marked for deletion left out."""
        return [
            form.step()
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not self._should_delete_form(form)
        ]


def step_formset_class(extra: int):
    return forms.formset_factory(StepForm, formset=_StepFormSet, extra=extra, can_delete=True, max_num=50)


STEPS_PREFIX = "steps"


def initial_steps(template: WorkflowTemplate) -> list[dict]:
    return [
        {field: getattr(step, f"{field}_id" if field == "user" else field) for field in STEP_FIELDS}
        for step in template.steps.order_by("position")
    ]


# --- preview --------------------------------------------------------------------------------


class PreviewForm(forms.Form):
    """One input per attribute of the template's subject type, plus the team and the requester.

    Prefixed ``p`` so its GET parameters cannot clash with anything else on the page."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")
    requester = UserChoiceField(queryset=active_users(), required=False, empty_label="Nobody in particular")

    def __init__(self, *args, subject_type: registry.SubjectType, **kwargs):
        kwargs.setdefault("prefix", "p")
        super().__init__(*args, **kwargs)
        self.subject_type = subject_type
        self.fields["team"].queryset = Team.objects.filter(is_active=True).order_by("name")
        self.fields["requester"].queryset = active_users()
        self.attribute_fields = []
        for attribute in subject_type.attributes:
            widget = forms.TextInput(attrs={"inputmode": "decimal"} if attribute.kind == "decimal" else {})
            self.fields[f"attr_{attribute.name}"] = forms.CharField(
                label=attribute.label, required=False, max_length=120, widget=widget
            )
            self.attribute_fields.append(attribute)
        self.order_fields([f"attr_{a.name}" for a in self.attribute_fields])  # the subject first, then who

    def clean(self):
        cleaned = super().clean()
        for attribute in self.attribute_fields:
            key = f"attr_{attribute.name}"
            try:
                attribute.parse(cleaned.get(key))
            except ValueError as exc:
                self.add_error(key, str(exc))
        return cleaned

    def context(self) -> dict:
        """Attribute values as the engine stores them on an instance (strings; blank → absent)."""
        values = {}
        for attribute in self.attribute_fields:
            raw = self.cleaned_data.get(f"attr_{attribute.name}")
            if raw not in (None, ""):
                values[attribute.name] = str(attribute.parse(raw))
        team = self.cleaned_data.get("team")
        if team is not None and "team" in {a.name for a in self.attribute_fields}:
            values.setdefault("team", team.slug)  # the chosen team answers "team is X" conditions too
        return values


# --- requests -------------------------------------------------------------------------------


class RequestForm(CrispyFormMixin, forms.Form):
    submit_label = "Send for approval"
    template = forms.ModelChoiceField(queryset=WorkflowTemplate.objects.none(), label="Approval process")
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    team = forms.ModelChoiceField(queryset=Team.objects.none())
    amount = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=18, decimal_places=2, help_text="Optional."
    )
    currency = forms.ModelChoiceField(queryset=Currency.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = WorkflowTemplate.objects.filter(
            subject_type=GENERAL_REQUEST, status=TemplateStatus.ACTIVE
        ).order_by("name")
        teams = Team.objects.filter(is_active=True).order_by("name")
        if not is_ops_admin(user):
            teams = teams.filter(memberships__user=user)
        self.fields["team"].queryset = teams
        self.fields["currency"].queryset = Currency.objects.filter(is_active=True)
        self.fields["currency"].initial = settings.BASE_CURRENCY


# --- delegations ----------------------------------------------------------------------------


class DelegationForm(CrispyFormMixin, forms.Form):
    submit_label = "Delegate"
    delegator = UserChoiceField(queryset=active_users(), label="Steps waiting for")
    delegate = UserChoiceField(queryset=active_users(), label="May be acted on by")
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="From")
    ends_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Until (inclusive)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = active_users().exclude(pk=user.pk)
        self.fields["delegator"].initial = user.pk
        if is_ops_admin(user):
            self.fields["delegator"].queryset = active_users()
            return
        led_teams = list(Membership.objects.filter(user=user, is_lead=True).values_list("team_id", flat=True))
        members = Membership.objects.filter(team_id__in=led_teams).values("user_id")
        self.fields["delegator"].queryset = active_users().filter(Q(pk__in=members) | Q(pk=user.pk))
        if not led_teams:
            # Marketers delegate their own steps only: the field shows who, and cannot change.
            self.fields["delegator"].disabled = True
            self.fields["delegator"].help_text = "Team leads and ops admins can delegate for others."
