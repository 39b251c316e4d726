"""The demo organisation is whole whatever day it is seeded on (issue 19, section 1).

Seeded as if today were the first and the last day of every month over three years (a leap day among
them), and around a fiscal-year turn with the year starting in January and in July: the demo users
land on their pages, finance has a request waiting, no line-month is overspent by what the demo asked
for, the rollups agree with a rebuild, and the organisation's budget in the KPI API is budget vs actual's.
"""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from budgets.models import BUDGET_ALLOCATION, AllocationRequest, Budget, RequestStatus, Transfer
from budgets.reports.selectors import budget_vs_actual
from metrics.rollups.models import Grain, RefreshKind, RefreshRun, Rollup
from planning.fiscal import fiscal_year_of
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db


def _month_edges(first_year: int, years: int) -> list[datetime.date]:
    days = []
    for index in range(first_year * 12, (first_year + years) * 12):
        first = datetime.date(index // 12, index % 12 + 1, 1)
        following = datetime.date((index + 1) // 12, (index + 1) % 12 + 1, 1)
        days += [first, following - datetime.timedelta(days=1)]
    return days


# (today, FISCAL_YEAR_START_MONTH): every month's first and last day of 2026–2028 (2028-02-29 is one)
# with a calendar fiscal year, whose turns are 31 Dec → 1 Jan; and a July year around its turn.
CASES = [(day, 1) for day in _month_edges(2026, 3)] + [
    (datetime.date(2027, 6, 30), 7),
    (datetime.date(2027, 7, 1), 7),
    (datetime.date(2028, 2, 29), 7),
    (datetime.date(2028, 6, 30), 7),
    (datetime.date(2028, 7, 1), 7),
]
LANDINGS = {"marketer": "campaigns:home", "cmo": "metrics:cmo", "finance": "budgets:home", "opsadmin": "mops:ops-home"}


@pytest.mark.parametrize(("today", "fiscal_start"), CASES, ids=[f"{d}-fy{m}" for d, m in CASES])
def test_the_demo_is_whole_on(today, fiscal_start, settings, client):
    settings.FISCAL_YEAR_START_MONTH = fiscal_start
    moment = datetime.datetime.combine(today, datetime.time(10, 0), tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo", stdout=io.StringIO())

        # The budget is this fiscal year's, with the requests, the transfer and the PO the demo shows.
        budget = Budget.objects.get(is_current=True)
        assert budget.fiscal_year.year == fiscal_year_of(today, fiscal_start)
        statuses = list(AllocationRequest.objects.values_list("status", flat=True))
        assert statuses.count(RequestStatus.PENDING) == 1, statuses
        assert statuses.count(RequestStatus.REJECTED) == 1, statuses
        assert AllocationRequest.objects.filter(status=RequestStatus.APPROVED, amount_base__gte=50_000).exists()
        assert Transfer.objects.get().status == RequestStatus.APPROVED
        finance = get_user_model().objects.get(username="finance")
        assert my_tasks(finance, subject_type=BUDGET_ALLOCATION).count() == 1

        # No line-month of the year is overspent by what the demo itself asked and approved.
        report = budget_vs_actual(budget=budget, group_by="line")
        lines = [row for row in report.rows if isinstance(row.key, int)]
        assert lines
        for row in lines:
            for period, cell in row.months.items():
                assert cell.available >= 0, (row.label, period, cell)

        # The rollups agree with a rebuild: the demo's last step folds in the marks of everything it
        # wrote (the incremental path) and rebuilds every rollup from the facts, comparing the two.
        run = RefreshRun.objects.get(kind=RefreshKind.FULL)
        assert run.agreed is True, f"{run.differences} rollup rows differ"
        assert Rollup.objects.filter(dimension="team", grain=Grain.MONTH).exclude(budget=0).exists()

        # Each demo user lands on their page.
        for username, landing in LANDINGS.items():
            client.logout()
            response = client.post(reverse("login"), {"username": username, "password": "demo"}, follow=True)
            assert response.status_code == 200, username
            assert response.redirect_chain[-1][0] == reverse(landing), username

        # One set of books: the organisation's budget in the KPI API is budget vs actual's.
        client.force_login(get_user_model().objects.get(username="cmo"))
        answer = client.get(
            "/api/v1/kpis/", {"metrics": "budget", "group_by": "organisation", "period": f"fy{budget.fiscal_year.year}"}
        )
        assert answer.status_code == 200, answer.content
        (organisation,) = answer.json()["results"]
        assert Decimal(str(organisation["budget"])) == report.totals.total.budget
