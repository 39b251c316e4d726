"""The budget vs actual page's filter: which budget version, grouping, measure and months. It
parses input only (with the defaults the grid shows); ``budgets.reports.selectors`` reads."""

from django import forms

from budgets.permissions import budgets_visible_to
from budgets.reports.selectors import GROUPINGS
from budgets.selectors import MEASURES
from planning.models import Period
from planning.selectors import current_fiscal_year

GROUP_CHOICES = [(g, g.capitalize()) for g in GROUPINGS]
MEASURE_CHOICES = [(m, m.capitalize()) for m in MEASURES]


class BvaFilterForm(forms.Form):
    budget = forms.ModelChoiceField(queryset=None, required=False, empty_label=None)
    group_by = forms.ChoiceField(choices=GROUP_CHOICES, required=False)
    measure = forms.ChoiceField(choices=MEASURE_CHOICES, required=False)
    start = forms.ModelChoiceField(queryset=Period.objects.none(), required=False, label="From")
    end = forms.ModelChoiceField(queryset=Period.objects.none(), required=False, label="To")

    def __init__(self, data, *, user):
        budgets = budgets_visible_to(user).select_related("fiscal_year")
        chosen = None
        raw = (data or {}).get("budget", "")
        if str(raw).isdigit():
            chosen = budgets.filter(pk=int(raw)).first()
        if chosen is None:
            fiscal_year = current_fiscal_year()
            current = budgets.filter(is_current=True)
            chosen = (fiscal_year and current.filter(fiscal_year=fiscal_year).first()) or current.first()
        data = data.copy()
        if chosen is not None:
            data["budget"] = str(chosen.pk)  # the select shows the version the grid is about
        # The selects show what the grid shows when a parameter is left out.
        data.setdefault("group_by", "line")
        data.setdefault("measure", "actual")
        super().__init__(data)
        self.fields["budget"].queryset = budgets
        self.chosen_budget = chosen
        periods = chosen.fiscal_year.periods.order_by("start_date") if chosen else Period.objects.none()
        self.fields["start"].queryset = self.fields["end"].queryset = periods
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"

    def params(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "budget": self.chosen_budget,
            "group_by": data.get("group_by") or "line",
            "measure": data.get("measure") or "actual",
            "start": data.get("start"),
            "end": data.get("end"),
        }
