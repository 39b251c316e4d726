"""The campaign pages: list, plan, detail, spend, results, calendar and imports. Thin: parse the
request, check the policy, call a selector or a service, render."""

import calendar as cal
import copy
import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns import figures, selectors, services, utm
from campaigns.attachments.forms import AttachmentForm
from campaigns.forms import (
    CampaignFilterForm,
    CampaignForm,
    SpendForm,
    TacticForm,
    UtmBuilderForm,
    WeekPickerForm,
    result_week_formset,
)
from campaigns.models import Campaign, CampaignStatus
from campaigns.permissions import can_edit_campaign, can_view_campaigns, spend_visible_to
from campaigns.subjects import CAMPAIGN_LAUNCH
from mops.errors import Conflict
from mops.figures import to_html
from mops.forms import add_service_errors
from workflows.selectors import active_template_for, instance_steps, instances_of, open_instance_of


def _require_area(user):
    if not can_view_campaigns(user):
        raise PermissionDenied("The campaigns area is for marketers, the CMO, finance and ops admins.")


def _visible_campaign(request, pk) -> Campaign:
    """The campaign if the user may see it; 404 otherwise (its existence is not revealed)."""
    return get_object_or_404(selectors.campaign_detail_queryset(user=request.user), pk=pk)


def _editable_campaign(request, pk) -> Campaign:
    campaign = _visible_campaign(request, pk)
    if not can_edit_campaign(request.user, campaign):
        raise PermissionDenied("Only marketers of the campaign's team can change it, its spend or its results.")
    return campaign


# --- list -------------------------------------------------------------------------------------


