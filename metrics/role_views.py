"""The finance, marketer and ops dashboards: parse the filter bar, check the role, build the board's
panels (metrics.role_panels) and render them, or answer ``?download=<panel id>&format=csv|xlsx`` with
the data behind one panel."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from metrics import permissions, role_panels
from metrics.forms import DashboardFilterForm
from metrics.panels import download
from metrics.selectors import scope_of


def _dashboard(request, *, allowed, refusal: str, board_class, template: str, filename: str):
    if not allowed(request.user):
        raise PermissionDenied(refusal)
    form = DashboardFilterForm(request.GET, user=request.user)
    filters = form.filters()
    board = board_class(
        role_panels.Inputs(
            filters=filters,
            scope=scope_of(request.user),
            user=request.user,
            today=timezone.localdate(),
            currency=settings.BASE_CURRENCY,
        )
    )
    response = download(request, board.builders, filename=f"{filename}-{filters.start}-{filters.end}")
    if response is not None:
        return response
    panels = {panel_id: build() for panel_id, build in board.builders.items()}
    return render(
        request,
        template,
        {
            "board": board,
            "sections": [(heading, [panels[i] for i in ids]) for heading, ids in board.sections],
            "tiles": board.tiles(),
            "filter_form": form,
            "filters_label": role_panels.filters_label(form, filters),
            "freshness": board.freshness(),
            "query": form.query_string(),
        },
    )


@require_GET
def finance(request):
    return _dashboard(
        request,
        allowed=permissions.can_view_finance_dashboard,
        refusal="The finance dashboard is for finance and the CMO.",
        board_class=role_panels.FinanceBoard,
        template="metrics/finance.html",
        filename="finance",
    )


@require_GET
def marketer(request):
    return _dashboard(
        request,
        allowed=permissions.can_view_marketer_dashboard,
        refusal="The marketing dashboard is for marketers: it shows their teams' campaigns and tasks.",
        board_class=role_panels.MarketerBoard,
        template="metrics/marketer.html",
        filename="marketing",
    )


@require_GET
def ops(request):
    return _dashboard(
        request,
        allowed=permissions.can_view_ops_dashboard,
        refusal="The ops dashboard is for ops admins and the CMO.",
        board_class=role_panels.OpsBoard,
        template="metrics/ops.html",
        filename="ops",
    )
