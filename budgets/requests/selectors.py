"""Reads for the allocation-request pages, finance's approval queue and the campaign page's budget
card. Every figure is one query per measure for all the lines on a page (never one per request):
the lines' figures are ``budgets.selectors.line_figures``."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from budgets.models import BUDGET_ALLOCATION, Allocation, AllocationRequest, AllocationRequestMonth, RequestStatus
from budgets.selectors import Figures, line_figures
from campaigns.facts.selectors import with_totals
from campaigns.models import Campaign
from workflows.selectors import my_tasks


def request_queryset(qs: QuerySet[AllocationRequest]) -> QuerySet[AllocationRequest]:
    """Requests with what their rows and pages show, in three queries whatever the count."""
    return qs.select_related("line", "line__budget", "campaign", "team", "requested_by").prefetch_related(
        Prefetch("months", queryset=AllocationRequestMonth.objects.select_related("period"))
    )


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
