"""Budget vs actual: the grid by group and month (finance and the CMO), its drill-down to the rows
behind a cell, and CSV/XLSX downloads of exactly the grid shown."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from budgets import selectors
from budgets.permissions import can_view_budgets
from budgets.reports import selectors as reports
from budgets.reports.forms import BvaFilterForm
from mops import exports


def _require_view(user):
    if not can_view_budgets(user):
        raise PermissionDenied("Budget vs actual is for finance and the CMO.")


@require_GET
def bva(request):
    """The grid: rows = groups, columns = the chosen measure by month, then every measure for the range."""
    _require_view(request.user)
    form = BvaFilterForm(request.GET, user=request.user)
    params = form.params()
    budget = params["budget"]
    report = header = rows = None
    if budget is not None:
        report = reports.budget_vs_actual(
            budget=budget,
            group_by=params["group_by"],
            start=params["start"],
            end=params["end"],
            user=request.user,
        )
        header, rows = reports.bva_table(report, params["measure"])
        filename = f"budget-vs-actual-{budget.fiscal_year.year}-v{budget.version}-{params['group_by']}"
        fmt = request.GET.get("format", "")
        if fmt in exports.FORMATS:
            return exports.table_response(header, rows, filename=filename, fmt=fmt, sheet="Budget vs actual")
    grid = []
    if report is not None:
        keys = [r.key for r in report.rows] + [None]
        month_count = len(report.periods)
        for index, (row, key) in enumerate(zip(rows, keys, strict=True)):
            is_total = index == len(rows) - 1
            months = [(period, value) for period, value in zip(report.periods, row[1 : 1 + month_count], strict=True)]
            grid.append(
                {
                    "label": row[0],
                    "key": "none" if key is None else key,
                    "is_total": is_total,
                    "drillable": not is_total and (params["group_by"] != "month" or key == selectors.OUTSIDE),
                    "depth": 0 if is_total else report.rows[index].depth,
                    "months": months,
                    "rest": row[1 + month_count :],
                }
            )
    query = request.GET.copy()
    query.pop("format", None)
    return render(
        request,
        "budgets/reports/bva.html",
        {
            "form": form,
            "params": params,
            "report": report,
            "header": header,
            "grid": grid,
            "query": query.urlencode(),
            "drillable": params["group_by"] != "month",
        },
    )


def _key(raw: str):
    if raw in ("", "none"):
        return None
    if not raw.isdigit():
        raise Http404("No such group.")
    return int(raw)


@require_GET
def bva_cell(request):
    """The rows behind a cell: ?budget=&group_by=&key=&period= (no period: the whole year)."""
    _require_view(request.user)
    form = BvaFilterForm(request.GET, user=request.user)
    params = form.params()
    budget = params["budget"]
    if budget is None:
        raise Http404("No budget.")
    group_by = params["group_by"]
    raw_key = request.GET.get("key", "")
    period = None
    if request.GET.get("period", "").isdigit():
        period = budget.fiscal_year.periods.filter(pk=int(request.GET["period"])).first()
        if period is None:
            raise Http404("That month is not in this budget's year.")
    back = request.GET.copy()
    for name in ("key", "period"):
        back.pop(name, None)
    if raw_key == selectors.OUTSIDE:
        # The campaigns no line funds, whatever the grouping: finance's way to the spend behind the row.
        campaigns = reports.outside_spend_campaigns(budget=budget, period=period, user=request.user)
        return render(
            request,
            "budgets/reports/bva_outside.html",
            {
                "budget": budget,
                "period": period,
                "campaigns": campaigns,
                "total": sum((c.spent for c in campaigns), selectors.ZERO),
                "back": back.urlencode(),
            },
        )
    key = _key(raw_key)
    if group_by == "month":
        period = period or budget.fiscal_year.periods.filter(pk=key).first()
        key = None
    detail = reports.bva_cell_detail(budget=budget, group_by=group_by, key=key, period=period, user=request.user)
    return render(
        request,
        "budgets/reports/bva_cell.html",
        {"budget": budget, "group_by": group_by, "key": key, "period": period, "back": back.urlencode(), **detail},
    )


urlpatterns = [
    path("budget-vs-actual/", bva, name="bva"),
    path("budget-vs-actual/cell/", bva_cell, name="bva-cell"),
]
