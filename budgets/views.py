from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from budgets import selectors
from budgets.permissions import can_view_budgets
from planning.selectors import current_fiscal_year


@require_GET
def home(request):
    """Finance's landing page: the fiscal year and the rates money is converted at."""
    if not can_view_budgets(request.user):
        raise PermissionDenied("The budgets area is for finance and the CMO.")
    return render(
        request,
        "budgets/home.html",
        {"fiscal_year": current_fiscal_year(), "rates": selectors.latest_fx_rates()},
    )
