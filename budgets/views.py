from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from budgets import phasing, selectors, services
from budgets.forms import BudgetForm, CommitmentForm, LineForm, PhasingForm, PhasingUploadForm, SpreadForm
from budgets.models import BudgetEntry, CommitmentStatus
from budgets.permissions import (
    budgets_visible_to,
    can_manage_budgets,
    can_view_budgets,
    commitments_visible_to,
    lines_visible_to,
)
from mops.errors import Conflict
from mops.forms import add_service_errors
from mops.money import money
from planning.selectors import current_fiscal_year


def require(request, allowed: bool, message: str):
    """The guard of the request and transfer pages: None when ``allowed``; the login page for an
    anonymous user; else PermissionDenied with ``message``."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed:
        raise PermissionDenied(message)
    return None


def _require_view(user):
    if not can_view_budgets(user):
        raise PermissionDenied("The budgets area is for finance and the CMO.")


def _require_manage(user):
    if not can_manage_budgets(user):
        raise PermissionDenied("Only finance can change budgets.")


def _chosen_budget(request):
    """The budget version asked for (?budget=), else the current fiscal year's current version."""
    visible = budgets_visible_to(request.user).select_related("fiscal_year")
    requested = request.GET.get("budget", "")
    if requested.isdigit():
        chosen = visible.filter(pk=int(requested)).first()
        if chosen:
            return chosen
    fiscal_year = current_fiscal_year()
    current = visible.filter(is_current=True)
    return (fiscal_year and current.filter(fiscal_year=fiscal_year).first()) or current.first()


@require_http_methods(["GET", "POST"])
def home(request):
    """Finance's landing page: the budget tree of a version of the year, and the rates in force."""
    _require_view(request.user)
    budget = _chosen_budget(request)
    can_manage = can_manage_budgets(request.user)
    budget_form = line_form = None
    if can_manage:
        budget_form = BudgetForm(
            initial={
                "fiscal_year": budget.fiscal_year if budget else current_fiscal_year(),
                "target": budget.target if budget else None,
            }
        )
        line_form = LineForm(budget=budget) if budget else None
    if request.method == "POST":
        _require_manage(request.user)
        action = request.GET.get("action")
        if action == "budget":
            budget_form = BudgetForm(request.POST)
            if budget_form.is_valid():
                try:
                    created = services.budget_create(actor=request.user, **budget_form.cleaned_data)
                except ValidationError as error:
                    add_service_errors(budget_form, error)
                else:
                    messages.success(request, f"Budget “{created}” created; it is now the current version.")
                    return redirect(f"{reverse('budgets:home')}?budget={created.pk}")
        elif action == "line" and budget:
            line_form = LineForm(request.POST, budget=budget)
            if line_form.is_valid():
                try:
                    line = services.line_create(actor=request.user, budget=budget, **line_form.cleaned_data)
                except ValidationError as error:
                    add_service_errors(line_form, error)
                else:
                    messages.success(request, f"Line “{line}” added; now phase it by month.")
                    return redirect("budgets:phasing", pk=line.pk)
        else:
            raise PermissionDenied("Unknown action.")
    tree = phasing.budget_tree(budget) if budget else []
    top_total = sum((row.budget for row in tree if row.depth == 0), phasing.ZERO)
    versions = (
        list(budgets_visible_to(request.user).filter(fiscal_year=budget.fiscal_year).order_by("version"))
        if budget
        else []
    )
    phased = phasing.phased_totals(versions) if versions else {}
    for version in versions:
        version.phased = phased.get(version.pk, phasing.ZERO)
    return render(
        request,
        "budgets/home.html",
        {
            "fiscal_year": budget.fiscal_year if budget else current_fiscal_year(),
            "budget": budget,
            "versions": versions,
            "tree": tree,
            "top_total": top_total,
            "gap": (budget.target - top_total) if budget else None,
            "can_manage": can_manage,
            "budget_form": budget_form,
            "line_form": line_form,
            "upload_form": PhasingUploadForm() if can_manage and budget else None,
            "rates": selectors.latest_fx_rates(),
        },
    )


