"""The dashboard filter bar: one form for every dashboard and the KPI API, kept in the URL so a view
can be shared as a link. Period presets are fiscal-aware; a custom range is two dates. It lives with
the rollup reads because what it makes is their ``Filters`` (``form.filters()``)."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.permissions import programs_visible_to
from metrics.rollups import calendar
from metrics.rollups.models import Grain
from metrics.rollups.selectors import Filters
from mops.permissions import teams_visible_to
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import Channel, Region

MAX_RANGE_DAYS = 3 * 366 + 1


def period_choices(today: datetime.date) -> list[tuple[str, str]]:
    """This and last fiscal year, their quarters, the last twelve months, and a custom range."""
    year = fiscal_year_of(today)
    choices = [(f"fy{year}", f"FY{year}"), (f"fy{year - 1}", f"FY{year - 1}")]
    for y in (year, year - 1):
        first, _ = fiscal_year_bounds(y)
        for q in range(4):
            quarter_start = calendar.add_months(first, 3 * q)
            if quarter_start <= today:
                choices.append((f"q{q + 1}-fy{y}", calendar.bucket_label(Grain.QUARTER, quarter_start)))
    month = today.replace(day=1)
    for _ in range(12):
        choices.append((f"m{month:%Y-%m}", month.strftime("%b %Y")))
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    choices.append(("custom", "Custom dates"))
    return choices


def period_bounds(value: str) -> tuple[datetime.date, datetime.date]:
    """fy2026 → the fiscal year; q2-fy2026 → its second quarter; m2026-03 → March 2026."""
    try:
        if value.startswith("fy"):
            return fiscal_year_bounds(int(value[2:]))
        if value.startswith("q") and "-fy" in value:
            quarter, year = value[1:].split("-fy")
            first, _ = fiscal_year_bounds(int(year))
            if not 1 <= int(quarter) <= 4:
                raise ValueError
            start = calendar.add_months(first, 3 * (int(quarter) - 1))
            return start, calendar.bucket_end(Grain.QUARTER, start)
        if value.startswith("m"):
            start = datetime.date.fromisoformat(value[1:] + "-01")
            return start, calendar.bucket_end(Grain.MONTH, start)
    except ValueError:
        pass
    raise ValidationError(f"{value!r} is not a period; use fy2026, q2-fy2026, m2026-03 or custom dates.")


def period_label(value: str) -> str:
    """The label ``period_choices`` gives a period (FY2026, its quarter's, Mar 2026), for one it no longer
    offers today (a year before last); the value itself when it is no period."""
    try:
        start, _ = period_bounds(value)
    except ValidationError:
        return value
    if value.startswith("fy"):
        return f"FY{value[2:]}"
    if value.startswith("q"):
        return calendar.bucket_label(Grain.QUARTER, start)
    return start.strftime("%b %Y")


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All teams")
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.order_by("name"), required=False, empty_label="All channels"
    )
    program = forms.ModelChoiceField(queryset=None, required=False, empty_label="All programs")
    region = forms.ModelChoiceField(queryset=Region.objects.order_by("name"), required=False, empty_label="All regions")

    def __init__(self, data, *, user, default_period: str | None = None):
        css = {"class": "form-select form-select-sm"}
        today = timezone.localdate()
        self.default_period = default_period or f"fy{fiscal_year_of(today)}"
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = "custom" if data.get("start") or data.get("end") else self.default_period
        super().__init__(data)
        self.fields["period"].choices = period_choices(today)
        if data["period"] not in dict(self.fields["period"].choices):
            self.fields["period"].choices += [(data["period"], period_label(data["period"]))]
        self.fields["team"].queryset = teams_visible_to(user).order_by("name")
        self.fields["program"].queryset = programs_visible_to(user).order_by("name")
        for name, field in self.fields.items():
            field.widget.attrs.update(
                css if name not in ("start", "end") else {"class": "form-control form-control-sm"}
            )

    def clean(self):
        data = super().clean()
        period = data.get("period") or self.default_period
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise ValidationError("A custom range needs both dates.")
        else:
            try:
                start, end = period_bounds(period)
            except ValidationError as error:
                self.add_error("period", error)
                return data
        if start > end:
            raise ValidationError("The start date is after the end date.")
        if (end - start).days > MAX_RANGE_DAYS:
            raise ValidationError("Pick at most three years.")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> Filters:
        """The valid filters, or the default period when the form has errors (the page shows them)."""
        if self.is_valid():
            data = self.cleaned_data
        else:
            start, end = period_bounds(self.default_period)
            data = {"start": start, "end": end}
        return Filters(
            start=data["start"],
            end=data["end"],
            **{name: (data[name].pk,) for name in ("team", "channel", "program", "region") if data.get(name)},
        )

    def query_string(self) -> str:
        """The filters as they are in the URL (for download links and shared views)."""
        return self.data.urlencode() if hasattr(self.data, "urlencode") else ""
