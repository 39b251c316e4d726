"""Reads for scenario planning: the weekly spend-and-outcome series a response model is fitted to
(from the rollup cells, one query), the current plan of a period (the budget of each channel's or
program's budget lines), the funnel history the back-solve works from (rollups), and the lists of
models and scenarios a user may see.

The weekly series reads the cells, not the rollup rows: it needs spend per week *and* per channel
(or program), scoped and filtered, and the cells answer that in one ``GROUP BY``.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet

from budgets.models import Budget, BudgetLine
from budgets.selectors import ledger_cells
from campaigns.models import Program
from metrics.rollups import calendar, selectors
from metrics.rollups.engine import T
from metrics.rollups.models import CellSource, Grain
from metrics.scenarios.mmm.backsolve import FunnelRates, backsolve
from metrics.scenarios.mmm.common import UndefinedRate
from metrics.scenarios.mmm.results import FitResult
from metrics.scenarios.models import ModelLevel, ModelOutcome, ResponseModel, Scenario
from metrics.scenarios.permissions import response_models_visible_to, scenarios_visible_to
from planning.models import Channel, Period

ZERO = Decimal("0.00")
WEEK = datetime.timedelta(days=7)
MAX_HISTORY_WEEKS = 261  # five years: older weeks say little about next quarter, and cost fit time
LEVEL_COLUMNS = {ModelLevel.CHANNEL: "channel_id", ModelLevel.PROGRAM: "program_id"}
NO_MEMBER = {ModelLevel.CHANNEL: "No channel", ModelLevel.PROGRAM: "No program"}


# --- the weekly series a model is fitted to ---------------------------------------------------------


@dataclass
class WeeklySeries:
    """Consecutive week starts (Mondays), each member's weekly spend and the weekly outcome (all
    members, spending or not), as floats for the model. ``members`` maps each member's name — the
    key the model uses, so its warnings read in words — to its channel or program id (None: the
    campaigns with none). Members that never spent in the window are not in ``spend``: they cannot
    be planned, though their outcome counts."""

    weeks: list[datetime.date] = field(default_factory=list)
    spend: dict[str, np.ndarray] = field(default_factory=dict)
    outcome: np.ndarray = field(default_factory=lambda: np.zeros(0))
    members: dict[str, int | None] = field(default_factory=dict)


def last_complete_week(today: datetime.date) -> datetime.date:
    """The Monday of the last week that has ended by ``today`` (this week's facts are still coming)."""
    return calendar.bucket_start(Grain.WEEK, today) - WEEK


def weekly_series(
    *,
    outcome: str,
    level: str,
    team_id: int | None = None,
    region_id: int | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    today: datetime.date,
) -> WeeklySeries:
    """Weekly spend per channel (or program) and the weekly ``outcome`` over the campaign cells of a
    team or region (None: the organisation), between the weeks holding ``start`` and ``end``
    (None: from the first week with data; to the last complete week before ``today``), at most
    ``MAX_HISTORY_WEEKS`` of the latest. Weeks without data are zeros, so the weeks are consecutive.
    Two queries: the range, then the sums."""
    if outcome not in ModelOutcome.values or level not in ModelLevel.values:
        raise ValueError(f"Unknown outcome {outcome!r} or level {level!r}")
    member = LEVEL_COLUMNS[level]
    narrowing, params = "", []
    if team_id is not None:
        narrowing += " AND team_id = %s"
        params.append(team_id)
    if region_id is not None:
        narrowing += " AND region_id = %s"
        params.append(region_id)
    last_allowed = last_complete_week(today)
    first = calendar.bucket_start(Grain.WEEK, start) if start else None
    last = min(calendar.bucket_start(Grain.WEEK, end), last_allowed) if end else last_allowed
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(period_start), MAX(period_start) FROM {T['cell']} "
            f"WHERE grain = %s AND source = %s AND period_start <= %s{narrowing}",
            [Grain.WEEK, CellSource.CAMPAIGN, last, *params],
        )
        found_first, found_last = cursor.fetchone()
        if found_first is None:
            return WeeklySeries()
        found_first, found_last = _as_date(found_first), _as_date(found_last)
        first = max(first or found_first, found_first)
        last = min(last, found_last)
        if first > last:
            return WeeklySeries()
        span = (last - first).days // 7 + 1
        if span > MAX_HISTORY_WEEKS:
            first = last - (MAX_HISTORY_WEEKS - 1) * WEEK
        cursor.execute(
            f"SELECT period_start, {member}, SUM(spend), SUM({outcome}) FROM {T['cell']} "
            f"WHERE grain = %s AND source = %s AND period_start BETWEEN %s AND %s{narrowing} "
            f"GROUP BY period_start, {member}",
            [Grain.WEEK, CellSource.CAMPAIGN, first, last, *params],
        )
        rows = cursor.fetchall()
    weeks = [first + j * WEEK for j in range((last - first).days // 7 + 1)]
    index = {week: j for j, week in enumerate(weeks)}
    spend: dict[int | None, np.ndarray] = defaultdict(lambda: np.zeros(len(weeks)))
    total = np.zeros(len(weeks))
    for week, member_id, spent, outcome_sum in rows:
        j = index[_as_date(week)]
        spend[member_id][j] += float(spent or 0)
        total[j] += float(outcome_sum or 0)
    names = member_names(level, [m for m in spend if m is not None])
    series = WeeklySeries(weeks=weeks, outcome=total)
    for member_id in sorted(spend, key=lambda m: names.get(m, NO_MEMBER[level]).lower()):
        name = names.get(member_id, NO_MEMBER[level])
        series.members[name] = member_id
        if spend[member_id].any():
            series.spend[name] = np.round(spend[member_id], 2)
    return series


def member_names(level: str, ids) -> dict[int, str]:
    """Each channel's (unique) name, or each program's name — with its code when two share a name."""
    if level == ModelLevel.CHANNEL:
        return dict(Channel.objects.filter(pk__in=ids).values_list("pk", "name"))
    programs = list(Program.objects.filter(pk__in=ids).values_list("pk", "name", "code"))
    counts = defaultdict(int)
    for _, name, _ in programs:
        counts[name] += 1
    return {pk: name if counts[name] == 1 else f"{name} ({code})" for pk, name, code in programs}


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


# --- the current plan of a period -------------------------------------------------------------------


def period_months(start: datetime.date, months: int) -> list[datetime.date]:
    return [calendar.add_months(start, j) for j in range(months)]


def period_weeks(start: datetime.date, months: int) -> int:
    """The length of ``months`` months from ``start`` in whole weeks (3 months: 13 weeks)."""
    end = calendar.add_months(start, months)
    return max(1, round((end - start).days / 7))


@dataclass
class MemberBudget:
    """A channel's (or program's) budget over a period: the sum of its budget lines' months."""

    amount: Decimal = ZERO
    cells: dict = field(default_factory=dict)  # (line id, period id) -> the line's own budget
    lines: dict = field(default_factory=dict)  # line id -> BudgetLine


@dataclass
class PeriodBudget:
    periods: list[Period]
    missing_months: list[datetime.date]  # months with no fiscal period (no budget can exist)
    members: dict[str, MemberBudget]  # only members with at least one budget line


def period_budget(
    *, level: str, members: dict[str, int | None], start: datetime.date, months: int, team_id: int | None = None
) -> PeriodBudget:
    """The budget of each member's budget lines in the months of the period, in the current budget of
    each month's fiscal year. A member's lines are the lines naming its channel (or program) —
    those of ``team_id`` when given — each with its *own* budget (``budgets.selectors.ledger_cells``:
    a parent keeps only what it has not passed down to its sub-lines), so a dollar counts once, on
    the deepest line that holds it, as on every other page. A constant number of queries per
    fiscal year, whatever the number of lines."""
    wanted = period_months(start, months)
    periods = list(Period.objects.filter(start_date__in=wanted).select_related("fiscal_year").order_by("start_date"))
    found = {p.start_date for p in periods}
    missing = [m for m in wanted if m not in found]
    budgets = {
        b.fiscal_year_id: b
        for b in Budget.objects.filter(
            fiscal_year_id__in={p.fiscal_year_id for p in periods}, is_current=True
        ).select_related("fiscal_year")
    }
    column = "channel_id" if level == ModelLevel.CHANNEL else "program_id"
    ids = {member_id: name for name, member_id in members.items() if member_id is not None}
    lines = BudgetLine.objects.filter(
        budget_id__in=[b.pk for b in budgets.values()], **{f"{column}__in": list(ids)}
    ).order_by("pk")
    if team_id is not None:
        lines = lines.filter(team_id=team_id)
    lines = list(lines)
    period_by_budget = defaultdict(list)
    for period in periods:
        if period.fiscal_year_id in budgets:
            period_by_budget[budgets[period.fiscal_year_id].pk].append(period.pk)
    cells: dict = {}
    for budget in budgets.values():
        budget_lines = [line.pk for line in lines if line.budget_id == budget.pk]
        if budget_lines and period_by_budget.get(budget.pk):
            cells.update(ledger_cells(budget=budget, line_ids=budget_lines, period_ids=period_by_budget[budget.pk]))
    result: dict[str, MemberBudget] = {}
    for line in lines:
        name = ids[getattr(line, column)]
        entry = result.setdefault(name, MemberBudget())
        entry.lines[line.pk] = line
        for period_id in period_by_budget.get(line.budget_id, []):
            cell = cells.get((line.pk, period_id))
            amount = cell.budget if cell is not None else ZERO
            entry.cells[(line.pk, period_id)] = amount
            entry.amount += amount
    return PeriodBudget(periods=periods, missing_months=missing, members=result)


@dataclass
class PlanAmounts:
    """The current plan of a period per modelled member, and where each figure comes from."""

    amounts: dict[str, Decimal]
    sources: dict[str, str]  # "budget" or "run rate"
    budget: PeriodBudget

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


def current_plan(model: ResponseModel, result: FitResult, *, start: datetime.date, months: int) -> PlanAmounts:
    """The plan a scenario is compared with: each modelled member's budget-line budget for the
    months; a member without budget lines, its spend of the last 13 fitted weeks at the same rate."""
    weeks = period_weeks(start, months)
    budget = period_budget(level=model.level, members=model.members, start=start, months=months, team_id=model.team_id)
    amounts, sources = {}, {}
    for channel in result.channels:
        if channel.key in budget.members:
            amounts[channel.key] = budget.members[channel.key].amount
            sources[channel.key] = "budget"
        else:
            amounts[channel.key] = (channel.current_weekly_spend * weeks).quantize(Decimal("0.01"))
            sources[channel.key] = "run rate"
    return PlanAmounts(amounts=amounts, sources=sources, budget=budget)


# --- the funnel history behind the back-solve -------------------------------------------------------


@dataclass
class FunnelHistory:
    totals: selectors.Row  # the organisation's (or the user's teams') summed measures
    channels: list[selectors.Row]  # per channel, with spend and leads
    budget: Decimal  # the budget of the target period (what is planned now)
    channel_budget: dict[int | None, Decimal]


def funnel_history(*, history: selectors.Filters, target: selectors.Filters, scope: selectors.Scope) -> FunnelHistory:
    """Summed measures over ``history`` (for the rates) overall and per channel, and the budget of the
    ``target`` period overall and per channel — rollups only, four queries plus labels."""
    overall = selectors.measures_by(history, "organisation", scope=scope)
    channels = selectors.measures_by(history, "channel", scope=scope)
    budget_rows = selectors.measures_by(target, "channel", scope=scope)
    return FunnelHistory(
        totals=selectors.total(overall, label="All of marketing"),
        channels=channels,
        budget=sum((row.measures["budget"] for row in budget_rows), ZERO),
        channel_budget={row.key: row.measures["budget"] for row in budget_rows},
    )


def backsolve_scope(user, team) -> selectors.Scope:
    """The user's scope, narrowed to ``team`` when one is chosen (a team the user may see)."""
    scope = selectors.scope_of(user)
    if team is None:
        return scope
    if scope.team_ids is not None and team.pk not in scope.team_ids:
        raise PermissionDenied("You can work back only from your own teams' figures.")
    return selectors.Scope(team_ids=frozenset({team.pk}), budgets=scope.budgets)


def backsolve_compute(
    *, user, target_kind: str, target: Decimal, target_start, target_end, history_start, history_end, team=None
):
    """The back-solve from the rollups: rates and costs per lead over the history, the budget of the
    target period. Returns (Backsolve, FunnelHistory, budgets by channel name). Raises ModelError."""
    scope = backsolve_scope(user, team)
    history = funnel_history(
        history=selectors.Filters(start=history_start, end=history_end),
        target=selectors.Filters(start=target_start, end=target_end),
        scope=scope,
    )
    totals = history.totals.measures
    rates = FunnelRates.from_totals(
        leads=totals["leads"],
        mqls=totals["mqls"],
        sqls=totals["sqls"],
        opportunities=totals["opportunities"],
        new_customers=totals["new_customers"],
        revenue=totals["revenue"],
        pipeline=totals["pipeline"],
    )
    leads = {row.label: row.measures["leads"] for row in history.channels if row.measures["leads"] > 0}
    if not leads:
        raise UndefinedRate(
            "No channel brought a lead in the period measured, so there is no cost per lead to work back from."
        )
    total_leads = sum(leads.values())
    spend = {row.label: row.measures["spend"] for row in history.channels}
    mix = {name: Decimal(count) / total_leads for name, count in leads.items()}
    cost = {name: (spend[name] / leads[name]).quantize(Decimal("0.01")) for name in leads}
    budgets = {row.label: history.channel_budget.get(row.key, ZERO) for row in history.channels}
    result = backsolve(target, target_kind, rates, cost, mix, current_budget=history.budget)
    return result, history, budgets


# --- lists -----------------------------------------------------------------------------------------


def response_model_list(user) -> QuerySet[ResponseModel]:
    return response_models_visible_to(user).select_related("team", "region", "requested_by")


def scenario_list(user) -> QuerySet[Scenario]:
    return scenarios_visible_to(user).select_related("response_model", "owner", "team")


def scenario_detail(user) -> QuerySet[Scenario]:
    return scenario_list(user).prefetch_related("lines", "transfers__transfer")


def fit_result(model: ResponseModel) -> FitResult:
    """The stored fit, rebuilt (cached on the instance for the request)."""
    cached = getattr(model, "_fit_result", None)
    if cached is None:
        cached = FitResult.from_dict(model.result)
        model._fit_result = cached
    return cached
