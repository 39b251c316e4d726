from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from metrics import figures, selectors
from metrics.permissions import can_view_dashboards
from mops.figures import to_html


@require_GET
def dashboard(request):
    """The CMO's landing page. Until rollups land it shows the organisation the numbers will cut by."""
    if not can_view_dashboards(request.user):
        raise PermissionDenied("Dashboards are for marketers, finance and the CMO.")
    overview = selectors.organisation_overview()
    channels_figure = to_html(figures.bar(overview.channels_by_group, title="Active channels by group"))
    return render(request, "metrics/dashboard.html", {"overview": overview, "channels_figure": channels_figure})
