"""The dashboard pages: the landing redirect, and one view per role board, each a ``board_page``."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from metrics.dashboards import panels, permissions
from metrics.dashboards.cmo.board import CmoBoard
from metrics.dashboards.finance import FinanceBoard
from metrics.dashboards.marketer import MarketerBoard
from metrics.dashboards.ops import OpsBoard
from metrics.rollups.forms import DashboardFilterForm
from metrics.rollups.models import DirtyMark, RefreshRun
from metrics.rollups.selectors import scope_of


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


def board_page(request, board_class: type[panels.Board], *, allowed, refusal: str):
    """A dashboard page: parse the filter bar, check the role, build the board's panels and render
    them, or answer ``?download=<panel id>&format=csv|xlsx`` with the data behind one panel."""
    if not allowed(request.user):
        raise PermissionDenied(refusal)
    form = DashboardFilterForm(request.GET, user=request.user)
    filters = form.filters()
    board = board_class(
        panels.Inputs(
            filters=filters,
            scope=scope_of(request.user),
            user=request.user,
            today=timezone.localdate(),
            currency=settings.BASE_CURRENCY,
        )
    )
    response = panels.download(request, board.builders, filename=f"{board.filename}-{filters.start}-{filters.end}")
    if response is not None:
        return response
    key = _cache_key(request, board)
    body = cache.get(key) if key else None
    if body is None:
        built = {panel_id: build() for panel_id, build in board.builders.items()}
        body = render_to_string(
            board.template,
            {
                "board": board,
                "panels": built,
                "sections": [(heading, [built[i] for i in ids]) for heading, ids in board.sections],
                "tiles": board.tiles(),
                "filter_form": form,
                "filters_label": panels.filters_label(form, filters, comparison=board.comparison),
                "freshness": board.freshness(),
                "query": form.query_string(),
                "path": request.path,
                "base_currency": settings.BASE_CURRENCY,
            },
        )  # no request: the page around it runs the context processors (the navigation) once
        if key:
            cache.set(key, body, board.cache_seconds)
    return render(request, "metrics/dashboards/board_page.html", {"board": board, "body": body})


def _cache_key(request, board) -> str | None:
    """A board that may be cached is cached per user, filters, day and rollup state: any refresh of
    the rollups (a new RefreshRun) or change waiting for one makes a new key, so new spend shows as
    soon as it is rolled up; what is not in the rollups (targets) may lag by ``cache_seconds``."""
    if not board.cache_seconds:
        return None
    version = RefreshRun.objects.aggregate(last=Max("pk"))["last"] or 0
    pending = DirtyMark.objects.count()  # the filter bar says how many changes wait
    query = sorted((k, v) for k, v in request.GET.lists() if k not in ("download", "format"))
    raw = f"{board.filename}|{request.user.pk}|{timezone.localdate()}|{version}|{pending}|{query}"
    return "metrics:board:" + hashlib.sha256(raw.encode()).hexdigest()


@require_GET
def cmo(request):
    """The CMO dashboard; ``?download=<panel>&format=csv|xlsx`` returns the data behind one panel."""
    return board_page(
        request, CmoBoard, allowed=permissions.can_view_cmo_dashboard, refusal="The CMO dashboard is for the CMO."
    )


@require_GET
def finance(request):
    return board_page(
        request,
        FinanceBoard,
        allowed=permissions.can_view_finance_dashboard,
        refusal="The finance dashboard is for finance and the CMO.",
    )


@require_GET
def marketer(request):
    return board_page(
        request,
        MarketerBoard,
        allowed=permissions.can_view_marketer_dashboard,
        refusal="The marketing dashboard is for marketers: it shows their teams' campaigns and tasks.",
    )


@require_GET
def ops(request):
    return board_page(
        request,
        OpsBoard,
        allowed=permissions.can_view_ops_dashboard,
        refusal="The ops dashboard is for ops admins and the CMO.",
    )