@require_GET
def home(request):
    """The campaign list: filters, sorting, paging and totals of the whole filtered set."""
    _require_area(request.user)
    filter_form = CampaignFilterForm(request.GET or None, user=request.user)
    filters = filter_form.filters()
    campaigns = selectors.campaign_list(user=request.user, **filters)
    totals = selectors.campaign_totals(campaigns)
    paginator = Paginator(campaigns, filter_form.page_size())
    paginator.count = totals.count  # the same set, counted once
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = selectors.with_page_totals(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    for key in ("page", "sort"):
        sort_query.pop(key, None)
    return render(
        request,
        "campaigns/campaign_list.html",
        {
            "page": page,
            "filter_form": filter_form,
            "filtered": any(v for k, v in filters.items() if k != "sort"),
            "sort": filters["sort"],
            "totals": totals,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "can_create": selectors.creatable_teams(user=request.user).exists(),
        },
    )


# --- create, edit -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def campaign_create(request):
    if not selectors.creatable_teams(user=request.user).exists():
        raise PermissionDenied("Only marketers can create campaigns, for their own teams.")
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        team = fields.pop("team")
        try:
            campaign = services.campaign_create(actor=request.user, team=team, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Campaign “{campaign.name}” created as a draft.")
            return redirect("campaigns:campaign-detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk):
    campaign = _editable_campaign(request, pk)
    # The form works on a copy: the service must see the campaign as it is, not as typed.
    form = CampaignForm(request.POST or None, instance=copy.copy(campaign), user=request.user)
    if request.method == "POST" and form.is_valid():
        changes = form.service_fields()
        try:
            if changes:
                campaign = services.campaign_update(actor=request.user, campaign=campaign, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Campaign saved." if changes else "Nothing changed.")
            return redirect("campaigns:campaign-detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


# --- detail -----------------------------------------------------------------------------------


def _status_actions(campaign: Campaign) -> tuple[list, bool]:
    """The manual status moves offered to an editor, and whether "Submit for launch" is."""

    moves = services.MANUAL_TRANSITIONS.get(campaign.status, set())
    launch_review = campaign.status == CampaignStatus.PLANNED and active_template_for(CAMPAIGN_LAUNCH) is not None
    if launch_review:
        moves = moves - {CampaignStatus.LIVE}
    order = list(CampaignStatus)
    return sorted(moves, key=order.index), launch_review


def _workflow_steps(campaign: Campaign):
    instance = open_instance_of(campaign) or instances_of(campaign).order_by("-started_at", "-id").first()
    return instance, (instance_steps(instance) if instance else [])


@require_GET
def campaign_detail(request, pk):
    campaign = _visible_campaign(request, pk)
    can_edit = can_edit_campaign(request.user, campaign)
    actuals = selectors.campaign_actuals(campaign)
    instance, steps = _workflow_steps(campaign)
    moves, launch_review = _status_actions(campaign) if can_edit else ([], False)

    # The builder starts from the campaign's tags, or the naming convention where it has none.
    suggested = utm.suggest(channel=campaign.channel, code=campaign.code)
    initial = {name: getattr(campaign, name) or suggested.get(name, "") for name in ("landing_url", *utm.UTM_FIELDS)}
    utm_form = UtmBuilderForm(request.GET if "utm-landing_url" in request.GET else None, initial=initial)
    tracked_url = utm_form.tracked_url() if utm_form.is_bound and utm_form.is_valid() else ""

    chart = ""
    if actuals.spend_entries or actuals.result_days:
        weeks = selectors.weekly_spend_and_leads(campaign, until=timezone.localdate())
        chart = to_html(
            figures.spend_and_leads_by_week(weeks, currency=settings.BASE_CURRENCY),
            label=f"Spend and leads per week for {campaign.name}",
        )
    spend = list(selectors.spend_of(campaign)[:20])
    results = list(selectors.results_of(campaign)[:20])
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "can_edit": can_edit,
            "actuals": actuals,
            "plan_rows": _plan_rows(campaign, actuals),
            "chart": chart,
            "tactics": selectors.tactics_of(campaign),
            "tactic_form": TacticForm(user=request.user) if can_edit else None,
            "attachments": list(selectors.attachments_of(campaign)),
            "attachment_form": AttachmentForm() if can_edit else None,
            "spend": spend,
            "results": results,
            "instance": instance,
            "steps": steps,
            "moves": [(status, CampaignStatus(status).label) for status in moves],
            "launch_review": launch_review,
            "utm_form": utm_form,
            "tracked_url": tracked_url,
            "history": selectors.audit_history(campaign),
        },
    )


def _plan_rows(campaign, actuals) -> list[tuple[str, object, object, bool]]:
    """(measure, planned or expected, actual, is money) rows of the plan-vs-actual table."""
    return [
        ("Cost", campaign.planned_cost_base, actuals.spend, True),
        ("Leads", campaign.expected_leads, actuals.leads, False),
        ("MQLs", campaign.expected_mqls, actuals.mqls, False),
        ("Pipeline", campaign.expected_pipeline, actuals.pipeline, True),
        ("Revenue", campaign.expected_revenue, actuals.revenue, True),
    ]


@require_POST
def campaign_status(request, pk):
    campaign = _editable_campaign(request, pk)
    try:
        campaign = services.campaign_set_status(
            actor=request.user, campaign=campaign, status=request.POST.get("status", "")
        )
    except (ValidationError, Conflict) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, f"The campaign is now {campaign.get_status_display().lower()}.")
    return redirect("campaigns:campaign-detail", pk=pk)


@require_POST
def campaign_submit(request, pk):
    campaign = _editable_campaign(request, pk)
    try:
        services.campaign_submit_for_launch(actor=request.user, campaign=campaign)
    except (ValidationError, Conflict) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, "Submitted for launch review.")
    return redirect("campaigns:campaign-detail", pk=pk)


@require_POST
def tactic_create(request, pk):
    campaign = _editable_campaign(request, pk)
    form = TacticForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            tactic = services.tactic_create(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Tactic “{tactic.name}” added.")
    else:
        messages.error(
            request,
            "The tactic was not added: "
            + "; ".join(
                f"{form.fields[f].label or f}: {' '.join(e)}" if f in form.fields else " ".join(e)
                for f, e in form.errors.items()
            ),
        )
    return redirect(f"{reverse('campaigns:campaign-detail', args=[pk])}#tactics")


# --- spend ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def spend_log(request, pk):
    campaign = _visible_campaign(request, pk)
    can_edit = can_edit_campaign(request.user, campaign)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only marketers of the campaign's team can log its spend.")
    form = None
    if can_edit:
        form = SpendForm(request.POST or None, campaign=campaign, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.spend_log(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Spend of {entry.amount} {entry.currency} on {entry.date:%d %b %Y} logged.")
            return redirect("campaigns:spend-log", pk=campaign.pk)
    entries = Paginator(selectors.spend_of(campaign), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/spend_log.html",
        {
            "campaign": campaign,
            "form": form,
            "page": entries,
            "can_edit": can_edit,
            "actuals": selectors.campaign_actuals(campaign),
        },
    )


def _editable_entry(request, entry_id):
    entry = get_object_or_404(spend_visible_to(request.user).select_related("campaign", "tactic"), pk=entry_id)
    if not can_edit_campaign(request.user, entry.campaign):
        raise PermissionDenied("Only marketers of the campaign's team can change its spend.")
    return entry


@require_http_methods(["GET", "POST"])
def spend_edit(request, entry_id):
    entry = _editable_entry(request, entry_id)
    campaign = entry.campaign
    initial = {f: getattr(entry, f) for f in ("date", "amount", "currency", "tactic", "vendor", "reference", "note")}
    form = SpendForm(request.POST or None, campaign=campaign, initial=initial)
    form.helper.inputs[0].value = "Save entry"
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in form.changed_data}
        try:
            if changes:
                services.spend_update(actor=request.user, entry=entry, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Spend entry saved." if changes else "Nothing changed.")
            return redirect("campaigns:spend-log", pk=campaign.pk)
    return render(request, "campaigns/spend_edit.html", {"campaign": campaign, "entry": entry, "form": form})


@require_POST
def spend_delete(request, entry_id):
    entry = _editable_entry(request, entry_id)
    try:
        services.spend_delete(actor=request.user, entry=entry)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Spend entry of {entry.amount} {entry.currency} on {entry.date:%d %b %Y} deleted.")
    return redirect("campaigns:spend-log", pk=entry.campaign_id)


# --- results ----------------------------------------------------------------------------------


class _Rollback(Exception):
    """A row failed: undo the rows saved before it."""


def _week_of(request, campaign) -> datetime.date:
    picker = WeekPickerForm(request.GET)
    if picker.is_valid():
        return selectors.monday_of(picker.cleaned_data["week"])
    today = timezone.localdate()
    inside = campaign.start_date <= today <= campaign.end_date
    return selectors.monday_of(today if inside or today < campaign.start_date else campaign.end_date)


@require_http_methods(["GET", "POST"])
def results_log(request, pk):
    """A week of results, one row per day: blank rows ignored, each day saved (created, updated or
    unchanged) through ``services.results_log``; one bad row saves nothing."""
    campaign = _visible_campaign(request, pk)
    can_edit = can_edit_campaign(request.user, campaign)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only marketers of the campaign's team can log its results.")
    week = _week_of(request, campaign)
    existing = selectors.manual_results_between(campaign, week, week + datetime.timedelta(days=6))
    formset = result_week_formset(request.POST if request.method == "POST" else None, week=week, existing=existing)
    if request.method == "POST" and formset.is_valid():
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        try:
            with transaction.atomic():
                for form in formset.forms:
                    measures = form.measures()
                    if not measures:
                        continue
                    try:
                        outcome = services.results_log(actor=request.user, campaign=campaign, date=form.day, **measures)
                    except ValidationError as error:
                        add_service_errors(form, error)
                    else:
                        counts[outcome.outcome] += 1
                if any(form.errors for form in formset.forms):
                    raise _Rollback
        except _Rollback:
            messages.error(request, "Nothing was saved: correct the rows marked below.")
        else:
            messages.success(
                request,
                f"{counts['created']} day{'' if counts['created'] == 1 else 's'} created, "
                f"{counts['updated']} updated, {counts['unchanged']} unchanged.",
            )
            return redirect(f"{reverse('campaigns:results-log', args=[pk])}?week={week:%Y-%m-%d}")
    return render(
        request,
        "campaigns/results_log.html",
        {
            "campaign": campaign,
            "can_edit": can_edit,
            "formset": formset,
            "week": week,
            "week_end": week + datetime.timedelta(days=6),
            "previous_week": week - datetime.timedelta(days=7),
            "next_week": week + datetime.timedelta(days=7),
            "picker": WeekPickerForm(initial={"week": week}),
            "results": selectors.results_of(campaign)[:20],
            "actuals": selectors.campaign_actuals(campaign),
        },
    )


# --- calendar ---------------------------------------------------------------------------------


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _calendar_range(request) -> tuple[str, datetime.date, datetime.date]:
    """``view=month|quarter`` and ``start=YYYY-MM``; by default this month, or the fiscal quarter
    holding today."""
    view = request.GET.get("view") if request.GET.get("view") in ("month", "quarter") else "month"
    try:
        start = datetime.datetime.strptime(request.GET.get("start", ""), "%Y-%m").date()
    except ValueError:
        today = timezone.localdate().replace(day=1)
        start = today
        if view == "quarter":
            start = _add_months(today, -((today.month - settings.FISCAL_YEAR_START_MONTH) % 3))
    months = 3 if view == "quarter" else 1
    end = _add_months(start, months) - datetime.timedelta(days=1)
    return view, start, end


@require_GET
def campaign_calendar(request):
    _require_area(request.user)
    view, start, end = _calendar_range(request)
    group = "channel" if request.GET.get("group") == "channel" else "team"
    step = 3 if view == "quarter" else 1
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    months = []
    month = start
    while month <= end:
        months.append((month, cal.monthrange(month.year, month.month)[1]))
        month = _add_months(month, 1)
    return render(
        request,
        "campaigns/calendar.html",
        {
            "view": view,
            "group": group,
            "start": start,
            "end": end,
            "days": days,
            "months": months,
            "groups": selectors.calendar(user=request.user, start=start, end=end, group=group),
            "previous": _add_months(start, -step),
            "next": _add_months(start, step),
            "today": timezone.localdate(),
            "statuses": CampaignStatus.choices,
        },
    )
