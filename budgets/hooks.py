"""What budgets tells the apps above it (metrics) without importing them: a signal sent after commit
when bulk writes (approved allocations, transfer entries, closed commitments) move the budget,
allocated or committed amounts of budget lines. Single-row saves are visible as model signals."""

from django.db import transaction
from django.dispatch import Signal

# sender=None; kwargs: line_ids (set[int])
budget_changed = Signal()


def budget_changed_on_commit(line_ids) -> None:
    ids = set(line_ids)
    if ids:
        transaction.on_commit(lambda: budget_changed.send(sender=None, line_ids=ids))
