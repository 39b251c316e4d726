"""Every write to budgets: validate, lock, write, audit — in one transaction. Budgets are never
edited in place: phasing, transfers and carry-forwards append signed ledger entries."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from budgets import hooks, selectors
from budgets.models import (
    AllocationRequest,
    AllocationRequestMonth,
    Budget,
    BudgetEntry,
    BudgetKind,
    BudgetLine,
    Commitment,
    CommitmentStatus,
    EntryKind,
    RequestStatus,
    Transfer,
    TransferKind,
)
from budgets.permissions import (
    can_manage_budgets,
    can_propose_reallocations,
    can_request_from,
    is_member_of_line_team,
    sees_all_budgets,
)
from campaigns.permissions import can_edit_campaign
from mops.errors import Conflict
from mops.money import check_money_bound, money
from mops.selectors import FxRateMissing, fx_rate_on
from mops.services import audit, snapshot
from planning.selectors import assert_open

ZERO = Decimal("0.00")


def _require_finance(actor):
    if not can_manage_budgets(actor):
        raise PermissionDenied("Only finance can change budgets.")


def _rate(currency: str, on, field_name: str) -> Decimal:
    try:
        return fx_rate_on(currency, on)
    except FxRateMissing as exc:
        raise ValidationError({field_name: [str(exc)]}) from None


def _bound_errors(amount, what: str) -> list[str]:
    """The money bound's message for ``amount`` (it names the limit), or nothing."""
    try:
        check_money_bound(amount, what=what)
    except ValidationError as error:
        return error.messages
    return []


def _lock_budget(budget_id) -> Budget:
    # Every movement of a budget's money takes this row lock first: hierarchy limits and
    # availability are checked against a ledger nobody else is changing at the same moment.
    return Budget.objects.select_for_update().get(pk=budget_id)


# --- envelopes and lines --------------------------------------------------------------------


def budget_create(*, actor, fiscal_year, name: str, target=ZERO, kind=BudgetKind.APPROVED) -> Budget:
    """A new version of the year's budget; it becomes the current one (earlier versions stay)."""
    _require_finance(actor)
    check_money_bound(target, what="The target", field="target")
    with transaction.atomic():
        version = (Budget.objects.filter(fiscal_year=fiscal_year).aggregate(v=Max("version"))["v"] or 0) + 1
        Budget.objects.filter(fiscal_year=fiscal_year, is_current=True).update(is_current=False)
        budget = Budget(fiscal_year=fiscal_year, name=name.strip(), target=target, kind=kind, version=version)
        budget.created_by = actor
        budget.full_clean()
        budget.save()
        audit(
            actor=actor,
            action="budget.create",
            obj=budget,
            after=snapshot(budget, ["name", "version", "kind", "target"]),
        )
    return budget


def line_create(*, actor, budget: Budget, name: str, code: str = "", parent=None, **dimensions) -> BudgetLine:
    """A line of the tree; ``dimensions`` are team, channel, program and is_soft."""
    _require_finance(actor)
    if parent is not None and parent.budget_id != budget.pk:
        raise ValidationError({"parent": ["The parent line belongs to another budget."]})
    line = BudgetLine(budget=budget, parent=parent, name=name.strip(), code=code or slugify(name)[:60], **dimensions)
    line.full_clean()
    with transaction.atomic():
        line.save()
        audit(actor=actor, action="budgetline.create", obj=line, after=snapshot(line))
    return line


