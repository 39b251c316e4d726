"""Allocation-request pages: a marketer asks for money for a campaign, everyone follows their
requests, and finance (and the CMO above the threshold) decides from the approval queue.

Thin: parse, check the policy, call ``allocation_request_create`` / ``task_act`` or a selector,
render. A lost race (``mops.errors.Conflict``) is a message; a refused action a message too.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from budgets import selectors
from budgets.models import BUDGET_ALLOCATION
from budgets.permissions import (
    can_request_from,
    can_view_requests,
    lines_visible_to,
    requests_visible_to,
    sees_all_budgets,
)
from budgets.requests import selectors as request_selectors
from budgets.requests import services
from budgets.requests.forms import AllocationRequestForm, DecisionForm, RequestFilterForm
from budgets.transfers.selectors import transfer_queue
from budgets.views import require
from campaigns.permissions import campaigns_visible_to, can_edit_campaign
from mops.errors import Conflict
from workflows import selectors as workflow_selectors
from workflows import services as workflow_services
from workflows.models import StepStatus, StepTask
from workflows.permissions import instance_refusal, instances_visible_to

DONE = {"approve": "approved", "reject": "rejected", "return": "sent back"}


def _error_messages(error: ValidationError) -> list[str]:
    return error.messages


# --- create ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def request_create(request):
    """Ask for money for one of my campaigns: ``?campaign=<id>`` (kept in the form's action)."""
    refused = require(request, can_request_from(request.user), "Marketers ask for budget for their campaigns.")
    if refused:
        return refused
    campaign_id = request.GET.get("campaign", "")
    campaign = get_object_or_404(campaigns_visible_to(request.user), pk=campaign_id if campaign_id.isdigit() else 0)
    if not can_edit_campaign(request.user, campaign):
        raise PermissionDenied("You can ask for money only for your own teams' campaigns.")
    budget = selectors.request_budget()
    periods = selectors.periods_of(budget) if budget else []
    lines = lines_visible_to(request.user).filter(budget=budget).order_by("code") if budget else []
    line_ids = [line.pk for line in lines]
    available = selectors.line_year_available(line_ids, periods) if budget else {}
    labels = {line.pk: f"{line.name} — {available.get(line.pk, 0):,} available" for line in lines}
    form = AllocationRequestForm(
        request.POST or None,
        lines=lines if budget else lines_visible_to(request.user).none(),
        periods=periods,
        line_labels=labels,
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.allocation_request_create(
                actor=request.user,
                line=form.cleaned_data["line"],
                months=form.months(),
                currency=form.cleaned_data["currency"],
                justification=form.cleaned_data["justification"],
                campaign=campaign,
            )
        except ValidationError as error:
            for message in _error_messages(error):
                form.add_error(None, message)
        except PermissionDenied as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, f"Budget request for {campaign.name} sent for approval.")
            return redirect("budgets:request-detail", created.pk)
    return render(
        request,
        "budgets/requests/request_form.html",
        {"form": form, "campaign": campaign, "budget": budget, "lines": lines, "available": available},
    )


# --- list and detail ------------------------------------------------------------------------


@require_GET
def request_list(request):
    refused = require(request, can_view_requests(request.user), "Budget requests are for marketers and finance.")
    if refused:
        return refused
    form = RequestFilterForm(request.GET or None)
    qs = request_selectors.request_queryset(requests_visible_to(request.user)).order_by("-created_at", "-id")
    if form.is_bound and form.is_valid():
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["q"]:
            term = form.cleaned_data["q"]
            qs = qs.filter(
                Q(campaign__name__icontains=term) | Q(line__name__icontains=term) | Q(justification__icontains=term)
            )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "budgets/requests/request_list.html", {"form": form, "page": page})


@require_GET
def request_detail(request, pk):
    refused = require(request, can_view_requests(request.user), "Budget requests are for marketers and finance.")
    if refused:
        return refused
    allocation_request = get_object_or_404(request_selectors.request_queryset(requests_visible_to(request.user)), pk=pk)
    instance = workflow_selectors.instances_of(allocation_request).first()
    steps = workflow_selectors.instance_steps(instance) if instance else []
    my_task = None
    if instance:
        my_task = (
            workflow_selectors.my_tasks(request.user, subject_type=BUDGET_ALLOCATION).filter(instance=instance).first()
        )
    return render(
        request,
        "budgets/requests/request_detail.html",
        {
            "req": allocation_request,
            "instance": instance,
            "steps": steps,
            "history": workflow_selectors.instance_history(instance) if instance else [],
            "comments": [s for s in steps if s.comment and s.status in (StepStatus.REJECTED, StepStatus.RETURNED)],
            "my_task": my_task,
            "decision_form": DecisionForm(),
        },
    )


