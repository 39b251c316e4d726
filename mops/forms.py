from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from mops.models import Currency, Team


class CrispyFormMixin:
    """A crispy (Bootstrap 5) layout with one submit button, for every app's forms."""

    submit_label = "Save"
    submit_name = "submit"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit(self.submit_name, self.submit_label))


def add_service_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors on their fields (when the form
    has them), the rest above the form — so the page shows it and keeps what the user typed."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class TeamForm(CrispyFormMixin, forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "slug", "description", "is_active"]
        help_texts = {"slug": "Short code used in URLs and naming conventions; derived from the name if empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        if self.instance.pk is None:
            del self.fields["is_active"]


class MembershipForm(CrispyFormMixin, forms.Form):
    submit_label = "Add or update member"
    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"))
    is_lead = forms.BooleanField(required=False, label="Team lead")


class FxRateForm(CrispyFormMixin, forms.Form):
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
