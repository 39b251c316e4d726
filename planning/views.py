from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mops.errors import Conflict
from mops.forms import add_service_errors
from planning import permissions as policy
from planning import selectors, services
from planning.forms import ChannelForm, ObjectiveForm, RegionForm, SegmentForm, TargetsForm
from planning.models import FiscalYear, Period


@require_GET
def home(request):
    """The fiscal calendar (finance closes and reopens months here) and the year's objectives."""
    fiscal_year = selectors.current_fiscal_year()
    requested = request.GET.get("year")
    if requested and requested.isdigit():
        fiscal_year = FiscalYear.objects.filter(year=int(requested)).first() or fiscal_year
    return render(
        request,
        "planning/home.html",
        {
            "fiscal_year": fiscal_year,
            "years": FiscalYear.objects.order_by("-year"),
            "periods": selectors.periods_of(fiscal_year) if fiscal_year else [],
            "objectives": selectors.objectives_with_targets(fiscal_year) if fiscal_year else [],
            "can_close": policy.can_close_periods(request.user),
            "can_manage_objectives": policy.can_manage_objectives(request.user),
        },
    )


@require_POST
def period_toggle(request, pk, action):
    if not policy.can_close_periods(request.user):
        raise PermissionDenied("Only finance can close or reopen periods.")
    period = get_object_or_404(Period, pk=pk)
    service = services.period_close if action == "close" else services.period_reopen
    try:
        service(actor=request.user, period=period)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{period} {'closed' if action == 'close' else 'reopened'}.")
    return redirect(f"{reverse('planning:home')}?year={period.fiscal_year.year}")


TAXONOMY = {
    "channel": (ChannelForm, services.channel_create),
    "region": (RegionForm, services.region_create),
    "segment": (SegmentForm, services.segment_create),
}


@require_http_methods(["GET", "POST"])
def taxonomy(request):
    """Channels, regions, products and segments: everyone reads; ops admins add."""
    can_manage = policy.can_manage_taxonomy(request.user)
    forms = {kind: form_class(prefix=kind) for kind, (form_class, _) in TAXONOMY.items()} if can_manage else {}
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only ops admins can manage channels, regions and segments.")
        kind = request.POST.get("kind")
        if kind not in TAXONOMY:
            raise PermissionDenied("Unknown taxonomy.")
        form_class, create = TAXONOMY[kind]
        form = forms[kind] = form_class(request.POST, prefix=kind)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v not in ("", None) or k == "name"}
            try:
                obj = create(actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"“{obj}” added.")
                return redirect("planning:taxonomy")
    return render(
        request,
        "planning/taxonomy.html",
        {
            "channel_groups": selectors.channels_by_group(user=request.user, active_only=False),
            "regions": policy.regions_visible_to(request.user),
            "segments": policy.segments_visible_to(request.user),
            "forms": forms,
        },
    )


@require_http_methods(["GET", "POST"])
def objective_create(request):
    if not policy.can_manage_objectives(request.user):
        raise PermissionDenied("Only the CMO and ops admins can set objectives.")
    form = ObjectiveForm(request.POST or None, initial={"fiscal_year": selectors.current_fiscal_year()})
    if request.method == "POST" and form.is_valid():
        try:
            objective = services.objective_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Objective “{objective}” created; now set its targets.")
            return redirect("planning:objective-detail", pk=objective.pk)
    return render(request, "planning/objective_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def objective_detail(request, pk):
    objective = get_object_or_404(
        policy.objectives_visible_to(request.user).select_related("fiscal_year", "owner"), pk=pk
    )
    can_manage = policy.can_manage_objectives(request.user)
    periods = list(objective.fiscal_year.periods.order_by("start_date"))
    form = None
    if can_manage:
        form = TargetsForm(request.POST or None, periods=periods)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only the CMO and ops admins can set targets.")
        if form.is_valid():
            try:
                services.targets_set(
                    actor=request.user, objective=objective, kpi=form.cleaned_data["kpi"], values=form.values()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Targets saved.")
                return redirect("planning:objective-detail", pk=objective.pk)
    return render(
        request,
        "planning/objective_detail.html",
        {"objective": objective, "periods": periods, "grid": selectors.target_grid(objective), "form": form},
    )
