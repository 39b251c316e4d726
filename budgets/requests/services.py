"""Every write to allocation requests: ask for money from a line (which starts the "Budget allocation
request" workflow), and the workflow's callbacks — approval turns the request's months into
allocations if the line still has the money; rejection, return, resubmission and cancellation set
its status. ``budgets.subjects`` registers the callbacks; nothing here imports it."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from budgets import hooks, selectors
from budgets.models import (
    BUDGET_ALLOCATION,
    Allocation,
    AllocationRequest,
    AllocationRequestMonth,
    BudgetLine,
    RequestStatus,
)
from budgets.permissions import can_request_from
from budgets.services import actor_of, bound_errors, fx_rate_for, lock_budget, status_callback, status_set
from campaigns.permissions import can_edit_campaign
from mops.errors import Conflict
from mops.money import money
from mops.services import audit
from planning.selectors import assert_open
from workflows.services import instance_start


def allocation_request_create(
    *, actor, line: BudgetLine, months: dict, currency: str, justification: str, campaign=None, program=None
) -> AllocationRequest:
    """Ask for money from ``line`` for a campaign (or program), by month, and start its workflow."""
    if not can_request_from(actor):
        raise PermissionDenied("Marketers ask for budget; finance moves it directly.")
    if campaign is None and program is None:
        raise ValidationError({"campaign": ["Say which campaign (or program) the money is for."]})
    if campaign is not None and not can_edit_campaign(actor, campaign):
        raise PermissionDenied("You can ask for money only for your own teams' campaigns.")
    if not justification.strip():
        raise ValidationError({"justification": ["Say what the money is for."]})
    months = {p: a for p, a in months.items() if a}
    if not months:
        raise ValidationError({"months": ["Give an amount for at least one month."]})
    errors = [f"{p}: the amount must be more than zero." for p, a in months.items() if a < 0]
    errors += [
        f"{p} is not in {line.budget.fiscal_year}." for p in months if p.fiscal_year_id != line.budget.fiscal_year_id
    ]
    for period, amount in months.items():
        errors += bound_errors(amount, f"{period}: the amount")
    if not errors:
        errors += bound_errors(sum(months.values()), "The request's total")
    if errors:
        raise ValidationError({"months": errors})
    for period in months:
        assert_open(period.start_date, field="months")
    today = timezone.localdate()
    rate = fx_rate_for(currency, today, "currency")
    team = campaign.team if campaign is not None else line.team
    if team is None:
        raise ValidationError({"line": ["This line has no team; ask for money for a campaign instead."]})
    base_errors = [
        message
        for period, amount in months.items()
        for message in bound_errors(money(amount * rate), f"{period}: the amount in {settings.BASE_CURRENCY}")
    ]
    if not base_errors:
        base_errors = bound_errors(sum(money(a * rate) for a in months.values()), "The request's total")
    if base_errors:
        raise ValidationError({"months": base_errors})
    with transaction.atomic():
        request = AllocationRequest.objects.create(
            line=line,
            campaign=campaign,
            program=program,
            team=team,
            requested_by=actor,
            justification=justification.strip(),
            currency=currency,
            amount=money(sum(months.values())),
            amount_base=money(sum(money(a * rate) for a in months.values())),
            fx_rate=rate,
        )
        AllocationRequestMonth.objects.bulk_create(
            [
                AllocationRequestMonth(request=request, period=p, amount=money(a), amount_base=money(a * rate))
                for p, a in sorted(months.items(), key=lambda item: item[0].start_date)
            ]
        )
        audit(actor=actor, action="allocation_request.create", obj=request, after={"amount_base": request.amount_base})
        instance_start(actor=actor, subject=request, subject_type=BUDGET_ALLOCATION)
    return request


def allocation_approved(instance) -> None:
    """Workflow callback: the request's months become allocations, if the line still has the money.

    Raising here rolls back the final approval itself, so the approver is told and nothing moves.
    """
    request = AllocationRequest.objects.select_related("line").get(pk=instance.subject_id)
    lock_budget(request.line.budget_id)
    if request.status != RequestStatus.PENDING:
        raise Conflict(f"This request is already {request.get_status_display().lower()}.")
    short = []
    for month in request.months.select_related("period"):
        assert_open(month.period.start_date, field="months")
        left = selectors.available(line=request.line, period=month.period)
        if month.amount_base > left:
            short.append(f"{month.period}: {request.line} has {left} available, the request needs {month.amount_base}.")
    if short:
        raise ValidationError({"months": short})
    Allocation.objects.bulk_create(
        [
            Allocation(
                request=request,
                line=request.line,
                campaign=request.campaign,
                program=request.program,
                period=month.period,
                amount_base=month.amount_base,
            )
            for month in request.months.all()
        ]
    )
    hooks.budget_changed_on_commit([request.line_id])
    status_set(request, RequestStatus.APPROVED, actor=actor_of(instance))


def request_status_callback(status):
    return status_callback(AllocationRequest, status)
