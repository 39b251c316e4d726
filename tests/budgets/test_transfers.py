"""Transfers through the "Budget transfer" workflow, and finance's direct carry-forward."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from budgets import selectors, services
from budgets.models import BudgetEntry, EntryKind, RequestStatus, Transfer, TransferKind
from budgets.transfers import services as transfer_services
from mops.models import AuditEvent
from mops.roles import Role
from planning import services as planning_services
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def transfer_template(ops_admin):
    return workflow_services.template_create(
        actor=ops_admin,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
    )


@pytest.fixture
def events_line(finance, budget, team, month):
    line = services.line_create(actor=finance, budget=budget, name="NA events", team=team)
    services.phasing_set(actor=finance, line=line, amounts={month(m): D("20000") for m in range(1, 13)})
    return line


@pytest.fixture
def emea_line(finance, budget, other_team, month):
    line = services.line_create(actor=finance, budget=budget, name="EMEA", team=other_team)
    services.phasing_set(actor=finance, line=line, amounts={month(m): D("50000") for m in range(1, 13)})
    return line


def _move(actor, from_line, to_line, month, amount="5000", from_month=3, to_month=3, **kwargs):
    return transfer_services.transfer_request_create(
        actor=actor,
        from_line=from_line,
        from_period=month(from_month),
        to_line=to_line,
        to_period=month(to_month),
        amount=D(amount),
        reason=kwargs.pop("reason", "Move to events"),
        **kwargs,
    )


def _approve(finance):
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="approve")


def test_an_approved_transfer_writes_two_entries_and_the_budget_at_any_date_is_rebuilt(
    transfer_template, marketer, finance, team_line, events_line, month
):
    march_na, march_events = (team_line.pk, month(3).pk), (events_line.pk, month(3).pk)
    transfer = _move(marketer, team_line, events_line, month, "15000")
    assert transfer.status == RequestStatus.PENDING
    assert not BudgetEntry.objects.filter(transfer=transfer).exists()  # nothing moves before approval
    before = timezone.now()
    _approve(finance)
    after = timezone.now()
    transfer.refresh_from_db()
    assert transfer.status == RequestStatus.APPROVED
    assert sorted(BudgetEntry.objects.filter(transfer=transfer).values_list("kind", "amount")) == [
        (EntryKind.TRANSFER, D("-15000.00")),
        (EntryKind.TRANSFER, D("15000.00")),
    ]
    # The ledger answers "what was the budget then?" on both sides of the move.
    cells_before = selectors.budget_cells([team_line.pk, events_line.pk], at=before)
    cells_after = selectors.budget_cells([team_line.pk, events_line.pk], at=after)
    assert (cells_before[march_na], cells_before[march_events]) == (D("100000.00"), D("20000.00"))
    assert (cells_after[march_na], cells_after[march_events]) == (D("85000.00"), D("35000.00"))
    assert AuditEvent.objects.filter(action="transfer.approved", object_id=str(transfer.pk)).exists()


def test_approval_is_refused_and_rolled_back_when_the_source_lacks_the_money(
    transfer_template, marketer, finance, team_line, search_line, events_line, month
):
    # NA has 100,000 in March and has passed 60,000 of it down to its sub-line: it keeps 40,000 of
    # its own (ledger_cells' rule). Ask for a cent more than that.
    _move(marketer, team_line, events_line, month, "40000.01")
    with pytest.raises(ValidationError, match=re.escape("has 40000.00 available, the transfer needs 40000.01")):
        _approve(finance)
    transfer = Transfer.objects.get()
    assert transfer.status == RequestStatus.PENDING
    assert not BudgetEntry.objects.filter(transfer=transfer).exists()
    assert my_tasks(finance).get().instance.subject_id == str(transfer.pk)  # still waiting


def test_rejection_sets_the_status_and_moves_nothing(
    transfer_template, marketer, finance, team_line, events_line, month
):
    transfer = _move(marketer, team_line, events_line, month)
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="reject", comment="No")
    transfer.refresh_from_db()
    assert transfer.status == RequestStatus.REJECTED
    assert not BudgetEntry.objects.filter(transfer=transfer).exists()


def test_marketers_move_money_only_between_their_own_teams_lines(
    transfer_template, marketer, outsider, team_line, events_line, emea_line, month
):
    with pytest.raises(PermissionDenied):
        _move(marketer, team_line, emea_line, month)
    with pytest.raises(PermissionDenied):
        _move(outsider, team_line, events_line, month)


@pytest.mark.parametrize("who", ["cmo", "ops_admin"])
def test_only_finance_and_marketers_ask_for_transfers(request, who, transfer_template, team_line, events_line, month):
    with pytest.raises(PermissionDenied):
        _move(request.getfixturevalue(who), team_line, events_line, month)


def test_finance_moves_between_any_lines(transfer_template, finance, second_finance, team_line, emea_line, month):
    transfer = _move(finance, emea_line, team_line, month, "1000")
    _approve(second_finance)  # separation of duties: not the requester
    transfer.refresh_from_db()
    assert transfer.status == RequestStatus.APPROVED


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [("0", "x", "more than zero"), ("-5", "x", "more than zero"), ("10", "  ", "Say why")],
)
def test_amount_and_reason_are_required(
    transfer_template, finance, team_line, events_line, month, amount, reason, message
):
    with pytest.raises(ValidationError, match=message):
        _move(finance, team_line, events_line, month, amount, reason=reason)


def test_lines_of_another_budget_version_are_refused(transfer_template, finance, year, team_line, month):
    other = services.budget_create(actor=finance, fiscal_year=year, name="Reforecast", kind="reforecast")
    line = services.line_create(actor=finance, budget=other, name="Elsewhere")
    with pytest.raises(ValidationError, match="same budget version"):
        _move(finance, team_line, line, month)


def test_a_closed_month_refuses_transfers(transfer_template, finance, team_line, events_line, month):
    planning_services.period_close(actor=finance, period=month(1))
    with pytest.raises(ValidationError, match="Jan 2026 is closed by finance"):
        _move(finance, team_line, events_line, month, from_month=1, to_month=2)
    with pytest.raises(ValidationError, match="Jan 2026 is closed by finance"):
        _move(finance, team_line, events_line, month, from_month=2, to_month=1)


def test_a_month_closed_before_approval_refuses_the_approval(
    transfer_template, marketer, finance, team_line, events_line, month
):
    _move(marketer, team_line, events_line, month, from_month=2, to_month=2)
    planning_services.period_close(actor=finance, period=month(2))
    with pytest.raises(ValidationError, match="Feb 2026 is closed"):
        _approve(finance)
    assert Transfer.objects.get().status == RequestStatus.PENDING


def test_carry_forward_moves_what_is_unspent_by_default(finance, team_line, month, campaign, marketer):
    services.commitment_create(
        actor=finance,
        line=team_line,
        campaign=campaign,
        vendor="Agency",
        reference="PO-1",
        amount=D("30000"),
        currency="USD",
        period=month(4),
    )
    before = timezone.now()
    transfer = transfer_services.carry_forward(actor=finance, line=team_line, from_period=month(4), to_period=month(6))
    assert (transfer.kind, transfer.status, transfer.amount) == (
        TransferKind.CARRY_FORWARD,
        RequestStatus.APPROVED,
        D("70000.00"),
    )
    cells = selectors.budget_cells([team_line.pk])
    assert (cells[(team_line.pk, month(4).pk)], cells[(team_line.pk, month(6).pk)]) == (
        D("30000.00"),
        D("170000.00"),
    )
    assert selectors.budget_cells([team_line.pk], at=before)[(team_line.pk, month(6).pk)] == D("100000.00")
    assert set(BudgetEntry.objects.filter(transfer=transfer).values_list("kind", flat=True)) == {
        EntryKind.CARRY_FORWARD
    }
    assert AuditEvent.objects.filter(action="budget.carry_forward", actor=finance).exists()


def test_carry_forward_rules(finance, marketer, team_line, month):
    with pytest.raises(PermissionDenied):
        transfer_services.carry_forward(actor=marketer, line=team_line, from_period=month(4), to_period=month(6))
    with pytest.raises(ValidationError, match="later month"):
        transfer_services.carry_forward(actor=finance, line=team_line, from_period=month(6), to_period=month(4))
    with pytest.raises(ValidationError, match="available"):
        transfer_services.carry_forward(
            actor=finance, line=team_line, from_period=month(4), to_period=month(6), amount=D("1e6")
        )
    planning_services.period_close(actor=finance, period=month(4))
    with pytest.raises(ValidationError, match="Apr 2026 is closed"):
        transfer_services.carry_forward(actor=finance, line=team_line, from_period=month(4), to_period=month(6))
    assert not Transfer.objects.exists()


def test_carry_forward_of_an_exhausted_month_is_refused(finance, team_line, month):
    transfer_services.carry_forward(actor=finance, line=team_line, from_period=month(5), to_period=month(7))
    with pytest.raises(ValidationError, match="nothing left"):
        transfer_services.carry_forward(actor=finance, line=team_line, from_period=month(5), to_period=month(7))


def test_budget_at_a_date_before_the_year_started_is_empty(team_line, month):
    early = timezone.make_aware(datetime.datetime(2000, 1, 1))
    assert selectors.budget_cells([team_line.pk], at=early) == {}


# --- tree limits (the rules of phasing_set) -------------------------------------------------


def test_approval_is_refused_when_the_target_would_overfill_its_hard_parent(
    transfer_template, marketer, finance, team_line, search_line, events_line, month
):
    services.phasing_set(actor=finance, line=team_line, amounts={month(3): D("70000")})
    _move(marketer, events_line, search_line, month, "15000")
    with pytest.raises(
        ValidationError, match=re.escape("Mar 2026: the lines under North America would add up to 75000.00")
    ):
        _approve(finance)
    transfer = Transfer.objects.get()
    assert transfer.status == RequestStatus.PENDING
    assert not BudgetEntry.objects.filter(transfer=transfer).exists()


def test_a_parent_cannot_move_money_it_passed_down_to_its_sub_lines(
    transfer_template, marketer, finance, team_line, search_line, events_line, month
):
    _move(marketer, team_line, events_line, month, "50000")
    with pytest.raises(ValidationError, match=re.escape("Mar 2026: North America has 40000.00 available")):
        _approve(finance)
    assert Transfer.objects.get().status == RequestStatus.PENDING
    # A soft parent too: its sub-lines' money is theirs.
    team_line.is_soft = True
    team_line.save(update_fields=["is_soft"])
    with pytest.raises(ValidationError, match=re.escape("Mar 2026: North America has 40000.00 available")):
        _approve(finance)


def test_moving_money_from_a_parent_to_its_own_sub_line_is_checked_after_the_move(
    transfer_template, marketer, finance, team_line, search_line, month
):
    # The parent's budget includes its sub-lines': 80,000 under 80,000 fits exactly.
    _move(marketer, team_line, search_line, month, "20000")
    _approve(finance)
    assert Transfer.objects.get().status == RequestStatus.APPROVED
    _move(marketer, team_line, search_line, month, "0.01")
    with pytest.raises(ValidationError, match=re.escape("Mar 2026: North America has 0.00 available")):
        _approve(finance)


def test_carry_forward_respects_the_tree(finance, team_line, search_line, month):
    # By default the parent carries only its own 40,000 (the 60,000 of its sub-line is not its to move).
    with pytest.raises(ValidationError, match=re.escape("Apr 2026: North America has 40000.00 available")):
        transfer_services.carry_forward(
            actor=finance, line=team_line, from_period=month(4), to_period=month(6), amount=D("40000.01")
        )
    # The sub-line's June would outgrow its hard parent.
    with pytest.raises(ValidationError, match=re.escape("Jun 2026: the lines under North America would add up to")):
        transfer_services.carry_forward(
            actor=finance, line=search_line, from_period=month(4), to_period=month(6), amount=D("40000.01")
        )
    assert not Transfer.objects.exists()
    assert transfer_services.carry_forward(
        actor=finance, line=team_line, from_period=month(4), to_period=month(6)
    ).amount == D("40000.00")
    transfer_services.carry_forward(
        actor=finance, line=search_line, from_period=month(4), to_period=month(6), amount=D("40000")
    )
    assert Transfer.objects.count() == 2


# --- every money change records who made it (issue 19, 3b) ------------------------------------


def test_an_approved_transfer_names_its_approver_on_the_entries_and_the_event(
    transfer_template, marketer, finance, team_line, events_line, month
):
    transfer = _move(marketer, team_line, events_line, month, "1000")
    _approve(finance)
    assert set(BudgetEntry.objects.filter(transfer=transfer).values_list("created_by", flat=True)) == {finance.pk}
    event = AuditEvent.objects.get(action="transfer.approved", object_id=str(transfer.pk))
    assert event.actor == finance


def test_a_rejected_transfer_names_who_rejected_it(transfer_template, marketer, finance, team_line, events_line, month):
    transfer = _move(marketer, team_line, events_line, month, "1000")
    workflow_services.task_act(actor=finance, task=my_tasks(finance).get(), action="reject", comment="Not now")
    assert AuditEvent.objects.get(action="transfer.rejected", object_id=str(transfer.pk)).actor == finance


def test_the_phasing_page_shows_transfer_entries_with_and_without_an_author(
    client, transfer_template, marketer, finance, team_line, events_line, month
):
    _move(marketer, team_line, events_line, month, "1000")
    _approve(finance)
    # A row written before authors were recorded (the demo as seeded until now).
    BudgetEntry.objects.create(
        line=events_line,
        period=month(4),
        amount=D("10"),
        kind=EntryKind.TRANSFER,
        effective_at=timezone.now(),
        note="Legacy transfer",
        created_by=None,
    )
    client.force_login(finance)
    response = client.get(f"/budgets/lines/{events_line.pk}/phasing/")
    assert response.status_code == 200
    history = response.content.decode().split('id="phasing-history"')[1]
    assert (finance.get_full_name() or finance.username) in history
    assert "Legacy transfer" in history


# --- a request no one may decide never waits for good (issue 19, 3b) ---------------------------


def _two_finance_steps(ops_admin, fallback_role=""):
    """The demo's "Budget transfer": both sides approved by finance, by two different people."""
    return workflow_services.template_create(
        actor=ops_admin,
        name="Budget transfer",
        subject_type="budget_transfer",
        steps=[
            step("Finance approval — source line", stage=1, role=Role.FINANCE, fallback_role=fallback_role),
            step("Finance approval — destination line", stage=1, role=Role.FINANCE, fallback_role=fallback_role),
        ],
    )