@require_http_methods(["GET", "POST"])
def line_phasing(request, pk):
    """One line's 12 months: typed, or spread from a yearly total (evenly or by a profile)."""
    _require_view(request.user)
    line = get_object_or_404(
        lines_visible_to(request.user).select_related("budget__fiscal_year", "parent", "team"), pk=pk
    )
    periods = list(line.budget.fiscal_year.periods.select_related("fiscal_year").order_by("start_date"))
    cells = selectors.budget_cells([line.pk])
    current = {p: money(cells.get((line.pk, p.pk), phasing.ZERO)) for p in periods}
    initial = {PhasingForm.key(p): amount for p, amount in current.items()}
    can_manage = can_manage_budgets(request.user)
    form = PhasingForm(initial=initial, periods=periods) if can_manage else None
    spread_form = SpreadForm(initial={"total": sum(current.values()), "profile": "flat"}) if can_manage else None
    if request.method == "POST":
        _require_manage(request.user)
        amounts = note = None
        if "spread" in request.POST:
            spread_form = SpreadForm(request.POST)
            if spread_form.is_valid():
                open_periods = [p for p in periods if not p.is_closed]
                total = spread_form.cleaned_data["total"]
                if not open_periods:
                    spread_form.add_error(None, "Every month of the year is closed.")
                else:
                    amounts = phasing.spread_profile(total, spread_form.cleaned_data["profile"], open_periods)
                    note = spread_form.cleaned_data["note"] or f"Spread {total} ({spread_form.cleaned_data['profile']})"
            target_form = spread_form
        else:
            form = PhasingForm(request.POST, initial=initial, periods=periods)
            if form.is_valid():
                amounts, note = form.amounts(), form.cleaned_data["note"]
            target_form = form
        if amounts is not None:
            try:
                result = services.phasing_set(actor=request.user, line=line, amounts=amounts, note=note)
            except ValidationError as error:
                add_service_errors(target_form, error)
            else:
                for warning in result.warnings:
                    messages.warning(request, warning)
                changed = len(result.entries)
                messages.success(request, f"Phasing saved: {changed} month{'s' * (changed != 1)} changed.")
                return redirect("budgets:phasing", pk=line.pk)
    children = list(line.children.order_by("code"))
    child_cells = selectors.budget_cells([c.pk for c in children]) if children else {}
    children_total = [
        sum((child_cells.get((c.pk, p.pk), phasing.ZERO) for c in children), phasing.ZERO) for p in periods
    ]
    history = (
        BudgetEntry.objects.filter(line=line)
        .select_related("period", "created_by", "transfer")
        .order_by("-effective_at", "-id")
    )
    return render(
        request,
        "budgets/phasing.html",
        {
            "line": line,
            "periods": periods,
            "current": [current[p] for p in periods],
            "year_total": sum(current.values()),
            "children": children,
            "children_total": children_total,
            "children_year": sum(children_total),
            "history": history,
            "form": form,
            "spread_form": spread_form,
            "profiles": phasing.PROFILES,
        },
    )


@require_GET
def phasing_download(request, pk):
    """The whole budget's phasing as CSV or XLSX (one row per line, a column per month)."""
    _require_view(request.user)
    budget = get_object_or_404(budgets_visible_to(request.user).select_related("fiscal_year"), pk=pk)
    filename = f"phasing-{budget.fiscal_year.year}-v{budget.version}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            phasing.phasing_xlsx(budget),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        filename += ".xlsx"
    else:
        response = HttpResponse(phasing.phasing_csv(budget), content_type="text/csv; charset=utf-8")
        filename += ".csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def phasing_upload(request, pk):
    """Apply a phasing file to a budget: all lines in one transaction, or nothing with errors by row."""
    _require_manage(request.user)
    budget = get_object_or_404(budgets_visible_to(request.user).select_related("fiscal_year"), pk=pk)
    form = PhasingUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            rows = phasing.read_upload(form.cleaned_data["file"])
            result = phasing.phasing_upload(actor=request.user, budget=budget, rows=rows)
        except ValidationError as error:
            form.add_error(None, error.messages)  # a list by row number, shown above the form
        else:
            for warning in result.warnings:
                messages.warning(request, warning)
            messages.success(
                request, f"Phasing uploaded: {result.lines_changed} lines changed ({result.entries} ledger entries)."
            )
            return redirect(f"{reverse('budgets:home')}?budget={budget.pk}")
    return render(request, "budgets/phasing_upload.html", {"budget": budget, "form": form})


@require_http_methods(["GET", "POST"])
def commitments(request):
    """Purchase orders against lines: finance records and closes them; the CMO reads."""
    _require_view(request.user)
    can_manage = can_manage_budgets(request.user)
    form = CommitmentForm() if can_manage else None
    if request.method == "POST":
        _require_manage(request.user)
        form = CommitmentForm(request.POST)
        if form.is_valid():
            try:
                commitment = services.commitment_create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Commitment {commitment.reference} recorded.")
                return redirect("budgets:commitments")
    status = request.GET.get("status", CommitmentStatus.OPEN)
    rows = commitments_visible_to(request.user)
    if status in CommitmentStatus.values:
        rows = rows.filter(status=status)
    rows = phasing.with_invoiced(rows).order_by("-created_at", "-id")
    totals = rows.aggregate(amount=Sum("amount_base"))
    return render(
        request,
        "budgets/commitments.html",
        {
            "commitments": rows,
            "status": status,
            "statuses": CommitmentStatus.choices,
            "total": totals["amount"] or phasing.ZERO,
            "form": form,
            "can_manage": can_manage,
        },
    )


@require_POST
def commitment_close(request, pk):
    _require_manage(request.user)
    commitment = get_object_or_404(commitments_visible_to(request.user), pk=pk)
    try:
        services.commitment_close(actor=request.user, commitment=commitment)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Commitment {commitment.reference} closed: what was left is released.")
    return redirect("budgets:commitments")


urlpatterns = [
    path("lines/<int:pk>/phasing/", line_phasing, name="phasing"),
    path("<int:pk>/phasing/download/", phasing_download, name="phasing-download"),
    path("<int:pk>/phasing/upload/", phasing_upload, name="phasing-upload"),
    path("commitments/", commitments, name="commitments"),
    path("commitments/<int:pk>/close/", commitment_close, name="commitment-close"),
]
