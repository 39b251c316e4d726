"""A budget counts once (issue 19, section 2): a parent line's money contains its children's, so every
reader — the rollups and the KPI API, the CMO and finance dashboards, the funnel back-solve, the weekly
report, the scenarios' current plan — counts each dollar on the deepest line that holds it, and agrees
to the cent with budget vs actual and with an independent sum of the ledger, for every grouping.

The world is a tree three levels deep with hard and soft parents, built with the budgets services:
phasing, transfers through the workflow (child to sibling, grandchild to grandparent), carry-forwards,
allocations to campaigns and to a program, an open commitment with an invoice, and spend inside and
outside any budget line."""

import datetime
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from budgets import selectors as budget_selectors
from budgets import services as budget_services
from budgets.models import Allocation, Budget, BudgetEntry, BudgetLine, Commitment, CommitmentStatus
from budgets.reports import selectors as bva_selectors
from budgets.requests import services as request_services
from budgets.transfers import services as transfer_services
from campaigns.models import Program, ResultFact, SpendEntry
from metrics.dashboards import report
from metrics.dashboards.cmo.board import CmoBoard
from metrics.dashboards.finance import FinanceBoard
from metrics.dashboards.panels import Inputs
from metrics.rollups import engine, selectors, services
from metrics.rollups.models import CellSource, DirtyMark
from metrics.rollups.selectors import Filters, scope_of
from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios.models import ModelLevel
from mops.roles import Role
from planning.models import Period
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db
D = Decimal
ZERO = D("0.00")
TODAY = datetime.date(2026, 3, 16)  # a Monday in FY2026 (fiscal years start in January here)
YEAR = Filters(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
GROUPINGS = ("organisation", "team", "channel", "program")
BUDGET_MEASURES = ("budget", "allocated", "committed")
ALL = selectors.Scope(team_ids=None, budgets=True)


@pytest.fixture
def today(settings):
    settings.FISCAL_YEAR_START_MONTH = 1
    settings.BASE_CURRENCY = "USD"
    with time_machine.travel(datetime.datetime(2026, 3, 16, 9, tzinfo=datetime.UTC), tick=True):
        yield


@pytest.fixture
def templates(ops_admin):
    for name, subject_type in (
        ("Budget allocation request", "budget_allocation"),
        ("Budget transfer", "budget_transfer"),
    ):
        workflow_services.template_create(
            actor=ops_admin,
            name=name,
            subject_type=subject_type,
            steps=[step("Finance approval", stage=1, role=Role.FINANCE)],
        )


def _approve_all(finance):
    for task in list(my_tasks(finance)):
        workflow_services.task_act(actor=finance, task=task, action="approve")


def _spend(campaign, day, amount, reference=""):
    SpendEntry.objects.create(
        campaign=campaign, date=day, amount=D(amount), currency="USD", amount_base=D(amount), reference=reference
    )


@pytest.fixture
def tree(today, templates, finance, marketer, outsider, team, other_team):
    """North America (hard) → NA digital (soft, paid search) → NA paid search (program Growth) and NA
    social (over its soft parent by 10,000 a month); North America → NA events. EMEA (hard) → EMEA
    search. Transfers, carry-forwards, allocations, a commitment and spend on top."""
    fiscal_year = fiscal_year_ensure(year=2026)
    month = {p.start_date.month: p for p in Period.objects.filter(fiscal_year=fiscal_year)}
    budget = budget_services.budget_create(actor=finance, fiscal_year=fiscal_year, name="FY2026", target=D("3000000"))
    search, social, events = (ChannelFactory(name=n) for n in ("Paid search", "Social", "Events"))
    growth = Program.objects.create(name="Growth", code="growth", team=team)

    def line(name, amount, months=None, **fields):
        created = budget_services.line_create(actor=finance, budget=budget, name=name, **fields)
        phased = months or range(1, 13)
        budget_services.phasing_set(actor=finance, line=created, amounts={month[m]: D(amount) for m in phased})
        return created

    na = line("North America", "100000", team=team)
    digital = line("NA digital", "60000", parent=na, team=team, channel=search, is_soft=True)
    paid = line("NA paid search", "40000.10", parent=digital, team=team, channel=search, program=growth)
    social_line = line("NA social", "30000", parent=digital, team=team, channel=social)
    events_line = line("NA events", "20000", parent=na, team=team, channel=events)
    emea = line("EMEA", "50000", months=range(1, 7), team=other_team)
    emea_search = line("EMEA search", "30000", months=range(1, 7), parent=emea, team=other_team, channel=search)

    q1 = CampaignFactory(
        name="NA search Q1",
        team=team,
        owner=marketer,
        channel=search,
        program=growth,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 6, 30),
    )
    spring = CampaignFactory(
        name="NA spring events",
        team=team,
        owner=marketer,
        channel=events,
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 6, 30),
    )
    launch = CampaignFactory(
        name="EMEA launch",
        team=other_team,
        owner=outsider,
        channel=search,
        start_date=datetime.date(2026, 1, 15),
        end_date=datetime.date(2026, 4, 30),
    )
    unfunded = CampaignFactory(
        name="NA social pop-up",
        team=team,
        owner=marketer,
        channel=social,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 3, 31),
    )

    # Transfers through the workflow: a grandchild to its uncle, a grandchild to its grandparent.
    for source, target, m, amount in ((paid, events_line, 3, "5000"), (social_line, na, 4, "1500.55")):
        transfer_services.transfer_request_create(
            actor=marketer,
            from_line=source,
            from_period=month[m],
            to_line=target,
            to_period=month[m],
            amount=D(amount),
            reason="Rebalance",
        )
    _approve_all(finance)
    # Carry-forwards: a leaf and a hard root.
    transfer_services.carry_forward(
        actor=finance, line=events_line, from_period=month[2], to_period=month[5], amount=D("2000")
    )
    transfer_services.carry_forward(
        actor=finance, line=emea, from_period=month[1], to_period=month[2], amount=D("999.99")
    )

    for actor, source, target, months in (
        (marketer, paid, {"campaign": q1}, {1: "3000", 2: "3000", 3: "3000.33"}),
        (marketer, events_line, {"campaign": spring}, {2: "2500"}),
        (marketer, na, {"program": growth}, {3: "1500"}),
        (outsider, emea_search, {"campaign": launch}, {2: "4000"}),
    ):
        request_services.allocation_request_create(
            actor=actor,
            line=source,
            months={month[m]: D(a) for m, a in months.items()},
            currency="USD",
            justification="Plan",
            **target,
        )
    _approve_all(finance)
    budget_services.commitment_create(
        actor=finance,
        line=events_line,
        campaign=spring,
        vendor="Venue",
        reference="PO-7",
        amount=D("4000"),
        currency="USD",
        period=month[4],
    )

    for day in range(1, 60):
        date = datetime.date(2026, 1, 1) + datetime.timedelta(days=day - 1)
        _spend(q1, date, "101.01")
        won = {"new_customers": 4, "revenue": D("80000"), "pipeline": D("200000")} if day == 50 else {}
        ResultFact.objects.create(campaign=q1, date=date, leads=3, mqls=2, sqls=1, opportunities=1, **won)
        _spend(unfunded, date, "45.45")  # spend outside any budget line
        ResultFact.objects.create(campaign=unfunded, date=date, leads=1)
    _spend(spring, datetime.date(2026, 2, 12), "1000.00", reference="PO-7")  # an invoice of the commitment
    _spend(launch, datetime.date(2026, 2, 3), "777.77")
    services.refresh_pending()
    return {
        "budget": budget,
        "month": month,
        "lines": {
            "na": na,
            "digital": digital,
            "paid": paid,
            "social": social_line,
            "events": events_line,
            "emea": emea,
            "emea_search": emea_search,
        },
        "channels": {"Paid search": search, "Social": social, "Events": events},
        "program": growth,
        "unfunded": unfunded,
    }


