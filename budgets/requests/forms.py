"""Forms of the allocation-request pages: the request itself and the approver's decision."""

from django import forms
from django.conf import settings

from budgets.models import RequestStatus
from mops.models import Currency


class AllocationRequestForm(forms.Form):
    """A line, an amount per month of the budget's year (blank = none), a currency and why."""

    line = forms.ModelChoiceField(queryset=None, empty_label="Choose a line…")
    currency = forms.ChoiceField()
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, lines, periods, line_labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines
        labels = line_labels or {}
        self.fields["line"].label_from_instance = lambda line: labels.get(line.pk, str(line))
        self.fields["currency"].choices = [
            (c.code, f"{c.code} — {c.name}") for c in Currency.objects.filter(is_active=True).order_by("code")
        ]
        self.fields["currency"].initial = settings.BASE_CURRENCY
        self.periods = periods
        for period in periods:
            self.fields[self.month_field(period)] = forms.DecimalField(
                label=period.start_date.strftime("%b %Y"),
                required=False,
                min_value=0,
                max_digits=settings.MONEY_MAX_DIGITS,
                decimal_places=2,
            )

    @staticmethod
    def month_field(period) -> str:
        return f"m{period.start_date:%Y%m}"

    def month_fields(self):
        return [self[self.month_field(p)] for p in self.periods]

    def months(self) -> dict:
        return {p: self.cleaned_data.get(self.month_field(p)) for p in self.periods}

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(self.month_field(p)) for p in self.periods):
            raise forms.ValidationError("Give an amount for at least one month.")
        return cleaned


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject"), ("return", "Send back")])
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, label="Search")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status"), *RequestStatus.choices]
