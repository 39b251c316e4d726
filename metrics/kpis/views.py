"""Pages for KPI definitions: the catalogue (measures, built-ins, custom KPIs with version and
status), a KPI's detail (formula, versions, what uses it, and a live preview over this fiscal year),
and the ops admin's forms to define, change (a new version), deactivate and reactivate custom KPIs.

The CMO, finance and ops admins read these pages; only ops admins change anything (403 otherwise).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from metrics.kpis import catalogue as kpis
from metrics.kpis import permissions as policy
from metrics.kpis import selectors as kpi_selectors
from metrics.kpis import services as kpi_services
from metrics.kpis.forms import KpiDefinitionForm
from metrics.kpis.models import KpiDefinition
from mops.errors import Conflict
from mops.forms import add_service_errors


def _require_viewer(user) -> None:
    if not policy.can_view_kpi_definitions(user):
        raise PermissionDenied("KPI definitions are for the CMO, finance and ops admins.")


def _require_manager(user) -> None:
    if not policy.can_manage_kpi_definitions(user):
        raise PermissionDenied("Only ops admins can define or change KPIs.")


@require_GET
def kpi_list(request):
    _require_viewer(request.user)
    return render(
        request,
        "metrics/kpis/list.html",
        {
            "measures": kpis.MEASURE_KPIS,
            "builtins": kpis.BUILTIN_KPIS,
            "custom": kpi_selectors.custom_definitions(),
            "can_manage": policy.can_manage_kpi_definitions(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def kpi_create(request):
    _require_manager(request.user)
    form = KpiDefinitionForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            if "preview" in request.POST:
                kpi = kpi_services.check_new(**form.definition())
                preview = kpi_selectors.preview(kpi, user=request.user)
            else:
                definition = kpi_services.kpi_definition_create(actor=request.user, **form.definition())
                messages.success(request, f"KPI “{definition.name}” defined.")
                return redirect("metrics:kpi-detail", code=definition.code)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            form.add_error(None, str(conflict))
    return render(request, "metrics/kpis/form.html", {"form": form, "preview": preview, "definition": None})


@require_http_methods(["GET", "POST"])
def kpi_detail(request, code):
    """GET: the KPI. POST ``action=deactivate|reactivate`` (ops admins, custom KPIs)."""
    _require_viewer(request.user)
    definition = None
    kpi = kpi_selectors.STANDARD_BY_CODE.get(code)
    if kpi is None:
        definition = kpi_selectors.current_definition(code)
        if definition is None:
            raise Http404(f"There is no KPI with the code {code}.")
        kpi = kpi_selectors.as_kpi(definition)
    if request.method == "POST":
        return _change_status(request, definition)
    catalogue = kpi_selectors.kpi_catalogue()
    return render(
        request,
        "metrics/kpis/detail.html",
        {
            "kpi": kpi,
            "definition": definition,
            "versions": kpi_selectors.definition_versions(code) if definition else [],
            "uses": [catalogue.get(name) or name for name in sorted(kpi.parsed.names) if not kpi.measure],
            "used_by": [catalogue[other] for other in kpi_selectors.used_by(code, catalogue)],
            "preview": kpi_selectors.preview(kpi, user=request.user),
            "can_manage": policy.can_manage_kpi_definitions(request.user) and definition is not None,
        },
    )


def _change_status(request, definition: KpiDefinition | None):
    _require_manager(request.user)
    if definition is None:
        raise PermissionDenied("Built-in KPIs and measures cannot be deactivated.")
    services = {
        "deactivate": (kpi_services.kpi_definition_deactivate, "deactivated"),
        "reactivate": (kpi_services.kpi_definition_reactivate, "reactivated"),
    }
    if request.POST.get("action") not in services:
        raise PermissionDenied("Unknown action.")
    service, done = services[request.POST["action"]]
    try:
        service(actor=request.user, definition=definition)
    except Conflict as conflict:
        messages.error(request, str(conflict))
    except ValidationError as error:
        messages.error(request, f"{definition.code} cannot be {done}: {' '.join(error.messages)}")
    else:
        messages.success(request, f"{definition.name} {done}.")
    return redirect("metrics:kpi-detail", code=definition.code)


@require_http_methods(["GET", "POST"])
def kpi_edit(request, code):
    """Change a custom KPI: saving adds the next version; the form carries the version it was
    loaded from, so saving over someone else's newer version is a conflict, not a silent overwrite."""
    _require_manager(request.user)
    current = get_object_or_404(KpiDefinition, code=code, is_current=True)
    if not current.is_active:
        messages.error(request, f"{current.code} is deactivated; reactivate it before changing it.")
        return redirect("metrics:kpi-detail", code=code)
    initial = {name: getattr(current, name) for name in kpi_services.EDITABLE_FIELDS}
    form = KpiDefinitionForm(request.POST or None, initial={**initial, "version": current.version}, editing=True)
    preview = None
    if request.method == "POST" and form.is_valid():
        base = get_object_or_404(KpiDefinition, code=code, version=form.cleaned_data["version"])
        changes = form.definition()
        try:
            if "preview" in request.POST:
                kpi = kpi_services.check(code=code, version=current.version + 1, **changes)
                preview = kpi_selectors.preview(kpi, user=request.user)
            else:
                saved = kpi_services.kpi_definition_update(actor=request.user, definition=base, **changes)
                if saved.version == base.version:
                    messages.info(request, "Nothing changed; no new version was saved.")
                else:
                    messages.success(request, f"{saved.name} saved as version {saved.version}.")
                return redirect("metrics:kpi-detail", code=code)
        except ValidationError as error:
            add_service_errors(form, error)
        except Conflict as conflict:
            form.add_error(None, str(conflict))
    return render(request, "metrics/kpis/form.html", {"form": form, "preview": preview, "definition": current})
