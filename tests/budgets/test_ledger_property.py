"""A property test over random ledgers (issue 19, 3b): whatever the allocations, transfers,
commitments, invoices and spend — on a tree three levels deep with soft and hard parents, on
funded and unfunded campaigns — the availability approvals check (``selectors.available`` and the
transfer check) is budget vs actual's available for every line-month, and budget vs actual's actual
total is the facts' sum.

The rows are written straight to the tables (bulk, no signals): the property is about the reads.
Each example runs in a savepoint rolled back at its end, on the one database fixture."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgets import selectors
from budgets.models import (
    Allocation,
    AllocationRequest,
    BudgetEntry,
    BudgetLine,
    Commitment,
    EntryKind,
    Transfer,
)
from budgets.reports import selectors as report_selectors
from budgets.transfers import services as transfer_services
from campaigns.models import SpendEntry
from planning.models import Period
from tests.factories import CampaignFactory, TeamFactory

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0.00")
MONTHS = (1, 2, 3, 4)
# The tree: (code, parent code, soft). Three levels under "emea", a flat "apac".
TREE = (
    ("emea", None, True),
    ("emea-field", "emea", False),
    ("emea-partner", "emea-field", False),
    ("apac", None, False),
)

cents = st.integers(min_value=1, max_value=5_000_000).map(lambda c: D(c) / 100)
line_index = st.integers(min_value=0, max_value=len(TREE) - 1)
month = st.sampled_from(MONTHS)
campaign_index = st.integers(min_value=0, max_value=3)  # campaigns 0-2 may be funded, 3 never is
ledgers = st.fixed_dictionaries(
    {
        "phasing": st.lists(st.tuples(line_index, month, cents), max_size=10),
        "transfers": st.lists(st.tuples(line_index, month, line_index, month, cents), max_size=4),
        "allocations": st.lists(st.tuples(line_index, st.integers(min_value=0, max_value=2), month, cents), max_size=6),
        "commitments": st.lists(st.tuples(line_index, st.integers(min_value=0, max_value=2), month, cents), max_size=3),
        "spend": st.lists(
            st.tuples(campaign_index, month, st.integers(min_value=1, max_value=28), cents, st.booleans()),
            max_size=10,
        ),
    }
)


@pytest.fixture
def cast(finance, budget, marketer):
    """The tree (each line its own team, so budget vs actual by team shows line-months as they are),
    four campaigns and the months."""
    lines = {}
    for code, parent, soft in TREE:
        lines[code] = BudgetLine.objects.create(
            budget=budget,
            name=code.upper(),
            code=code,
            parent=lines.get(parent),
            is_soft=soft,
            team=TeamFactory(name=f"Team {code}", slug=code),
        )
    team = lines["emea"].team
    campaigns = [CampaignFactory(code=f"c{i}", team=team, owner=marketer) for i in range(4)]
    periods = {m: Period.objects.get(start_date=datetime.date(2026, m, 1)) for m in MONTHS}
    return {"lines": [lines[code] for code, _, _ in TREE], "campaigns": campaigns, "periods": periods}


def _write(ledger, cast, actor):
    lines, campaigns, periods = cast["lines"], cast["campaigns"], cast["periods"]
    now = timezone.now()
    entries = [
        BudgetEntry(line=lines[i], period=periods[m], amount=a, kind=EntryKind.PHASING, effective_at=now)
        for i, m, a in ledger["phasing"]
    ]
    for i, m, j, n, amount in ledger["transfers"]:
        if (i, m) == (j, n):
            continue
        transfer = Transfer.objects.create(
            from_line=lines[i],
            from_period=periods[m],
            to_line=lines[j],
            to_period=periods[n],
            amount=amount,
            reason="Random",
            requested_by=actor,
            status="approved",
        )
        for line, period, signed in ((lines[i], periods[m], -amount), (lines[j], periods[n], amount)):
            entries.append(
                BudgetEntry(
                    line=line,
                    period=period,
                    amount=signed,
                    kind=EntryKind.TRANSFER,
                    transfer=transfer,
                    effective_at=now,
                )
            )
    BudgetEntry.objects.bulk_create(entries)
    allocations = []
    for number, (i, c, m, amount) in enumerate(ledger["allocations"]):
        request = AllocationRequest.objects.create(
            line=lines[i],
            campaign=campaigns[c],
            team=campaigns[c].team,
            requested_by=actor,
            justification=f"Random {number}",
            currency="USD",
            amount=amount,
            amount_base=amount,
            fx_rate=D(1),
            status="approved",
        )
        allocations.append(
            Allocation(request=request, line=lines[i], campaign=campaigns[c], period=periods[m], amount_base=amount)
        )
    Allocation.objects.bulk_create(allocations)
    Commitment.objects.bulk_create(
        [
            Commitment(
                line=lines[i],
                campaign=campaigns[c],
                period=periods[m],
                vendor="Vendor",
                reference=f"PO-{number}",
                currency="USD",
                amount=amount,
                amount_base=amount,
                fx_rate=D(1),
            )
            for number, (i, c, m, amount) in enumerate(ledger["commitments"])
        ]
    )
    references = {(c, f"PO-{n}") for n, (_, c, _, _) in enumerate(ledger["commitments"])}
    SpendEntry.objects.bulk_create(
        [
            SpendEntry(
                campaign=campaigns[c],
                date=datetime.date(2026, m, day),
                amount=amount,
                currency="USD",
                amount_base=amount,
                # An invoice quotes a PO of its campaign when it has one.
                reference=next((ref for cc, ref in sorted(references) if cc == c), "") if invoice else "",
            )
            for c, m, day, amount, invoice in ledger["spend"]
        ]
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=ledgers)
def test_approvals_and_budget_vs_actual_read_the_same_ledger(cast, budget, finance, ledger):
    with transaction.atomic():
        _write(ledger, cast, finance)
        report = report_selectors.budget_vs_actual(budget=budget, group_by="team")
        rows = {r.key: r for r in report.rows}
        cells = selectors.ledger_cells(budget=budget)
        for line in cast["lines"]:
            for period in budget.fiscal_year.periods.all():
                shown = rows[line.team_id].months[period.pk].available
                assert cells[(line.pk, period.pk)].available == shown
                if period.start_date.month in MONTHS:
                    assert selectors.available(line=line, period=period) == shown
        # The transfer check refuses a cent more than budget vs actual shows, and lets exactly it go.
        line, period = cast["lines"][1], cast["periods"][MONTHS[0]]
        left = rows[line.team_id].months[period.pk].available
        probe = Transfer(from_line=line, from_period=period, to_line=cast["lines"][3], to_period=period)
        probe.amount = max(left, ZERO) + D("0.01")
        with pytest.raises(ValidationError):
            transfer_services._check_transfer_funds(probe)
        if left > 0:
            probe.amount = left
            transfer_services._check_transfer_funds(probe)
        # Every dollar spent in the year is in budget vs actual, on a line or outside any.
        facts = sum((amount for _, _, _, amount, _ in ledger["spend"]), ZERO)
        assert report.totals.total.actual == facts
        assert sum((r.total.actual for r in report.rows), ZERO) == facts
        transaction.set_rollback(True)
