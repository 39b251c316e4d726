"""The transfer page's form: from (line, month), to (line, month), an amount and why. It parses
input only; ``budgets.transfers.services`` validates and writes."""

from django import forms
from django.conf import settings

from budgets.models import TransferKind


class TransferForm(forms.Form):
    kind = forms.ChoiceField(choices=TransferKind.choices, initial=TransferKind.REALLOCATION)
    from_line = forms.ModelChoiceField(queryset=None, empty_label="Choose a line…", label="From line")
    from_period = forms.ModelChoiceField(queryset=None, empty_label="Month…", label="From month")
    to_line = forms.ModelChoiceField(queryset=None, empty_label="Choose a line…", label="To line")
    to_period = forms.ModelChoiceField(queryset=None, empty_label="Month…", label="To month")
    amount = forms.DecimalField(
        min_value=0, max_digits=settings.MONEY_MAX_DIGITS, decimal_places=2, label="Amount (base currency)"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, lines, periods, finance: bool, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("from_line", "to_line"):
            self.fields[name].queryset = lines
        for name in ("from_period", "to_period"):
            self.fields[name].queryset = periods
        if not finance:  # carry-forward is finance's
            self.fields["kind"].choices = [(TransferKind.REALLOCATION, TransferKind.REALLOCATION.label)]
