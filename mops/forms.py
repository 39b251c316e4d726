from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model

from mops.models import Currency, Team


class _CrispyForm:
    submit_label = "Save"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class TeamForm(_CrispyForm, forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "slug", "description", "is_active"]
        help_texts = {"slug": "Short code used in URLs and naming conventions; derived from the name if empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        if self.instance.pk is None:
            del self.fields["is_active"]


class MembershipForm(_CrispyForm, forms.Form):
    submit_label = "Add or update member"
    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"))
    is_lead = forms.BooleanField(required=False, label="Team lead")


class FxRateForm(_CrispyForm, forms.Form):
    """Setting the rate of a day that already has one replaces it (the service audits the change)."""

    submit_label = "Set rate"
    currency = forms.ModelChoiceField(queryset=Currency.objects.filter(is_active=True))
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    rate = forms.DecimalField(
        max_digits=20,
        decimal_places=10,
        min_value=Decimal("0.0000000001"),
        help_text="Units of the base currency for one unit of this currency on this date.",
    )
    source = forms.CharField(max_length=60, required=False)