# --- the truth, from the ledger rows in plain Python ----------------------------------------------


KEY_OF = {
    "organisation": lambda line: "",
    "team": lambda line: line.team_id,
    "channel": lambda line: line.channel_id,
    "program": lambda line: line.program_id,
}


def ledger_truth(grouping: str) -> dict:
    """Per member: the own budget of each line (its entries less its children's), its allocations and
    its open commitments less their invoices — from the rows, no selector involved."""
    lines = {line.pk: line for line in BudgetLine.objects.filter(budget__is_current=True)}
    truth = defaultdict(lambda: dict.fromkeys(BUDGET_MEASURES, ZERO))
    for entry in BudgetEntry.objects.filter(line__in=lines):
        line = lines[entry.line_id]
        truth[KEY_OF[grouping](line)]["budget"] += entry.amount
        if line.parent_id is not None:
            truth[KEY_OF[grouping](lines[line.parent_id])]["budget"] -= entry.amount
    for allocation in Allocation.objects.filter(line__in=lines):
        truth[KEY_OF[grouping](lines[allocation.line_id])]["allocated"] += allocation.amount_base
    for commitment in Commitment.objects.filter(line__in=lines, status=CommitmentStatus.OPEN):
        invoiced = sum(
            SpendEntry.objects.filter(campaign_id=commitment.campaign_id, reference=commitment.reference).values_list(
                "amount_base", flat=True
            ),
            ZERO,
        )
        truth[KEY_OF[grouping](lines[commitment.line_id])]["committed"] += max(commitment.amount_base - invoiced, ZERO)
    return dict(truth)