@dataclass
class PhasingResult:
    entries: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def phasing_set(*, actor, line: BudgetLine, amounts: dict, note: str = "") -> PhasingResult:
    """Set the line's budget for each month given. Writes one ledger entry per changed month (the
    difference), so the budget before this change can still be reconstructed.

    Refused: a closed month, a negative amount, a month outside the budget's year, children adding
    up to more than a hard parent. A soft parent only warns.
    """
    _require_finance(actor)
    errors = []  # every problem of the request at once, not the first one
    for period, amount in sorted(amounts.items(), key=lambda item: item[0].start_date):
        if period.fiscal_year_id != line.budget.fiscal_year_id:
            errors.append(f"{period} is not in {line.budget.fiscal_year}.")
        if period.is_closed:
            errors.append(f"{period} is closed by finance: its budget cannot change.")
        if amount is None or amount < 0:
            errors.append(f"{period}: the amount must be zero or more.")
        else:
            errors += _bound_errors(amount, f"{period}: the amount")
    if errors:
        raise ValidationError({"amounts": errors})
    for period in amounts:
        assert_open(period.start_date, field="amounts")  # closed meanwhile (the flag above was read earlier)
    result = PhasingResult()
    with transaction.atomic():
        _lock_budget(line.budget_id)
        current = selectors.budget_cells([line.pk])
        now = timezone.now()
        changes = {p: money(a) - current.get((line.pk, p.pk), ZERO) for p, a in amounts.items()}
        changes = {p: delta for p, delta in changes.items() if delta}
        # Hierarchy: this line against its parent, and its own children against it.
        parent_cells = selectors.budget_cells([line.parent_id]) if line.parent_id else {}
        siblings = selectors.children_cells(line.parent_id) if line.parent_id else {}
        own_children = selectors.children_cells(line.pk)
        for period, amount in amounts.items():
            amount = money(amount)
            kids = own_children.get(period.pk, ZERO)
            if kids > amount:
                message = f"{period}: the sub-lines of {line} already add up to {kids}, more than {amount}."
                if not line.is_soft:
                    raise ValidationError({"amounts": [message]})
                result.warnings.append(message)
            if line.parent_id:
                parent_total = parent_cells.get((line.parent_id, period.pk), ZERO)
                siblings_after = siblings.get(period.pk, ZERO) + changes.get(period, ZERO)
                if siblings_after > parent_total:
                    message = (
                        f"{period}: the lines under {line.parent} would add up to {siblings_after}, "
                        f"more than its {parent_total}."
                    )
                    if not line.parent.is_soft:
                        raise ValidationError({"amounts": [message]})
                    result.warnings.append(message)
        for period, delta in changes.items():
            result.entries.append(
                BudgetEntry.objects.create(
                    line=line,
                    period=period,
                    amount=delta,
                    kind=EntryKind.PHASING,
                    effective_at=now,
                    note=note,
                    created_by=actor,
                )
            )
        audit(
            actor=actor,
            action="budget.phasing",
            obj=line,
            before={str(p): current.get((line.pk, p.pk), ZERO) for p in changes},
            after={str(p): money(amounts[p]) for p in changes},
        )
    return result


# --- allocation requests --------------------------------------------------------------------


def allocation_request_create(
    *, actor, line: BudgetLine, months: dict, currency: str, justification: str, campaign=None, program=None
) -> AllocationRequest:
    """Ask for money from ``line`` for a campaign (or program), by month, and start its workflow."""
    from budgets.subjects import BUDGET_ALLOCATION
    from workflows.services import instance_start

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
        errors += _bound_errors(amount, f"{period}: the amount")
    if not errors:
        errors += _bound_errors(sum(months.values()), "The request's total")
    if errors:
        raise ValidationError({"months": errors})
    for period in months:
        assert_open(period.start_date, field="months")
    today = timezone.localdate()
    rate = _rate(currency, today, "currency")
    team = campaign.team if campaign is not None else line.team
    if team is None:
        raise ValidationError({"line": ["This line has no team; ask for money for a campaign instead."]})
    base_errors = [
        message
        for period, amount in months.items()
        for message in _bound_errors(money(amount * rate), f"{period}: the amount in {settings.BASE_CURRENCY}")
    ]
    if not base_errors:
        base_errors = _bound_errors(sum(money(a * rate) for a in months.values()), "The request's total")
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
    from budgets.models import Allocation

    request = AllocationRequest.objects.select_related("line").get(pk=instance.subject_id)
    _lock_budget(request.line.budget_id)
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
    _set_request_status(request, RequestStatus.APPROVED, actor=_actor_of(instance))


def _actor_of(instance):
    """The user whose workflow action fired a callback (``workflows.registry.fire``)."""
    return getattr(instance, "actor", None)


def _set_request_status(request, status, *, actor=None) -> None:
    updated = AllocationRequest.objects.filter(pk=request.pk, status=request.status).update(
        status=status, decided_at=timezone.now() if status != RequestStatus.PENDING else None
    )
    if not updated:
        raise Conflict("The request changed meanwhile.")
    audit(
        actor=actor,
        action=f"allocation_request.{status}",
        obj=request,
        before={"status": request.status},
        after={"status": status},
    )
    request.status = status


def request_status_callback(status):
    def callback(instance):
        request = AllocationRequest.objects.get(pk=instance.subject_id)
        if request.status != status:
            _set_request_status(request, status, actor=_actor_of(instance))

    return callback


# --- commitments ----------------------------------------------------------------------------


