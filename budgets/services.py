"""Every write to the budgets ledger: envelopes, lines, phasing and commitments — validate, lock,
write, audit, in one transaction. Budgets are never edited in place: phasing, transfers and
carry-forwards append signed ledger entries.

The guards every movement of money shares (``require_finance``, ``lock_budget``, ``bound_errors``,
``fx_rate_for``, ``actor_of``) and the status moves of a request or a transfer (``status_set``,
``status_callback``) live here too; the request and transfer services (``budgets.requests.services``,
``budgets.transfers.services``) build on them and on ``budgets.selectors``. Nothing here imports
those subsystems."""

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
    Budget,
    BudgetEntry,
    BudgetKind,
    BudgetLine,
    Commitment,
    CommitmentStatus,
    EntryKind,
    RequestStatus,
    Transfer,
)
from budgets.permissions import can_manage_budgets
from mops.errors import Conflict
from mops.money import check_money_bound, money
from mops.selectors import FxRateMissing, fx_rate_on
from mops.services import audit, snapshot
from planning.selectors import assert_open

ZERO = Decimal("0.00")


def require_finance(actor):
    if not can_manage_budgets(actor):
        raise PermissionDenied("Only finance can change budgets.")


def fx_rate_for(currency: str, on, field_name: str) -> Decimal:
    """The rate of ``currency`` on ``on``; a missing rate is a form error on ``field_name``."""
    try:
        return fx_rate_on(currency, on)
    except FxRateMissing as exc:
        raise ValidationError({field_name: [str(exc)]}) from None


def bound_errors(amount, what: str) -> list[str]:
    """The money bound's message for ``amount`` (it names the limit), or nothing."""
    try:
        check_money_bound(amount, what=what)
    except ValidationError as error:
        return error.messages
    return []


def lock_budget(budget_id) -> Budget:
    # Every movement of a budget's money takes this row lock first: hierarchy limits and
    # availability are checked against a ledger nobody else is changing at the same moment.
    return Budget.objects.select_for_update().get(pk=budget_id)


def actor_of(instance):
    """The user whose workflow action fired a callback (``workflows.registry.fire``)."""
    return getattr(instance, "actor", None)


_STATUS_AUDIT = {AllocationRequest: ("allocation_request", "request"), Transfer: ("transfer", "transfer")}


def status_set(subject, status, *, actor=None) -> None:
    """Move an allocation request or a transfer to ``status``: a conditional UPDATE from the status it
    was read with (no row updated means someone acted first: ``Conflict``), audited."""
    action, noun = _STATUS_AUDIT[type(subject)]
    updated = (
        type(subject)
        .objects.filter(pk=subject.pk, status=subject.status)
        .update(status=status, decided_at=timezone.now() if status != RequestStatus.PENDING else None)
    )
    if not updated:
        raise Conflict(f"The {noun} changed meanwhile.")
    before = {"status": subject.status}
    audit(actor=actor, action=f"{action}.{status}", obj=subject, before=before, after={"status": status})
    subject.status = status


def status_callback(model, status):
    """A workflow callback moving the instance's subject (a ``model`` row) to ``status`` unless it is there."""

    def callback(instance):
        subject = model.objects.get(pk=instance.subject_id)
        if subject.status != status:
            status_set(subject, status, actor=actor_of(instance))

    return callback


# --- envelopes and lines --------------------------------------------------------------------


def budget_create(*, actor, fiscal_year, name: str, target=ZERO, kind=BudgetKind.APPROVED) -> Budget:
    """A new version of the year's budget; it becomes the current one (earlier versions stay)."""
    require_finance(actor)
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
    require_finance(actor)
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
    require_finance(actor)
    errors = []  # every problem of the request at once, not the first one
    for period, amount in sorted(amounts.items(), key=lambda item: item[0].start_date):
        if period.fiscal_year_id != line.budget.fiscal_year_id:
            errors.append(f"{period} is not in {line.budget.fiscal_year}.")
        if period.is_closed:
            errors.append(f"{period} is closed by finance: its budget cannot change.")
        if amount is None or amount < 0:
            errors.append(f"{period}: the amount must be zero or more.")
        else:
            errors += bound_errors(amount, f"{period}: the amount")
    if errors:
        raise ValidationError({"amounts": errors})
    for period in amounts:
        assert_open(period.start_date, field="amounts")  # closed meanwhile (the flag above was read earlier)
    result = PhasingResult()
    with transaction.atomic():
        lock_budget(line.budget_id)
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


# --- commitments ----------------------------------------------------------------------------


def commitment_create(*, actor, line, vendor, reference, amount, currency, period, campaign=None) -> Commitment:
    """Record a purchase order against a line (and campaign): it holds money until invoiced."""
    require_finance(actor)
    check_money_bound(amount, what="The amount", field="amount")
    assert_open(period.start_date, field="period")
    rate = fx_rate_for(currency, timezone.localdate(), "currency")
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
    require_finance(actor)
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
