"""The budgets demo data: idempotent, fast, and it leaves finance a queue."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets import demo
from budgets.models import (
    BUDGET_ALLOCATION,
    Allocation,
    AllocationRequest,
    Budget,
    BudgetEntry,
    BudgetLine,
    Commitment,
    RequestStatus,
)
from campaigns import demo as campaigns_demo
from campaigns.models import SpendEntry
from mops import demo as core_demo
from planning import demo as planning_demo
from workflows import demo as workflows_demo
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def quiet(*args):
    pass


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Budget, BudgetLine, BudgetEntry, AllocationRequest, Allocation, Commitment, SpendEntry)
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch, transaction.atomic():
        patch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
        core_demo.seed(log=quiet)
        planning_demo.seed(log=quiet)
        campaigns_demo.seed(log=quiet)
        workflows_demo.seed(log=quiet)
        with CaptureQueriesContext(connection) as queries:
            first = demo.seed(log=quiet)
        counts = _counts()
        second = demo.seed(log=quiet)
        yield {"first": first, "second": second, "queries": len(queries), "counts": counts, "after": _counts()}
        transaction.set_rollback(True)


def test_seeding_twice_changes_nothing(seeded):
    assert seeded["first"] > 0
    assert seeded["second"] == 0
    assert seeded["after"] == seeded["counts"]


def test_it_is_fast(seeded):
    # Measured in queries, not seconds (a loaded machine must not fail it): 2,610 for this demo.
    assert seeded["queries"] < 4000, seeded["queries"]


def test_the_budget_has_team_lines_and_channel_sub_lines(seeded):
    budget = Budget.objects.get(is_current=True, fiscal_year__year=2026)
    assert budget.name == "FY2026 marketing"
    parents = BudgetLine.objects.filter(budget=budget, parent__isnull=True)
    assert set(parents.values_list("code", flat=True)) == set(demo.TEAM_MONTHLY)
    assert BudgetLine.objects.filter(budget=budget, parent__isnull=False).count() > 10


def test_requests_in_every_state_finance_needs(seeded):
    statuses = set(AllocationRequest.objects.values_list("status", flat=True))
    assert {RequestStatus.APPROVED, RequestStatus.PENDING, RequestStatus.REJECTED} <= statuses
    assert Allocation.objects.exists()
    finance = get_user_model().objects.get(username="finance")
    assert my_tasks(finance, subject_type=BUDGET_ALLOCATION).exists()
    # The big request went through the CMO too.
    assert AllocationRequest.objects.filter(status=RequestStatus.APPROVED, amount_base__gte=50000).exists()


def test_a_commitment_is_partly_invoiced(seeded):
    commitment = Commitment.objects.get(reference="PO-DEMO-0001")
    assert SpendEntry.objects.filter(campaign=commitment.campaign, reference=commitment.reference).exists()
    assert Commitment.objects.count() == 2


def test_the_demo_transfer_is_approved_by_two_finance_users(seeded):
    from budgets.models import EntryKind, Transfer

    transfer = Transfer.objects.get(reason=demo.TRANSFER_REASON)
    assert transfer.status == RequestStatus.APPROVED
    assert transfer.requested_by.username == "nadia"
    assert sorted(BudgetEntry.objects.filter(transfer=transfer).values_list("kind", "amount")) == [
        (EntryKind.TRANSFER, -demo.TRANSFER_AMOUNT),
        (EntryKind.TRANSFER, demo.TRANSFER_AMOUNT),
    ]
