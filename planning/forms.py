from django import forms
from django.contrib.auth import get_user_model

from mops.forms import CrispyFormMixin
from mops.money import MoneyFormField
from planning.kpis import MONEY_KPIS, Kpi
from planning.models import Channel, Objective, Region, Segment


class ChannelForm(CrispyFormMixin, forms.ModelForm):
    submit_label = "Add channel"

    class Meta:
        model = Channel
        fields = ["name", "slug", "group", "description"]
        help_texts = {"slug": "Derived from the name if empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


class RegionForm(CrispyFormMixin, forms.ModelForm):
    submit_label = "Add region"

    class Meta:
        model = Region
        fields = ["name", "code"]
        help_texts = {"code": "Derived from the name if empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False


class SegmentForm(CrispyFormMixin, forms.ModelForm):
    submit_label = "Add product or segment"

    class Meta:
        model = Segment
        fields = ["name", "code", "kind"]
        help_texts = {"code": "Derived from the name if empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False


class ObjectiveForm(CrispyFormMixin, forms.ModelForm):
    submit_label = "Save objective"

    class Meta:
        model = Objective
        fields = ["fiscal_year", "name", "description", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class TargetsForm(CrispyFormMixin, forms.Form):
    """One KPI's targets for each month of the objective's fiscal year (blank = no target)."""

    submit_label = "Save targets"
    kpi = forms.ChoiceField(choices=Kpi.choices, label="KPI")

    def __init__(self, *args, periods, **kwargs):
        super().__init__(*args, **kwargs)
        self.periods = list(periods)
        # Targets of a money KPI obey the money bound, with its message (NaN, Infinity and 1e308 too).
        money = self.is_bound and self.data.get("kpi") in MONEY_KPIS
        for period in self.periods:
            options = {"label": f"{period.start_date:%b %Y}", "required": False, "min_value": 0}
            self.fields[f"m{period.pk}"] = (
                MoneyFormField(what="The target", max_digits=20, decimal_places=4, **options)
                if money
                else forms.DecimalField(max_digits=20, decimal_places=4, **options)
            )

    def values(self):
        return {period: self.cleaned_data.get(f"m{period.pk}") for period in self.periods}