# --- finance's approval queue ---------------------------------------------------------------


def _act(request, task_id, action, comment) -> tuple[bool, str]:
    """Decide one step; (succeeded, message). Each call is its own transaction (``task_act``)."""
    if not str(task_id or "").isdigit():
        return False, "Choose a request first."
    task = (
        workflow_selectors.my_tasks(request.user, subject_type=BUDGET_ALLOCATION)
        .filter(pk=task_id)
        .select_related("instance")
        .first()
    ) or StepTask.objects.filter(  # e.g. decided meanwhile: say so, but only about a request the user sees
        pk=task_id, instance__subject_type=BUDGET_ALLOCATION, instance__in=instances_visible_to(request.user)
    ).first()
    if task is None:
        return False, "This step no longer exists."
    label = task.instance.subject_repr
    try:
        workflow_services.task_act(actor=request.user, task=task, action=action, comment=comment)
    except ValidationError as error:
        text = " ".join(error.messages)
        if "available" in text:
            text = f"no longer available — {text}"
        return False, f"{label}: {text}"
    except Conflict as conflict:
        return False, f"{label}: {conflict}"
    except PermissionDenied as refusal:
        return False, f"{label}: {refusal}"
    return True, f"{label}: {DONE[action]}."


@require_http_methods(["GET", "POST"])
def queue(request):
    refused = require(request, sees_all_budgets(request.user), "The approval queue is for finance and the CMO.")
    if refused:
        return refused
    if request.method == "POST":
        if request.POST.get("operation") == "bulk-approve":
            ids = request.POST.getlist("task")
            if not ids:
                messages.warning(request, "Select the requests to approve first.")
            for task_id in ids:
                ok, text = _act(request, task_id, "approve", request.POST.get("comment", ""))
                (messages.success if ok else messages.error)(request, text)
        else:
            form = DecisionForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose approve, reject or send back.")
            else:
                ok, text = _act(
                    request, request.POST.get("task"), form.cleaned_data["action"], form.cleaned_data["comment"]
                )
                (messages.success if ok else messages.error)(request, text)
        return redirect(request.POST.get("next") or reverse("budgets:queue"))
    rows = request_selectors.approval_queue(request.user)
    transfers = transfer_queue(request.user)
    return render(
        request,
        "budgets/requests/request_queue.html",
        {"rows": rows, "transfers": transfers, "decision_form": DecisionForm()},
    )


@require_POST
def request_decide(request, pk):
    """Decide the user's active step on one request from its own page."""
    refused = require(request, can_view_requests(request.user), "Budget requests are for marketers and finance.")
    if refused:
        return refused
    allocation_request = get_object_or_404(requests_visible_to(request.user), pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        task_id = request.POST.get("task")
        instance = workflow_selectors.open_instance_of(allocation_request)
        if not task_id and instance is not None:
            mine = workflow_selectors.my_tasks(request.user, subject_type=BUDGET_ALLOCATION).filter(instance=instance)
            task_id = mine.values_list("pk", flat=True).first()
            if task_id is None:  # the engine's reason: separation of duties for the requester
                reason = instance_refusal(request.user, instance, action)
                messages.error(request, f"{allocation_request}: {reason}")
                return redirect("budgets:request-detail", pk)
        ok, text = _act(request, task_id, action, form.cleaned_data["comment"])
        (messages.success if ok else messages.error)(request, text)
    return redirect("budgets:request-detail", pk)


urlpatterns = [
    path("requests/", request_list, name="request-list"),
    path("requests/new/", request_create, name="request-create"),
    path("requests/<int:pk>/", request_detail, name="request-detail"),
    path("requests/<int:pk>/decide/", request_decide, name="request-decide"),
    path("queue/", queue, name="queue"),
]
