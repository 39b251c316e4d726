"""Forms of the scenario-planning pages: asking for a response model, building a scenario (the
optimiser's bounds or hand edits per channel), and the funnel back-solve. They parse input only; the
rules are the services' (``metrics.scenarios.services``), whose errors come back onto these forms."""

import datetime
from decimal import Decimal

from django import forms

from metrics.rollups import calendar
from metrics.scenarios.models import ModelLevel, ModelOutcome, ScenarioKind
from metrics.scenarios.permissions import sees_all_scenarios
from mops.forms import CrispyFormMixin
from mops.money import MoneyFormField
from mops.permissions import teams_visible_to
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import Region


def month_choices(today: datetime.date, *, back: int = 12, ahead: int = 18) -> list[tuple[str, str]]:
    first = calendar.add_months(today.replace(day=1), -back)
    months = [calendar.add_months(first, j) for j in range(back + ahead + 1)]
    return [(m.isoformat(), m.strftime("%b %Y")) for m in months]


class ResponseModelForm(CrispyFormMixin, forms.Form):
    submit_label = "Fit the model"
    outcome = forms.ChoiceField(choices=ModelOutcome.choices, initial=ModelOutcome.PIPELINE)
    level = forms.ChoiceField(
        choices=ModelLevel.choices, initial=ModelLevel.CHANNEL, label="One curve per", widget=forms.RadioSelect
    )
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="The whole organisation")
    region = forms.ModelChoiceField(queryset=Region.objects.order_by("name"), required=False, empty_label="All regions")
    history_start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="History from",
        help_text="Empty: from the first week with data (at most five years).",
    )  # fmt: skip
    history_end = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="History to",
        help_text="Empty: to the last complete week.",
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_visible_to(user).order_by("name")
        if not sees_all_scenarios(user):
            self.fields["team"].required = True
            self.fields["team"].empty_label = None
            self.fields["team"].help_text = "A marketer's model covers one of their teams."


class ScenarioForm(forms.Form):
    """The scenario's period and kind, then per modelled member: bounds for the optimiser (minimum,
    maximum, a locked amount) or a hand edit (an amount, or a change in percent of the current plan).
    Member fields are numbered in the model's order; ``members`` gives their names."""

    name = forms.CharField(max_length=120, required=False, help_text="Needed to save; not to preview.")
    kind = forms.ChoiceField(
        choices=ScenarioKind.choices,
        initial=ScenarioKind.OPTIMISED,
        widget=forms.RadioSelect,
        help_text="Optimised: the split that maximises the predicted outcome within your bounds. Hand edit: "
        "your amounts or percentage changes. Current plan: the budget lines as they are.",
    )
    start = forms.ChoiceField(label="First month")
    months = forms.IntegerField(min_value=1, max_value=12, initial=3)
    total_budget = MoneyFormField(
        min_value=0, required=False, help_text="Optimised scenarios. Empty: the current plan's total."
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, members: list[str], today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = members
        choices = month_choices(today)
        self.fields["start"].choices = choices
        self.fields["start"].initial = calendar.add_months(today.replace(day=1), 1).isoformat()
        for i, _ in enumerate(members):
            self.fields[f"min_{i}"] = MoneyFormField(min_value=0, required=False, label="Minimum")
            self.fields[f"max_{i}"] = MoneyFormField(min_value=0, required=False, label="Maximum")
            self.fields[f"lock_{i}"] = MoneyFormField(min_value=0, required=False, label="Locked at")
            self.fields[f"amount_{i}"] = MoneyFormField(min_value=0, required=False, label="Amount")
            self.fields[f"change_{i}"] = forms.DecimalField(
                min_value=-100, max_value=10_000, required=False, max_digits=7, decimal_places=2, label="Change %"
            )
        for field in self.fields.values():
            if not isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs.setdefault("class", "form-control form-control-sm")
        self.fields["start"].widget.attrs["class"] = "form-select form-select-sm"

    def rows(self):
        """Per member: its name and its bound fields, for the table of the page."""
        return [
            {
                "member": member,
                "index": i,
                **{name: self[f"{name}_{i}"] for name in ("min", "max", "lock", "amount", "change")},
            }
            for i, member in enumerate(self.members)
        ]

    def inputs(self) -> dict:
        """The cleaned form as ``scenario_services.ScenarioInputs`` keyword arguments."""
        data = self.cleaned_data

        def per_member(prefix: str) -> dict[str, Decimal]:
            return {
                m: data[f"{prefix}_{i}"] for i, m in enumerate(self.members) if data.get(f"{prefix}_{i}") is not None
            }

        return {
            "kind": data["kind"],
            "start": datetime.date.fromisoformat(data["start"]),
            "months": data["months"],
            "total_budget": data.get("total_budget"),
            "minimum": per_member("min") if data["kind"] == ScenarioKind.OPTIMISED else {},
            "maximum": per_member("max") if data["kind"] == ScenarioKind.OPTIMISED else {},
            "locked": per_member("lock") if data["kind"] == ScenarioKind.OPTIMISED else {},
            "amounts": per_member("amount") if data["kind"] == ScenarioKind.HAND else {},
            "changes": per_member("change") if data["kind"] == ScenarioKind.HAND else {},
        }


class BacksolveForm(CrispyFormMixin, forms.Form):
    """A target and the periods it is read against: the target period (whose current budget the
    spend needed is compared with) and the history the funnel rates and costs per lead come from."""

    submit_label = "Work it back"
    submit_name = "solve"
    target_kind = forms.ChoiceField(
        choices=[("revenue", "Revenue"), ("pipeline", "Pipeline")], initial="revenue", label="Target"
    )
    target = MoneyFormField(min_value=0, label="Target amount")
    target_start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Target period from",
        help_text="Empty: this fiscal year.",
    )  # fmt: skip
    target_end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="to")
    history_start = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Rates from",
        help_text="Empty: the last 12 full months.",
    )  # fmt: skip
    history_end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="to")
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="Everything I can see")

    def __init__(self, data, *, user, today: datetime.date):
        year_start, year_end = fiscal_year_bounds(fiscal_year_of(today))
        history_end = today.replace(day=1) - datetime.timedelta(days=1)
        self.defaults = {
            "target_kind": "revenue",
            "target_start": year_start,
            "target_end": year_end,
            "history_start": calendar.add_months(history_end.replace(day=1), -11),
            "history_end": history_end,
        }
        super().__init__(data, initial=self.defaults)
        self.fields["team"].queryset = teams_visible_to(user).order_by("name")

    def clean(self):
        data = super().clean()
        for name in ("target_start", "target_end", "history_start", "history_end"):
            if not data.get(name) and name not in self.errors:
                data[name] = self.defaults[name]
        for first, last in (("target_start", "target_end"), ("history_start", "history_end")):
            if data.get(first) and data.get(last) and data[first] > data[last]:
                self.add_error(last, "The period ends before it starts.")
        return data