def kpi_api(client, grouping: str) -> dict:
    answer = client.get(
        "/api/v1/kpis/",
        {"metrics": "budget,allocated,committed,spend", "group_by": grouping, "period": "fy2026"},
    )
    assert answer.status_code == 200, answer.content
    key = f"{grouping}_id"
    return {
        ("" if grouping == "organisation" else row[key]): {m: D(row[m]) for m in (*BUDGET_MEASURES, "spend")}
        for row in answer.json()["results"]
    }


def bva(budget, grouping: str) -> dict:
    if grouping == "organisation":
        totals = bva_selectors.budget_vs_actual(budget=budget, group_by="team").totals.total
        return {"": {m: getattr(totals, m) for m in (*BUDGET_MEASURES, "actual")}}
    report_ = bva_selectors.budget_vs_actual(budget=budget, group_by=grouping)
    return {r.key: {m: getattr(r.total, m) for m in (*BUDGET_MEASURES, "actual")} for r in report_.rows}


def only(measures: dict, names=BUDGET_MEASURES) -> dict:
    return {m: measures[m] for m in names}


def nonzero(by_member: dict) -> dict:
    return {k: only(v) for k, v in by_member.items() if any(v[m] for m in BUDGET_MEASURES)}


def board(board_class, user):
    return board_class(Inputs(filters=YEAR, scope=scope_of(user), user=user, today=TODAY, currency="USD"))


# --- the rollups ------------------------------------------------------------------------------------


def test_a_parents_cells_hold_only_what_it_has_not_passed_down(tree):
    lines = tree["lines"]
    cells = {row.key: row.measures["budget"] for row in selectors.measures_by(YEAR, "budget_line", scope=ALL)}
    # NA digital (soft): 60,000 − 40,000.10 − 30,000 a month, and the transfers out of its children.
    assert cells[lines["digital"].pk] == D("-10000.10") * 12 + D("5000") + D("1500.55")
    # North America: 100,000 − 60,000 − 20,000 a month; the transfer in from NA social is its own.
    assert cells[lines["na"].pk] == D("20000") * 12 + D("1500.55") - D("5000")
    assert cells[lines["paid"].pk] == D("40000.10") * 12 - D("5000")
    assert cells[lines["emea"].pk] == D("20000") * 6
    # The organisation's budget is the root lines' ledgers.
    roots = sum(
        BudgetEntry.objects.filter(line__in=[lines["na"], lines["emea"]]).values_list("amount", flat=True), ZERO
    )
    assert sum(cells.values(), ZERO) == roots == D("1501500.55")


def test_a_change_to_a_childs_ledger_refreshes_its_parent_and_agrees_with_a_rebuild(tree, finance):
    lines, month = tree["lines"], tree["month"]
    assert services.rebuild_all(compare=True).agreed is True
    # Only the grandchild is marked; its parent's own budget moves the other way.
    budget_services.phasing_set(actor=finance, line=lines["paid"], amounts={month[7]: D("45000")})
    assert set(DirtyMark.objects.filter(source=CellSource.BUDGET_LINE).values_list("source_id", flat=True)) == {
        lines["paid"].pk
    }
    services.refresh_pending()
    july = Filters(start=datetime.date(2026, 7, 1), end=datetime.date(2026, 7, 31))
    by_line = {row.key: row.measures["budget"] for row in selectors.measures_by(july, "budget_line", scope=ALL)}
    assert by_line[lines["paid"].pk] == D("45000.00")
    assert by_line[lines["digital"].pk] == D("60000") - D("45000") - D("30000")
    org = selectors.total(selectors.measures_by(july, "organisation", scope=ALL)).measures["budget"]
    assert org == D("100000.00")  # North America only: EMEA is phased January to June
    run = services.rebuild_all(compare=True)
    assert run.agreed is True, f"{run.differences} rows differ"


