"""Transfer pages: finance and marketers ask to move budget between (line, month) cells — finance
can also carry a line's unspent month forward at once — and everyone follows the transfers they may
see, with the "Budget transfer" workflow's steps. Decisions happen in the workflow's task pages.

Thin: parse, check the policy, call ``transfer_request_create`` / ``carry_forward`` or a selector,
render. Service errors are shown on the form, which keeps its input.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from budgets import selectors
from budgets.models import TransferKind
from budgets.permissions import (
    can_ask_transfer,
    can_manage_budgets,
    can_view_transfers,
    lines_visible_to,
    transfers_visible_to,
)
from budgets.transfers import services
from budgets.transfers.forms import TransferForm
from budgets.views import require
from workflows import selectors as workflow_selectors


@require_http_methods(["GET", "POST"])
def transfer_create(request):
    refused = require(request, can_ask_transfer(request.user), "Finance and marketers ask to move budget.")
    if refused:
        return refused
    finance = can_manage_budgets(request.user)
    budget = selectors.request_budget()
    if budget is not None:
        lines = lines_visible_to(request.user).filter(budget=budget).order_by("code")
        periods = budget.fiscal_year.periods.order_by("start_date")
    else:
        lines = lines_visible_to(request.user).none()
        periods = lines_visible_to(request.user).none()
    form = TransferForm(request.POST or None, lines=lines, periods=periods, finance=finance)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == TransferKind.CARRY_FORWARD:
                if data["to_line"] != data["from_line"]:
                    raise ValidationError({"to_line": ["A carry-forward stays on its line."]})
                transfer = services.carry_forward(
                    actor=request.user,
                    line=data["from_line"],
                    from_period=data["from_period"],
                    to_period=data["to_period"],
                    amount=data["amount"],
                    note=data["reason"],
                )
            else:
                transfer = services.transfer_request_create(
                    actor=request.user,
                    from_line=data["from_line"],
                    from_period=data["from_period"],
                    to_line=data["to_line"],
                    to_period=data["to_period"],
                    amount=data["amount"],
                    reason=data["reason"],
                )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        except PermissionDenied as refusal:
            form.add_error(None, str(refusal))
        else:
            done = "carried forward" if data["kind"] == TransferKind.CARRY_FORWARD else "sent for approval"
            messages.success(request, f"Transfer #{transfer.pk} {done}.")
            return redirect("budgets:transfer-detail", transfer.pk)
    return render(request, "budgets/transfers/transfer_form.html", {"form": form, "budget": budget, "finance": finance})


@require_GET
def transfer_list(request):
    refused = require(request, can_view_transfers(request.user), "Budget transfers are for marketers and finance.")
    if refused:
        return refused
    qs = (
        transfers_visible_to(request.user)
        .select_related("from_line", "to_line", "from_period", "to_period", "requested_by", "team")
        .order_by("-created_at", "-id")
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request, "budgets/transfers/transfer_list.html", {"page": page, "can_ask": can_ask_transfer(request.user)}
    )


@require_GET
def transfer_detail(request, pk):
    refused = require(request, can_view_transfers(request.user), "Budget transfers are for marketers and finance.")
    if refused:
        return refused
    transfer = get_object_or_404(
        transfers_visible_to(request.user).select_related(
            "from_line", "to_line", "from_period", "to_period", "requested_by", "team"
        ),
        pk=pk,
    )
    instance = workflow_selectors.instances_of(transfer).first()
    steps = workflow_selectors.instance_steps(instance) if instance else []
    return render(
        request,
        "budgets/transfers/transfer_detail.html",
        {
            "transfer": transfer,
            "instance": instance,
            "steps": steps,
            "entries": transfer.entries.select_related("line", "period").order_by("id"),
        },
    )


urlpatterns = [
    path("transfers/", transfer_list, name="transfer-list"),
    path("transfers/new/", transfer_create, name="transfer-create"),
    path("transfers/<int:pk>/", transfer_detail, name="transfer-detail"),
]
