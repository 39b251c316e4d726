"""Every write to transfers: ask to move money between (line, month) cells (one request, or a
plan's reallocations at once), which starts the "Budget transfer" workflow; the workflow's callbacks
(approval writes the two ledger entries if the source still has the money and the tree limits hold);
and finance's direct carry-forward of a month's unspent money. ``budgets.subjects`` registers the
callbacks; nothing here imports it."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from budgets import hooks, selectors
from budgets.models import BUDGET_TRANSFER, BudgetEntry, BudgetLine, EntryKind, RequestStatus, Transfer, TransferKind
from budgets.permissions import (
    can_manage_budgets,
    can_propose_reallocations,
    can_request_from,
    is_member_of_line_team,
    sees_all_budgets,
)
from budgets.services import actor_of, bound_errors, lock_budget, require_finance, status_callback, status_set
from mops.errors import Conflict
from mops.money import check_money_bound, money
from mops.services import audit, snapshot
from planning.selectors import assert_open
from workflows.services import instance_start

ZERO = Decimal("0.00")


def transfer_request_create(
    *, actor, from_line, from_period, to_line, to_period, amount, reason: str, kind=TransferKind.REALLOCATION
) -> Transfer:
    """Ask to move base-currency money from (line, month) to (line, month) and start the "Budget
    transfer" workflow. Finance may ask for any lines; a marketer only between their own teams'
    lines. Availability is checked at approval (under the budget lock), not here."""
    if not (can_manage_budgets(actor) or can_request_from(actor)):
        raise PermissionDenied("Only finance and marketers can ask to move budget.")
    if not can_manage_budgets(actor) and not (
        is_member_of_line_team(actor, from_line) and is_member_of_line_team(actor, to_line)
    ):
        raise PermissionDenied("You can move money only between lines of your own teams.")
    return _transfer_request_start(
        actor=actor,
        from_line=from_line,
        from_period=from_period,
        to_line=to_line,
        to_period=to_period,
        amount=amount,
        reason=reason,
        kind=kind,
    )


def reallocations_propose(*, actor, moves: list[dict]) -> list[Transfer]:
    """Ask for a plan's reallocations at once — e.g. an accepted scenario's (metrics): each move
    (``from_line``, ``from_period``, ``to_line``, ``to_period``, ``amount``, ``reason``) becomes a
    transfer request through the "Budget transfer" workflow, all of them or none. Finance and the
    CMO, who decides where money goes next, may propose between any lines; a marketer between their
    own teams' lines. Nothing moves until finance approves each transfer."""
    if not can_propose_reallocations(actor):
        raise PermissionDenied("Only finance, the CMO and marketers can propose moving budget.")
    if not sees_all_budgets(actor):
        foreign = [
            line.name
            for move in moves
            for line in (move["from_line"], move["to_line"])
            if not is_member_of_line_team(actor, line)
        ]
        if foreign:
            raise PermissionDenied(
                f"You can move money only between lines of your own teams, not {', '.join(sorted(set(foreign)))}."
            )
    with transaction.atomic():
        return [_transfer_request_start(actor=actor, **move) for move in moves]