def test_refresh_widens_the_lines_to_their_parents(tree):
    lines = tree["lines"]
    assert engine.parents_of({lines["paid"].pk, lines["emea_search"].pk, lines["na"].pk}) == {
        lines["digital"].pk,
        lines["emea"].pk,
    }
    assert engine.parents_of({lines["paid"].pk, 10**9}) is None  # a line is gone: refresh them all


def test_a_deleted_sub_line_gives_its_money_back_to_its_parent(tree, finance):
    na, month = tree["lines"]["na"], tree["month"]
    august = Filters(start=datetime.date(2026, 8, 1), end=datetime.date(2026, 8, 31))

    def na_own():
        rows = selectors.measures_by(august, "budget_line", scope=ALL)
        return {row.key: row.measures["budget"] for row in rows}[na.pk]

    pop_up = budget_services.line_create(actor=finance, budget=tree["budget"], name="NA pop-up", parent=na)
    budget_services.phasing_set(actor=finance, line=pop_up, amounts={month[8]: D("5000")})
    services.refresh_pending()
    assert na_own() == D("15000.00")
    pop_up.delete()  # its entries go with it (an admin's clean-up)
    services.refresh_pending()
    assert na_own() == D("20000.00")
    run = services.rebuild_all(compare=True)
    assert run.agreed is True, f"{run.differences} rows differ"


# --- every reader agrees, for every grouping ------------------------------------------------------------


@pytest.mark.parametrize("grouping", GROUPINGS)
def test_every_reader_agrees_with_budget_vs_actual_and_the_ledger(tree, client, cmo, finance, grouping):
    budget = tree["budget"]
    truth = nonzero(ledger_truth(grouping))
    client.force_login(cmo)
    api = kpi_api(client, grouping)
    assert nonzero(api) == truth
    assert nonzero(bva(budget, grouping)) == truth

    cmo_board = board(CmoBoard, cmo)
    if grouping == "organisation":
        cmo_rows = {"": cmo_board.reads.current.measures}
    else:
        cmo_rows = {row.key: row.measures for row in cmo_board.reads.by(grouping)}
    assert nonzero(cmo_rows) == truth

    finance_board = board(FinanceBoard, finance)
    if grouping in ("organisation", "team"):
        rows = [finance_board.totals] if grouping == "organisation" else finance_board.by_team
        found = {("" if grouping == "organisation" else row.key): row.measures for row in rows}
        assert nonzero(found) == truth

    if grouping == "channel":  # the back-solve's current budget per channel and in all
        result, history, by_name = scenario_selectors.backsolve_compute(
            user=cmo,
            target_kind="revenue",
            target=D("500000"),
            target_start=YEAR.start,
            target_end=YEAR.end,
            history_start=datetime.date(2026, 1, 1),
            history_end=datetime.date(2026, 2, 28),
        )
        assert {k: v for k, v in history.channel_budget.items() if v} == {
            k: v["budget"] for k, v in truth.items() if v["budget"]
        }
        assert result.current_budget == sum((v["budget"] for v in truth.values()), ZERO)
        assert {row.label for row in history.channels} >= {"Paid search", "Social"}
        for row in history.channels:
            assert by_name[row.label] == truth.get(row.key, {"budget": ZERO})["budget"]

    if grouping in ("channel", "program"):  # the scenarios' current plan of the year
        level = ModelLevel.CHANNEL if grouping == "channel" else ModelLevel.PROGRAM
        members = (
            {name: c.pk for name, c in tree["channels"].items()}
            if grouping == "channel"
            else {"Growth": tree["program"].pk}
        )
        plan = scenario_selectors.period_budget(level=level, members=members, start=YEAR.start, months=12)
        assert {members[name]: m.amount for name, m in plan.members.items()} == {
            key: value["budget"] for key, value in truth.items() if key in members.values()
        }


