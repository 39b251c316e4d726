from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from metrics import cmo as cmo_dashboard
from metrics import panels, permissions, selectors
from metrics.forms import DashboardFilterForm


@require_GET
def dashboard(request):
    """Each role lands on its own dashboard."""
    user = request.user
    for allowed, name in (
        (permissions.can_view_cmo_dashboard(user), "metrics:cmo"),
        (permissions.can_view_finance_dashboard(user), "metrics:finance"),
        (permissions.can_view_marketer_dashboard(user), "metrics:marketer"),
        (permissions.can_view_ops_dashboard(user), "metrics:ops"),
    ):
        if allowed:
            return redirect(name)
    raise PermissionDenied("Dashboards are for marketers, finance, ops admins and the CMO.")


@require_GET
def cmo(request):
    """The CMO dashboard; ``?download=<panel>&format=csv|xlsx`` returns the data behind one panel."""
    if not permissions.can_view_cmo_dashboard(request.user):
        raise PermissionDenied("The CMO dashboard is for the CMO.")
    form = DashboardFilterForm(request.GET, user=request.user)
    filters = form.filters()
    reads = cmo_dashboard.Reads(filters, scope=selectors.scope_of(request.user))
    builders = cmo_dashboard.builders(reads)
    response = panels.download(request, builders, filename=f"cmo-dashboard-{filters.start}-{filters.end}")
    if response is not None:
        return response
    built = {panel_id: build() for panel_id, build in builders.items()}
    return render(
        request,
        "metrics/cmo.html",
        {
            "filter_form": form,
            "filters_label": cmo_dashboard.filters_label(form, filters, comparison=reads.comparison),
            "freshness": cmo_dashboard.freshness(selectors.rollup_status()),
            "tiles": cmo_dashboard.tiles(reads),
            "headline": built.pop("headline"),
            "panels": list(built.values()),
            "query": form.query_string(),
        },
    )