def test_finance_asking_with_only_two_finance_users_goes_to_the_fallback_approver(
    ops_admin, finance, second_finance, cmo, team_line, events_line, month
):
    _two_finance_steps(ops_admin, fallback_role=Role.CMO)
    transfer = _move(finance, team_line, events_line, month, "1000")
    # The requester is one of the two finance users: the other and the CMO share the two steps.
    assert my_tasks(finance).count() == 0
    workflow_services.task_act(actor=second_finance, task=my_tasks(second_finance).first(), action="approve")
    workflow_services.task_act(actor=cmo, task=my_tasks(cmo).get(), action="approve")
    transfer.refresh_from_db()
    assert transfer.status == RequestStatus.APPROVED
    assert set(BudgetEntry.objects.filter(transfer=transfer).values_list("created_by", flat=True)) == {cmo.pk}


def test_finance_asking_with_only_two_finance_users_and_no_fallback_is_refused_when_made(
    ops_admin, finance, second_finance, marketer, team_line, events_line, month
):
    _two_finance_steps(ops_admin)
    with pytest.raises(ValidationError, match="No one may decide this budget transfer") as refused:
        _move(finance, team_line, events_line, month, "1000")
    assert "need 2 different approvers other than the requester, and only fiona-finance may decide" in str(
        refused.value
    )
    assert not Transfer.objects.exists()
    # A marketer's request has both finance users to decide it.
    assert _move(marketer, team_line, events_line, month, "1000").status == RequestStatus.PENDING
