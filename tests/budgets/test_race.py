"""Two finance users approving, at the same moment, two requests that the line can fund only one
of: the budget row lock serialises them, one is approved, the other is refused — never both."""

from decimal import Decimal

import pytest

from budgets.models import Allocation, AllocationRequest, RequestStatus
from budgets.requests import services as request_services
from tests.workflows.test_race import run_at_once
from workflows import services as workflow_services
from workflows.models import StepTask

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("needs_postgresql"),
]


def test_concurrent_approvals_never_overspend_a_line(
    allocation_template, marketer, teammate, finance, second_finance, search_line, campaign, month
):
    for who in (marketer, teammate):
        request_services.allocation_request_create(
            actor=who,
            line=search_line,
            campaign=campaign,
            months={month(1): Decimal("40000")},  # 2 × 40,000 > the line's 60,000
            currency="USD",
            justification="Q1",
        )
    first, second = StepTask.objects.filter(name="Finance approval").order_by("id")

    outcomes = run_at_once(
        lambda: workflow_services.task_act(actor=finance, task=first, action="approve"),
        lambda: workflow_services.task_act(actor=second_finance, task=second, action="approve"),
    )
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert len(failures) == 1, outcomes
    assert "available" in str(failures[0])
    assert AllocationRequest.objects.filter(status=RequestStatus.APPROVED).count() == 1
    assert AllocationRequest.objects.filter(status=RequestStatus.PENDING).count() == 1
    assert sum(Allocation.objects.values_list("amount_base", flat=True)) == Decimal("40000.00")
