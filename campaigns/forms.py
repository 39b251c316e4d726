"""Forms of the campaign pages. They parse and check input; the services decide and write."""

import datetime
import json
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils.text import slugify

from campaigns import selectors, utm
from campaigns.models import RESULT_MEASURES, Campaign, CampaignStatus
from campaigns.permissions import programs_visible_to
from mops.forms import CrispyFormMixin
from mops.models import Currency
from mops.money import MoneyFormField
from mops.permissions import teams_visible_to
from planning.permissions import (
    channels_visible_to,
    objectives_visible_to,
    regions_visible_to,
    segments_visible_to,
)

ZERO = Decimal(0)


class _SecondarySubmit(Submit):
    field_classes = "btn btn-outline-primary"


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def currency_choices():
    return [(code, code) for code in Currency.objects.filter(is_active=True).values_list("code", flat=True)]


# --- the campaign list ------------------------------------------------------------------------

PAGE_SIZES = [25, 50, 100]
SORT_CHOICES = [
    ("-start", "Newest start first"),
    ("start", "Oldest start first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("-planned", "Planned cost, highest first"),
    ("planned", "Planned cost, lowest first"),
    ("-spend", "Spend, highest first"),
    ("spend", "Spend, lowest first"),
]


class CampaignFilterForm(forms.Form):
    """The campaign list's query string. Invalid values are dropped, never an error page."""

    q = forms.CharField(required=False, label="Search", max_length=100)
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All teams")
    program = forms.ModelChoiceField(queryset=None, required=False, empty_label="All programs")
    channel = forms.ModelChoiceField(queryset=None, required=False, empty_label="All channels")
    status = forms.ChoiceField(choices=[("", "Any status"), *CampaignStatus.choices], required=False)
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Any owner")
    start = forms.DateField(required=False, label="Running from", widget=_date_widget())
    end = forms.DateField(required=False, label="Running to", widget=_date_widget())
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, label="Sort by")
    per_page = forms.TypedChoiceField(
        choices=[(n, n) for n in PAGE_SIZES], coerce=int, required=False, label="Per page"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["team"].queryset = teams_visible_to(user).order_by("name")
        self.fields["program"].queryset = programs_visible_to(user).order_by("name")
        self.fields["channel"].queryset = channels_visible_to(user).order_by("name")
        owners = self.fields["owner"]
        owners.queryset = selectors.campaign_owners(user=user)
        owners.label_from_instance = lambda u: u.get_full_name() or u.username
        for name, field in self.fields.items():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("id", f"filter-{name}")

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.campaign_list`` from the valid fields (invalid ones ignored)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "team": data.get("team"),
            "program": data.get("program"),
            "channel": data.get("channel"),
            "status": data.get("status") or "",
            "owner": data.get("owner"),
            "start": data.get("start"),
            "end": data.get("end"),
            "search": (data.get("q") or "").strip(),
            "sort": data.get("sort") or selectors.DEFAULT_SORT,
        }

    def page_size(self) -> int:
        return (getattr(self, "cleaned_data", {}) or {}).get("per_page") or PAGE_SIZES[0]


# --- campaign create and edit -----------------------------------------------------------------