def _transfer_request_start(
    *, actor, from_line, from_period, to_line, to_period, amount, reason: str, kind=TransferKind.REALLOCATION
) -> Transfer:
    """Validate, create, audit and start the workflow of one transfer; the caller checked the actor."""
    errors = {}
    if from_line.budget_id != to_line.budget_id:
        errors["to_line"] = ["Both lines must belong to the same budget version."]
    fiscal_year_id = from_line.budget.fiscal_year_id
    if from_period.fiscal_year_id != fiscal_year_id or to_period.fiscal_year_id != fiscal_year_id:
        errors["to_period"] = [f"Both months must be in {from_line.budget.fiscal_year}."]
    bound = bound_errors(amount, "The amount") if amount is not None else []
    if bound:
        errors["amount"] = bound
    elif amount is None or money(amount) <= 0:
        errors["amount"] = ["The amount must be more than zero."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the money moves."]
    if from_line.pk == to_line.pk and from_period.pk == to_period.pk:
        errors["to_period"] = ["A transfer must move money to another line or month."]
    if kind == TransferKind.CARRY_FORWARD and to_period.start_date <= from_period.start_date:
        errors["to_period"] = ["A carry-forward moves money to a later month."]
    if errors:
        raise ValidationError(errors)
    assert_open(from_period.start_date, field="from_period")
    assert_open(to_period.start_date, field="to_period")
    with transaction.atomic():
        transfer = Transfer.objects.create(
            kind=kind,
            from_line=from_line,
            from_period=from_period,
            to_line=to_line,
            to_period=to_period,
            amount=money(amount),
            reason=reason.strip(),
            team=from_line.team or to_line.team,
            requested_by=actor,
        )
        audit(
            actor=actor,
            action="transfer.create",
            obj=transfer,
            after=snapshot(transfer, ["kind", "from_line", "from_period", "to_line", "to_period", "amount"]),
        )
        instance_start(actor=actor, subject=transfer, subject_type=BUDGET_TRANSFER)
    return transfer


def _write_transfer_entries(transfer: Transfer, *, actor) -> list[BudgetEntry]:
    """The two ledger entries of a movement: out of the source cell, into the target cell."""
    kind = EntryKind.CARRY_FORWARD if transfer.kind == TransferKind.CARRY_FORWARD else EntryKind.TRANSFER
    now = timezone.now()
    note = f"Transfer #{transfer.pk}"
    hooks.budget_changed_on_commit([transfer.from_line_id, transfer.to_line_id])
    return BudgetEntry.objects.bulk_create(
        [
            BudgetEntry(
                line=transfer.from_line,
                period=transfer.from_period,
                amount=-transfer.amount,
                kind=kind,
                transfer=transfer,
                effective_at=now,
                note=note,
                created_by=actor,
            ),
            BudgetEntry(
                line=transfer.to_line,
                period=transfer.to_period,
                amount=transfer.amount,
                kind=kind,
                transfer=transfer,
                effective_at=now,
                note=note,
                created_by=actor,
            ),
        ]
    )


def _check_transfer_funds(transfer: Transfer) -> None:
    left = selectors.available(line=transfer.from_line, period=transfer.from_period)
    if transfer.amount > left:
        raise ValidationError(
            {
                "amount": [
                    f"{transfer.from_period}: {transfer.from_line} has {left} available, the transfer needs "
                    f"{transfer.amount} ({transfer.amount - left} short)."
                ]
            }
        )


def _check_transfer_tree(transfer: Transfer) -> None:
    """The hierarchy limits of ``phasing_set`` after the move: the target line's hard parent must
    still hold at least its children in the target month, and a hard source line at least its own
    sub-lines in the source month. Call under the budget lock."""
    moves = {
        (transfer.from_line_id, transfer.from_period_id): -transfer.amount,
        (transfer.to_line_id, transfer.to_period_id): transfer.amount,
    }
    if transfer.from_line_id == transfer.to_line_id and transfer.from_period_id == transfer.to_period_id:
        moves = {}

    def after(line_id, period) -> Decimal:
        return selectors.budget_cells([line_id], period_ids=[period.pk]).get((line_id, period.pk), ZERO) + moves.get(
            (line_id, period.pk), ZERO
        )

    def children_after(line_id, period) -> Decimal:
        kids = selectors.children_cells(line_id).get(period.pk, ZERO)
        child_ids = set(BudgetLine.objects.filter(parent_id=line_id).values_list("pk", flat=True))
        return kids + sum((d for (c, p), d in moves.items() if c in child_ids and p == period.pk), ZERO)

    parent = transfer.to_line.parent
    if parent is not None and not parent.is_soft:
        period = transfer.to_period
        siblings_after, parent_total = children_after(parent.pk, period), after(parent.pk, period)
        if siblings_after > parent_total:
            raise ValidationError(
                {
                    "amount": [
                        f"{period}: the lines under {parent} would add up to {siblings_after}, "
                        f"more than its {parent_total}."
                    ]
                }
            )
    source = transfer.from_line
    if not source.is_soft:
        period = transfer.from_period
        kids, remaining = children_after(source.pk, period), after(source.pk, period)
        if kids > remaining:
            raise ValidationError(
                {"amount": [f"{period}: the sub-lines of {source} already add up to {kids}, more than {remaining}."]}
            )


def transfer_approved(instance) -> None:
    """Workflow callback: write the two ledger entries, if the source still has the money.

    Runs inside the approving transaction; raising rolls the approval back with the message.
    """
    transfer = Transfer.objects.select_related("from_line", "to_line", "from_period", "to_period").get(
        pk=instance.subject_id
    )
    lock_budget(transfer.from_line.budget_id)
    if transfer.status != RequestStatus.PENDING:
        raise Conflict(f"This transfer is already {transfer.get_status_display().lower()}.")
    assert_open(transfer.from_period.start_date, field="from_period")
    assert_open(transfer.to_period.start_date, field="to_period")
    _check_transfer_funds(transfer)
    _check_transfer_tree(transfer)
    # The entries and the event name the approver whose decision moved the money.
    actor = actor_of(instance)
    _write_transfer_entries(transfer, actor=actor)
    status_set(transfer, RequestStatus.APPROVED, actor=actor)


def transfer_status_callback(status):
    return status_callback(Transfer, status)


def carry_forward(*, actor, line: BudgetLine, from_period, to_period, amount=None, note: str = "") -> Transfer:
    """Move a line's unspent money of a month to a later month of the same year. Finance only, and
    finance is the approver, so it is written at once (an approved carry-forward Transfer with its
    two CARRY_FORWARD ledger entries) rather than through the workflow. ``amount`` defaults to what
    is available in the source month at the time of the move (under the budget lock)."""
    require_finance(actor)
    fiscal_year_id = line.budget.fiscal_year_id
    if from_period.fiscal_year_id != fiscal_year_id or to_period.fiscal_year_id != fiscal_year_id:
        raise ValidationError({"to_period": [f"Both months must be in {line.budget.fiscal_year}."]})
    if to_period.start_date <= from_period.start_date:
        raise ValidationError({"to_period": ["A carry-forward moves money to a later month."]})
    if amount is not None:
        check_money_bound(amount, what="The amount", field="amount")
        if money(amount) <= 0:
            raise ValidationError({"amount": ["The amount must be more than zero."]})
    assert_open(from_period.start_date, field="from_period")
    assert_open(to_period.start_date, field="to_period")
    with transaction.atomic():
        lock_budget(line.budget_id)
        left = selectors.available(line=line, period=from_period)
        amount = left if amount is None else money(amount)
        if amount <= 0:
            raise ValidationError({"amount": [f"{from_period}: {line} has nothing left to carry forward."]})
        transfer = Transfer.objects.create(
            kind=TransferKind.CARRY_FORWARD,
            from_line=line,
            from_period=from_period,
            to_line=line,
            to_period=to_period,
            amount=amount,
            reason=note.strip() or f"Unspent {from_period} carried forward to {to_period}.",
            team=line.team,
            requested_by=actor,
            status=RequestStatus.PENDING,
        )
        _check_transfer_funds(transfer)
        _check_transfer_tree(transfer)
        _write_transfer_entries(transfer, actor=actor)
        status_set(transfer, RequestStatus.APPROVED, actor=actor)
        audit(
            actor=actor,
            action="budget.carry_forward",
            obj=line,
            before={str(from_period): str(left)},
            after={"from": str(from_period), "to": str(to_period), "amount": str(amount)},
        )
    return transfer
