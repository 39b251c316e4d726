"""Forms of finance's budget pages: budget versions, lines, the phasing grid, the phasing file and
commitments. They parse input only; the services validate and write."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings

from budgets.models import BudgetKind, BudgetLine
from budgets.phasing import PROFILE_CHOICES
from campaigns.models import Campaign, Program
from mops.forms import CrispyFormMixin
from mops.models import Currency, Team
from planning.models import Channel, FiscalYear, Period

_MONEY = {"max_digits": settings.MONEY_MAX_DIGITS, "decimal_places": settings.MONEY_DECIMAL_PLACES}


class BudgetForm(CrispyFormMixin, forms.Form):
    submit_label = "Create budget version"

    fiscal_year = forms.ModelChoiceField(queryset=FiscalYear.objects.order_by("-year"))
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=BudgetKind.choices, initial=BudgetKind.REFORECAST)
    target = forms.DecimalField(min_value=0, help_text="The top-down envelope, base currency.", **_MONEY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_action = "?action=budget"


class LineForm(CrispyFormMixin, forms.Form):
    submit_label = "Add line"

    parent = forms.ModelChoiceField(queryset=BudgetLine.objects.none(), required=False, empty_label="(top level)")
    name = forms.CharField(max_length=160)
    code = forms.SlugField(max_length=60, required=False, help_text="Derived from the name if empty.")
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False)
    channel = forms.ModelChoiceField(queryset=Channel.objects.order_by("name"), required=False)
    program = forms.ModelChoiceField(queryset=Program.objects.order_by("name"), required=False)
    is_soft = forms.BooleanField(required=False, label="Soft limit (children may exceed it, with a warning)")

    def __init__(self, *args, budget=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = BudgetLine.objects.filter(budget=budget).order_by("code")
        self.helper.form_action = f"?action=line&budget={budget.pk}" if budget else ""


class PhasingForm(CrispyFormMixin, forms.Form):
    """One amount per month of the year; ``periods`` decides the fields (``m<period id>``)."""

    submit_label = "Save phasing"
    submit_name = "save"

    def __init__(self, *args, periods, **kwargs):
        super().__init__(*args, **kwargs)
        self.periods = list(periods)
        for period in self.periods:
            self.fields[self.key(period)] = forms.DecimalField(
                label=f"{period.start_date:%b %Y}",
                min_value=0,
                disabled=period.is_closed,
                help_text="closed" if period.is_closed else "",
                **_MONEY,
            )
        self.fields["note"] = forms.CharField(max_length=200, required=False)
        self.helper.form_tag = True

    @staticmethod
    def key(period) -> str:
        return f"m{period.pk}"

    def clean(self):
        """A closed month is shown, not sent; a different amount sent for it anyway (a forged post, a
        page opened before finance closed the month) is refused with what was refused, not dropped."""
        cleaned = super().clean()
        for period in self.periods:
            key = self.key(period)
            if not period.is_closed or key not in self.data:
                continue
            shown = self.get_initial_for_field(self.fields[key], key)
            sent = self.data.get(key)
            try:
                differs = Decimal(str(sent).replace(",", "").strip() or "0") != Decimal(str(shown or 0))
            except InvalidOperation:
                differs = True
            if differs:
                self.add_error(
                    None,
                    f"{period} is closed by finance: its budget stays {Decimal(str(shown or 0)):,.2f}; "
                    f"the amount sent for it ({sent}) was refused.",
                )
        return cleaned

    def amounts(self) -> dict:
        """The open months' amounts (closed months are shown, not sent)."""
        return {p: self.cleaned_data[self.key(p)] for p in self.periods if not p.is_closed}


class SpreadForm(CrispyFormMixin, forms.Form):
    submit_label = "Spread over the open months"
    submit_name = "spread"

    total = forms.DecimalField(min_value=0, label="Yearly total", **_MONEY)
    profile = forms.ChoiceField(choices=PROFILE_CHOICES, initial="flat")
    note = forms.CharField(max_length=200, required=False)


class PhasingUploadForm(CrispyFormMixin, forms.Form):
    submit_label = "Upload phasing"

    file = forms.FileField(help_text="CSV or XLSX in the download's layout: code, name, parent code, YYYY-MM…")


class CommitmentForm(CrispyFormMixin, forms.Form):
    submit_label = "Add commitment"

    line = forms.ModelChoiceField(queryset=BudgetLine.objects.none())
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.order_by("code"), required=False)
    vendor = forms.CharField(max_length=160)
    reference = forms.CharField(max_length=80, label="PO reference")
    amount = forms.DecimalField(min_value=0, **_MONEY)
    currency = forms.ChoiceField(choices=())
    period = forms.ModelChoiceField(queryset=Period.objects.none(), label="Expected month")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = (
            BudgetLine.objects.filter(budget__is_current=True)
            .select_related("budget")
            .order_by("-budget__fiscal_year__year", "code")
        )
        self.fields["line"].label_from_instance = lambda line: f"{line.code} — {line.name} ({line.budget})"
        codes = list(Currency.objects.filter(is_active=True).order_by("code").values_list("code", flat=True))
        if settings.BASE_CURRENCY not in codes:
            codes.insert(0, settings.BASE_CURRENCY)
        self.fields["currency"].choices = [(c, c) for c in codes]
        self.fields["currency"].initial = settings.BASE_CURRENCY
        self.fields["period"].queryset = Period.objects.filter(is_closed=False).order_by("start_date")