def commitment_create(*, actor, line, vendor, reference, amount, currency, period, campaign=None) -> Commitment:
    """Record a purchase order against a line (and campaign): it holds money until invoiced."""
    _require_finance(actor)
    check_money_bound(amount, what="The amount", field="amount")
    assert_open(period.start_date, field="period")
    rate = _rate(currency, timezone.localdate(), "currency")
    check_money_bound(money(amount * rate), what=f"The amount in {settings.BASE_CURRENCY}", field="amount")
    commitment = Commitment(
        line=line,
        campaign=campaign,
        vendor=vendor.strip(),
        reference=reference.strip(),
        amount=money(amount),
        currency=currency,
        amount_base=money(amount * rate),
        fx_rate=rate,
        period=period,
        created_by=actor,
    )
    commitment.full_clean()
    with transaction.atomic():
        commitment.save()
        audit(
            actor=actor,
            action="commitment.create",
            obj=commitment,
            after=snapshot(commitment, ["vendor", "reference", "amount", "currency", "amount_base"]),
        )
    return commitment


def commitment_close(*, actor, commitment: Commitment) -> Commitment:
    """Release what is left of a commitment (the order is complete or cancelled)."""
    _require_finance(actor)
    with transaction.atomic():
        updated = Commitment.objects.filter(pk=commitment.pk, status=CommitmentStatus.OPEN).update(
            status=CommitmentStatus.CLOSED, closed_at=timezone.now()
        )
        if not updated:
            raise Conflict("This commitment is already closed.")
        hooks.budget_changed_on_commit([commitment.line_id])
        audit(
            actor=actor,
            action="commitment.close",
            obj=commitment,
            before={"status": "open"},
            after={"status": "closed"},
        )
        commitment.status = CommitmentStatus.CLOSED
    return commitment


# --- transfers and carry-forward ------------------------------------------------------------


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
    from budgets.subjects import BUDGET_TRANSFER
    from workflows.services import instance_start

    errors = {}
    if from_line.budget_id != to_line.budget_id:
        errors["to_line"] = ["Both lines must belong to the same budget version."]
    fiscal_year_id = from_line.budget.fiscal_year_id
    if from_period.fiscal_year_id != fiscal_year_id or to_period.fiscal_year_id != fiscal_year_id:
        errors["to_period"] = [f"Both months must be in {from_line.budget.fiscal_year}."]
    bound = _bound_errors(amount, "The amount") if amount is not None else []
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
    _lock_budget(transfer.from_line.budget_id)
    if transfer.status != RequestStatus.PENDING:
        raise Conflict(f"This transfer is already {transfer.get_status_display().lower()}.")
    assert_open(transfer.from_period.start_date, field="from_period")
    assert_open(transfer.to_period.start_date, field="to_period")
    _check_transfer_funds(transfer)
    _check_transfer_tree(transfer)
    # The entries and the event name the approver whose decision moved the money.
    actor = _actor_of(instance)
    _write_transfer_entries(transfer, actor=actor)
    _set_transfer_status(transfer, RequestStatus.APPROVED, actor=actor)


def _set_transfer_status(transfer, status, *, actor=None) -> None:
    updated = Transfer.objects.filter(pk=transfer.pk, status=transfer.status).update(
        status=status, decided_at=timezone.now() if status != RequestStatus.PENDING else None
    )
    if not updated:
        raise Conflict("The transfer changed meanwhile.")
    audit(
        actor=actor,
        action=f"transfer.{status}",
        obj=transfer,
        before={"status": transfer.status},
        after={"status": status},
    )
    transfer.status = status


def transfer_status_callback(status):
    def callback(instance):
        transfer = Transfer.objects.get(pk=instance.subject_id)
        if transfer.status != status:
            _set_transfer_status(transfer, status, actor=_actor_of(instance))

    return callback


def carry_forward(*, actor, line: BudgetLine, from_period, to_period, amount=None, note: str = "") -> Transfer:
    """Move a line's unspent money of a month to a later month of the same year. Finance only, and
    finance is the approver, so it is written at once (an approved carry-forward Transfer with its
    two CARRY_FORWARD ledger entries) rather than through the workflow. ``amount`` defaults to what
    is available in the source month at the time of the move (under the budget lock)."""
    _require_finance(actor)
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
        _lock_budget(line.budget_id)
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
        _set_transfer_status(transfer, RequestStatus.APPROVED, actor=actor)
        audit(
            actor=actor,
            action="budget.carry_forward",
            obj=line,
            before={str(from_period): str(left)},
            after={"from": str(from_period), "to": str(to_period), "amount": str(amount)},
        )
    return transfer
