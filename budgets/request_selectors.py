"""Reads for the allocation-request pages and finance's approval queue. Every figure is one
query per measure for all the lines on a page (never one per request)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from budgets import selectors
from budgets.models import Allocation, AllocationRequest, AllocationRequestMonth, Budget, RequestStatus, Transfer
from budgets.subjects import BUDGET_ALLOCATION, BUDGET_TRANSFER
from campaigns.fact_selectors import with_totals
from campaigns.models import Campaign
from planning.fiscal import fiscal_year_of
from planning.models import Period

ZERO = Decimal("0.00")


def request_budget() -> Budget | None:
    """The budget requests are made against: the current version for this fiscal year, else the latest."""
    current = Budget.objects.filter(is_current=True).select_related("fiscal_year")
    return (
        current.filter(fiscal_year__year=fiscal_year_of(timezone.localdate())).first()
        or current.order_by("-fiscal_year__year").first()
    )


def periods_of(budget: Budget) -> list[Period]:
    return list(Period.objects.filter(fiscal_year_id=budget.fiscal_year_id).order_by("start_date"))


def request_queryset(qs: QuerySet[AllocationRequest]) -> QuerySet[AllocationRequest]:
    """Requests with what their rows and pages show, in three queries whatever the count."""
    return qs.select_related("line", "line__budget", "campaign", "team", "requested_by").prefetch_related(
        Prefetch("months", queryset=AllocationRequestMonth.objects.select_related("period"))
    )


@dataclass
class Figures:
    budget: Decimal = ZERO
    allocated: Decimal = ZERO
    committed: Decimal = ZERO
    actual: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.budget - max(self.allocated, self.committed + self.actual)

    def add(self, other: "Figures") -> None:
        self.budget += other.budget
        self.allocated += other.allocated
        self.committed += other.committed
        self.actual += other.actual


def line_figures(line_ids, periods) -> dict[tuple[int, int], Figures]:
    """Own budget, allocated, committed and actual of each (line, month) — ``selectors.ledger_cells``,
    the figures the approval checks: a constant number of queries per budget of the lines."""
    from budgets.models import BudgetLine

    line_ids = set(line_ids)
    period_ids = [p.pk for p in periods]
    cells: dict[tuple[int, int], Figures] = {}
    by_budget: dict[int, list[int]] = {}
    for line, budget_id in BudgetLine.objects.filter(pk__in=line_ids).values_list("pk", "budget_id"):
        by_budget.setdefault(budget_id, []).append(line)
    for budget in Budget.objects.filter(pk__in=list(by_budget)).select_related("fiscal_year"):
        ledger = selectors.ledger_cells(budget=budget, line_ids=by_budget[budget.pk], period_ids=period_ids)
        for key, measures in ledger.items():
            cells[key] = Figures(
                budget=measures.budget,
                allocated=measures.allocated,
                committed=measures.committed,
                actual=measures.actual,
            )
    for line in line_ids:
        for period in periods:
            cells.setdefault((line, period.pk), Figures())
    return cells


def line_year_available(line_ids, periods) -> dict[int, Decimal]:
    """What each line can still promise over the given months (sum of its months' availability)."""
    cells = line_figures(line_ids, periods)
    totals: dict[int, Decimal] = {line: ZERO for line in line_ids}
    for (line, _), figures in cells.items():
        totals[line] += max(figures.available, ZERO)
    return totals


@dataclass
class QueueRow:
    task: object
    request: AllocationRequest
    months: list  # [(month, Figures of the line for that month)]
    totals: Figures
    available_after: Decimal
    campaign: Campaign | None


def approval_queue(user) -> list[QueueRow]:
    """The allocation requests whose active step waits for ``user``, with the figures the decision
    needs: the line's budget, allocated, committed and actual for the months asked, what would be
    left after this request, and the campaign's plan and results so far. Constant query count."""
    from workflows.selectors import my_tasks

    tasks = list(my_tasks(user, subject_type=BUDGET_ALLOCATION))
    ids = {int(task.instance.subject_id) for task in tasks}
    requests = {r.pk: r for r in request_queryset(AllocationRequest.objects.filter(pk__in=ids))}
    periods = {m.period.pk: m.period for r in requests.values() for m in r.months.all()}
    cells = line_figures([r.line_id for r in requests.values()], list(periods.values()))
    campaign_ids = {r.campaign_id for r in requests.values() if r.campaign_id}
    campaigns = {c.pk: c for c in with_totals(Campaign.objects.filter(pk__in=campaign_ids))}
    rows = []
    for task in tasks:
        request = requests.get(int(task.instance.subject_id))
        if request is None:
            continue
        months, totals = [], Figures()
        for month in request.months.all():
            figures = cells.get((request.line_id, month.period_id), Figures())
            months.append((month, figures))
            totals.add(figures)
        rows.append(
            QueueRow(
                task=task,
                request=request,
                months=months,
                totals=totals,
                available_after=totals.available - request.amount_base,
                campaign=campaigns.get(request.campaign_id),
            )
        )
    return rows


@dataclass
class TransferQueueRow:
    task: object
    transfer: Transfer
    available: Decimal  # what the source line can still give in the source month, before this transfer


def transfer_queue(user) -> list[TransferQueueRow]:
    """The transfer requests whose active step waits for ``user`` (decided on the task's page), with
    what each source line has available in its month. Constant query count."""
    from workflows.selectors import my_tasks

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


def campaign_allocations(campaign) -> QuerySet[Allocation]:
    return (
        Allocation.objects.filter(campaign=campaign)
        .select_related("line", "period")
        .order_by("period__start_date", "line__code")
    )


def campaign_pending_requests(campaign) -> QuerySet[AllocationRequest]:
    return AllocationRequest.objects.filter(
        campaign=campaign, status__in=[RequestStatus.PENDING, RequestStatus.RETURNED]
    ).select_related("line")