class CampaignForm(forms.ModelForm):
    """The campaign's plan. On create, blank UTM fields follow the naming convention (``utm.suggest``)."""

    currency = forms.ChoiceField(choices=[])
    landing_url = forms.URLField(required=False, assume_scheme="https", label="Landing page URL")

    class Meta:
        model = Campaign
        fields = [
            "name",
            "code",
            "team",
            "program",
            "channel",
            "region",
            "segment",
            "objective",
            "start_date",
            "end_date",
            "description",
            "planned_cost",
            "currency",
            "expected_leads",
            "expected_mqls",
            "expected_pipeline",
            "expected_revenue",
            "landing_url",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
        ]
        # Amounts past the money bound (NaN, Infinity, 1e308 too) get the one message naming the limit.
        field_classes = {name: MoneyFormField for name in ("planned_cost", "expected_pipeline", "expected_revenue")}
        widgets = {
            "start_date": _date_widget(),
            "end_date": _date_widget(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "utm_source": "UTM source",
            "utm_medium": "UTM medium",
            "utm_campaign": "UTM campaign",
            "utm_content": "UTM content",
            "utm_term": "UTM term",
            "landing_url": "Landing page URL",
            "expected_mqls": "Expected MQLs",
        }
        help_texts = {
            "code": "Short unique code used by imports and UTM tags; derived from the name if empty.",
            "planned_cost": "In the currency beside it; converted to the base currency at the start date's rate.",
            "expected_pipeline": "In the base currency.",
            "expected_revenue": "In the base currency.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = self.instance.pk is None
        self.fields["team"].queryset = selectors.creatable_teams(user=user)
        self.fields["team"].empty_label = None if self.fields["team"].queryset.count() == 1 else "---------"
        # Active channels, and the campaign's own even if since retired.
        channels = channels_visible_to(user).filter(Q(is_active=True) | Q(pk=self.instance.channel_id))
        self.fields["channel"].queryset = channels.order_by("name")
        self.fields["region"].queryset = regions_visible_to(user).filter(is_active=True)
        self.fields["segment"].queryset = segments_visible_to(user).filter(is_active=True)
        self.fields["objective"].queryset = (
            objectives_visible_to(user).filter(is_active=True).select_related("fiscal_year")
        )

        self.fields["program"].queryset = programs_visible_to(user).filter(is_active=True)
        self.fields["currency"].choices = currency_choices()
        self.fields["currency"].initial = self.instance.currency or settings.BASE_CURRENCY
        for name in ("planned_cost", "expected_pipeline", "expected_revenue"):
            self.fields[name].validators.append(MinValueValidator(ZERO))
            self.fields[name].widget.attrs["min"] = "0"
        self.fields["code"].required = not self.creating
        if self.creating:
            for name, rule in (
                ("utm_source", "the channel's code"),
                ("utm_medium", "the channel's group"),
                ("utm_campaign", "the campaign code"),
            ):
                self.fields[name].help_text = f"Leave empty for {rule}."
        self.helper = FormHelper()
        self.helper.attrs = {"id": "campaign-form"}
        if self.creating:
            # static/campaigns/campaign_form.js shows the convention's tags as placeholders.
            channel_tags = {str(c.pk): utm.suggest(channel=c, code="") for c in self.fields["channel"].queryset}
            self.helper.attrs["data-utm-channels"] = json.dumps(channel_tags)
        self.helper.layout = Layout(
            Fieldset(
                "Campaign",
                Row(Column("name", css_class="col-md-8"), Column("code", css_class="col-md-4")),
                Row(Column("team", css_class="col-md-6"), Column("program", css_class="col-md-6")),
                Row(
                    Column("channel", css_class="col-md-3"),
                    Column("region", css_class="col-md-3"),
                    Column("segment", css_class="col-md-3"),
                    Column("objective", css_class="col-md-3"),
                ),
                Row(Column("start_date", css_class="col-md-6"), Column("end_date", css_class="col-md-6")),
                "description",
            ),
            Fieldset(
                "Plan",
                Row(Column("planned_cost", css_class="col-md-8"), Column("currency", css_class="col-md-4")),
                Row(
                    Column("expected_leads", css_class="col-md-3"),
                    Column("expected_mqls", css_class="col-md-3"),
                    Column("expected_pipeline", css_class="col-md-3"),
                    Column("expected_revenue", css_class="col-md-3"),
                ),
            ),
            Fieldset(
                "Tracking",
                "landing_url",
                Row(
                    Column("utm_source", css_class="col-md-4"),
                    Column("utm_medium", css_class="col-md-4"),
                    Column("utm_campaign", css_class="col-md-4"),
                ),
                Row(Column("utm_content", css_class="col-md-6"), Column("utm_term", css_class="col-md-6")),
            ),
        )
        self.helper.add_input(Submit("submit", "Create campaign" if self.creating else "Save changes"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date must be on or after the start date.")
        return data

    def service_fields(self) -> dict:
        """The cleaned fields as service keyword arguments: on create, the code derived from the
        name when empty and empty UTM fields filled from the naming convention; on edit, only the
        fields that changed."""
        data = dict(self.cleaned_data)
        if not self.creating:
            return {name: data[name] for name in self.changed_data if name in data}
        if not data.get("code"):
            data["code"] = slugify(data["name"])[:60]
        for name, value in utm.suggest(channel=data["channel"], code=data["code"]).items():
            if not data.get(name):
                data[name] = value
        return data


class TacticForm(CrispyFormMixin, forms.Form):
    submit_label = "Add tactic"
    name = forms.CharField(max_length=160)
    channel = forms.ModelChoiceField(queryset=None, required=False, empty_label="Campaign's channel")
    planned_cost = MoneyFormField(min_value=ZERO, initial=ZERO, label="Planned cost")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = channels_visible_to(user).filter(is_active=True).order_by("name")
        self.helper.form_tag = False


# --- spend ------------------------------------------------------------------------------------


class SpendForm(CrispyFormMixin, forms.Form):
    """One spend entry: an invoice line or a day of platform cost, in its own currency."""

    submit_label = "Log spend"
    date = forms.DateField(widget=_date_widget())
    amount = MoneyFormField(min_value=ZERO, label="Amount")
    currency = forms.ChoiceField(choices=[])
    tactic = forms.ModelChoiceField(queryset=None, required=False, empty_label="(none)")
    vendor = forms.CharField(max_length=160, required=False)
    reference = forms.CharField(max_length=80, required=False, help_text="Invoice or PO number.")
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = currency_choices()
        self.fields["currency"].initial = campaign.currency or settings.BASE_CURRENCY
        self.fields["tactic"].queryset = campaign.tactics.order_by("name")
        self.helper.layout = Layout(
            Row(
                Column("date", css_class="col-sm-6 col-lg-3"),
                Column("amount", css_class="col-sm-6 col-lg-3"),
                Column("currency", css_class="col-sm-6 col-lg-2"),
                Column("tactic", css_class="col-sm-6 col-lg-4"),
            ),
            Row(
                Column("vendor", css_class="col-md-4"),
                Column("reference", css_class="col-md-4"),
                Column("note", css_class="col-md-4"),
            ),
        )


# --- results: a week at a time ----------------------------------------------------------------

_COUNT_MEASURES = [m for m in RESULT_MEASURES if m not in ("pipeline", "revenue")]
MEASURE_LABELS = {"mqls": "MQLs", "sqls": "SQLs", "new_customers": "New customers"}


class ResultRowForm(forms.Form):
    """One day's results. Every measure is optional; a row with none is ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for measure in RESULT_MEASURES:
            if measure in _COUNT_MEASURES:
                field = forms.IntegerField(min_value=0, required=False)
            else:
                field = MoneyFormField(min_value=ZERO, required=False)
            field.label = MEASURE_LABELS.get(measure, measure.capitalize())
            field.widget.attrs.update({"class": "form-control form-control-sm", "inputmode": "decimal"})
            self.fields[measure] = field

    def measures(self) -> dict:
        """The measures typed in (blank ones are left out, so they keep their saved value)."""
        return {m: v for m, v in self.cleaned_data.items() if m in RESULT_MEASURES and v is not None}


ResultWeekFormSet = forms.formset_factory(
    ResultRowForm, extra=0, min_num=7, max_num=7, validate_min=True, validate_max=True
)


def result_week_formset(data=None, *, week: datetime.date, existing: dict):
    """Seven rows from ``week`` (a Monday), filled with the hand-entered results already saved."""
    initial = []
    for offset in range(7):
        fact = existing.get(week + datetime.timedelta(days=offset))
        initial.append({m: getattr(fact, m) for m in RESULT_MEASURES} if fact else {})
    formset = ResultWeekFormSet(data, initial=initial, prefix="day")
    for offset, form in enumerate(formset.forms):
        form.day = week + datetime.timedelta(days=offset)
    return formset


class WeekPickerForm(forms.Form):
    week = forms.DateField(widget=_date_widget(), label="Week of")


# --- UTM link builder -------------------------------------------------------------------------


class UtmBuilderForm(forms.Form):
    """Builds a tracked link from a landing page and UTM tags (nothing is saved)."""

    landing_url = forms.URLField(label="Landing page URL", assume_scheme="https")
    utm_source = forms.CharField(max_length=100, label="Source")
    utm_medium = forms.CharField(max_length=100, label="Medium")
    utm_campaign = forms.CharField(max_length=100, label="Campaign")
    utm_content = forms.CharField(max_length=100, required=False, label="Content")
    utm_term = forms.CharField(max_length=100, required=False, label="Term")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="utm", **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "utm-builder"
        self.helper.form_action = "#utm"
        self.helper.layout = Layout(
            "landing_url",
            Row(Column("utm_source", css_class="col-6"), Column("utm_medium", css_class="col-6")),
            "utm_campaign",
            Row(Column("utm_content", css_class="col-6"), Column("utm_term", css_class="col-6")),
        )
        self.helper.add_input(_SecondarySubmit("build", "Build link"))

    def tracked_url(self) -> str:
        data = self.cleaned_data
        return utm.tracked_url(data["landing_url"], **{f: data[f] for f in utm.UTM_FIELDS})