def test_the_organisations_figures_are_the_root_lines_on_every_page(tree, client, cmo, finance):
    budget, lines = tree["budget"], tree["lines"]
    roots = sum(
        BudgetEntry.objects.filter(line__in=[lines["na"], lines["emea"]]).values_list("amount", flat=True), ZERO
    )
    bva_total = bva_selectors.budget_vs_actual(budget=budget, group_by="line").totals.total
    assert bva_total.budget == roots
    client.force_login(cmo)
    assert kpi_api(client, "organisation")[""]["budget"] == roots

    # The CMO's tile, finance's tile and the weekly report all say the same year's budget.
    cmo_tiles = {tile.code: tile for tile in board(CmoBoard, cmo).tiles()}
    assert f"Budget {roots:,.2f}" in cmo_tiles["spend"].detail
    finance_tiles = {tile.label: tile for tile in board(FinanceBoard, finance).tiles()}
    assert finance_tiles["Budget"].text == f"{roots:,.2f} USD"
    # Spend: finance's actual is the CMO's, and the part no line funds is shown as its own figure,
    # equal to budget vs actual's row "Spend outside any budget line".
    spend_of_year = sum(SpendEntry.objects.values_list("amount_base", flat=True), ZERO)
    finance_board = board(FinanceBoard, finance)
    assert finance_board.totals.measures["spend"] == board(CmoBoard, cmo).reads.current.measures["spend"]
    assert finance_board.totals.measures["spend"] == spend_of_year
    outside = sum(SpendEntry.objects.filter(campaign=tree["unfunded"]).values_list("amount_base", flat=True), ZERO)
    assert finance_board.outside_spend == outside == D("45.45") * 59
    by_team = {row[0]: row for row in finance_board.by_team_panel().rows}
    assert by_team["Spend outside any budget line"][4] == outside
    assert by_team["Total"][4] == spend_of_year
    bva_rows = {r.key: r for r in bva_selectors.budget_vs_actual(budget=budget, group_by="team").rows}
    assert bva_rows[budget_selectors.OUTSIDE].total.actual == outside
    assert bva_total.actual == spend_of_year
    # What is available: one computation (budgets.selectors.ledger_cells) on both pages.
    assert finance_board.available == bva_total.available
    team_board = FinanceBoard(
        Inputs(
            filters=replace(YEAR, team=(lines["emea"].team_id,)),
            scope=scope_of(finance),
            user=finance,
            today=TODAY,
            currency="USD",
        )
    )
    emea = {r.key: r.total for r in bva_selectors.budget_vs_actual(budget=budget, group_by="team").rows}
    assert team_board.available == emea[lines["emea"].team_id].available

    weekly = report.build(today=TODAY)
    spent = sum(SpendEntry.objects.filter(date__lte=datetime.date(2026, 3, 15)).values_list("amount_base", flat=True))
    assert (weekly.budget, weekly.spend_to_date) == (roots, spent)
    assert weekly.budget_used == report.BUDGET_USED.parsed.evaluate({"spend": spent, "budget": roots})


# --- the demo ---------------------------------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC), tick=True)
def test_after_seed_demo_the_kpi_apis_budget_is_budget_vs_actuals(client, cmo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    services.refresh_pending()
    day = timezone.localdate()
    budget = Budget.objects.get(is_current=True, fiscal_year__start_date__lte=day, fiscal_year__end_date__gte=day)
    year = budget.fiscal_year
    client.force_login(cmo)
    answer = client.get(
        "/api/v1/kpis/",
        {
            "metrics": "budget,allocated,committed",
            "group_by": "organisation",
            "start": year.start_date,
            "end": year.end_date,
        },
    )
    org = answer.json()["results"][0]
    totals = bva_selectors.budget_vs_actual(budget=budget, group_by="team").totals.total
    assert (D(org["budget"]), D(org["allocated"]), D(org["committed"])) == (
        totals.budget,
        totals.allocated,
        totals.committed,
    )


def test_a_scenario_takes_no_money_from_a_line_whose_own_budget_is_negative():
    """A parent under-funding its sub-lines (soft) has a negative own budget: nothing to give."""
    from metrics.scenarios.transfers import _split

    assert _split(D("10.00"), {"parent": D("-5.00"), "child": D("5.00")}) == {"parent": ZERO, "child": D("10.00")}
    assert _split(D("0.03"), {"a": D("1"), "b": D("1"), "c": D("-1")}) == {"a": D("0.02"), "b": D("0.01"), "c": ZERO}
