"""Reads for the transfer pages and finance's approval queue: the transfer requests waiting for a
user, with what each source line has available in its month (``budgets.selectors.line_figures``)."""

from dataclasses import dataclass
from decimal import Decimal

from budgets.models import BUDGET_TRANSFER, Transfer
from budgets.selectors import Figures, line_figures
from workflows.selectors import my_tasks


@dataclass
class TransferQueueRow:
    task: object
    transfer: Transfer
    available: Decimal  # what the source line can still give in the source month, before this transfer


def transfer_queue(user) -> list[TransferQueueRow]:
    """The transfer requests whose active step waits for ``user`` (decided on the task's page), with
    what each source line has available in its month. Constant query count."""
    tasks = list(my_tasks(user, subject_type=BUDGET_TRANSFER))
    ids = {int(task.instance.subject_id) for task in tasks}
    transfers = {
        t.pk: t
        for t in Transfer.objects.filter(pk__in=ids).select_related(
            "from_line", "to_line", "from_period", "to_period", "requested_by"
        )
    }
    periods = {t.from_period_id: t.from_period for t in transfers.values()}
    cells = line_figures([t.from_line_id for t in transfers.values()], list(periods.values()))
    rows = []
    for task in tasks:
        transfer = transfers.get(int(task.instance.subject_id))
        if transfer is not None:
            figures = cells.get((transfer.from_line_id, transfer.from_period_id), Figures())
            rows.append(TransferQueueRow(task=task, transfer=transfer, available=figures.available))
    return rows
