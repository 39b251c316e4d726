"""Writes of scenario planning: asking for a response model and fitting it (the task's body), saving
scenarios (the optimiser's split, a hand edit or the current plan, with the model's predictions),
and moving them through their states (``metrics.scenarios.transfers`` proposes an accepted one's moves as
budget transfers).

Every write validates, runs in one transaction, locks what it changes and writes its audit event.
The optimiser never moves money: proposing turns the scenario into transfer requests that finance
approves one by one in the "Budget transfer" workflow.
"""

import datetime
import math
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from metrics.scenarios import permissions as policy
from metrics.scenarios import selectors as sel
from metrics.scenarios.mmm.common import ModelError
from metrics.scenarios.mmm.fit import fit
from metrics.scenarios.mmm.optimise import Allocation, evaluate_plan, optimise
from metrics.scenarios.models import (
    FitStatus,
    ModelLevel,
    ModelOutcome,
    ResponseModel,
    Scenario,
    ScenarioKind,
    ScenarioLine,
    ScenarioStatus,
)
from mops.errors import Conflict
from mops.money import money
from mops.services import audit, snapshot

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
BOOTSTRAP = 200  # draws behind every band; 10 channels × 156 weeks fit in seconds with them
HOLDOUT_WEEKS = 13
MAX_MONTHS = 12
# The task that fits a requested model (metrics.tasks.fit_response_model), handed over by
# metrics.receivers.connect() at start-up: the task calls this module, never the other way round.
_fit_task = None


def use_fit_task(task) -> None:
    global _fit_task
    _fit_task = task


# --- response models --------------------------------------------------------------------------------


def response_model_request(
    *,
    actor,
    outcome: str,
    level: str = ModelLevel.CHANNEL,
    team=None,
    region=None,
    history_start: datetime.date | None = None,
    history_end: datetime.date | None = None,
) -> ResponseModel:
    """Ask for a response model of ``outcome`` by channel or program over the weekly rollups (of a
    team or region, or the organisation) and queue its fit after commit. A marketer's model is
    limited to one of their teams, which they must name."""
    if not policy.can_plan_scenarios(actor):
        raise PermissionDenied("Response models are for the CMO, finance and marketers.")
    errors = {}
    if outcome not in ModelOutcome.values:
        errors["outcome"] = [f"Choose one of {', '.join(ModelOutcome.values)}."]
    if level not in ModelLevel.values:
        errors["level"] = [f"Choose one of {', '.join(ModelLevel.values)}."]
    if team is None and not policy.sees_all_scenarios(actor):
        errors["team"] = ["Choose one of your teams: a marketer's model covers one team."]
    elif team is not None and not policy.can_plan_for_team(actor, team):
        errors["team"] = ["You can fit models only for your own teams."]
    if history_start and history_end and history_start > history_end:
        errors["history_end"] = ["The history ends before it starts."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        model = ResponseModel.objects.create(
            outcome=outcome,
            level=level,
            team=team,
            region=region,
            history_start=history_start,
            history_end=history_end,
            requested_by=actor,
        )
        audit(
            actor=actor,
            action="responsemodel.request",
            obj=model,
            after=snapshot(model, ["outcome", "level", "team", "region", "history_start", "history_end"]),
        )
        _fit_task.delay_on_commit(model.pk)
    return model


def response_model_fit(*, model_id: int, today: datetime.date | None = None) -> ResponseModel:
    """The task's job: read the weekly series, fit, store the result — or the plain reason it cannot
    be fitted (too little history, no spend variation …) as a failed model. Safe to run twice: a model
    already done or failed is returned as it is; a queued one, or one a lost worker left running, is
    fitted (the fit is deterministic, so two runs store the same result). The fit itself runs
    outside any transaction: it takes seconds and holds no lock."""
    runnable = (FitStatus.QUEUED, FitStatus.RUNNING)
    started = ResponseModel.objects.filter(pk=model_id, status__in=runnable).update(
        status=FitStatus.RUNNING, started_at=timezone.now()
    )
    model = ResponseModel.objects.get(pk=model_id)
    if not started:
        return model
    series = sel.weekly_series(
        outcome=model.outcome,
        level=model.level,
        team_id=model.team_id,
        region_id=model.region_id,
        start=model.history_start,
        end=model.history_end,
        today=today or timezone.localdate(),
    )
    if not series.weeks:
        return _finish(model, error=_no_data_message(model))
    clock = time.perf_counter()
    try:
        result = fit(
            series.weeks, series.spend, series.outcome, holdout_weeks=HOLDOUT_WEEKS, bootstrap=BOOTSTRAP, seed=0
        )
    except ModelError as error:
        return _finish(model, error=error.message, series=series)
    return _finish(model, result=result, series=series, seconds=time.perf_counter() - clock)


def _no_data_message(model: ResponseModel) -> str:
    where = f" of {model.team}" if model.team_id else ""
    where += f" in {model.region}" if model.region_id else ""
    return (
        f"There are no weekly spend or {model.get_outcome_display().lower()} figures{where} in the rollups for "
        "the weeks asked: nothing to fit. Log spend and results (or import them) first."
    )


def _finish(model: ResponseModel, *, result=None, error: str = "", series=None, seconds=None) -> ResponseModel:
    with transaction.atomic():
        changes = {
            "status": FitStatus.DONE if result is not None else FitStatus.FAILED,
            "error": error,
            "result": result.to_dict() if result is not None else None,
            "finished_at": timezone.now(),
            "fit_seconds": seconds,
        }
        if series is not None and series.weeks:
            changes.update(
                weeks=len(series.weeks),
                first_week=series.weeks[0],
                last_week=series.weeks[-1],
                members=series.members,
            )
        updated = ResponseModel.objects.filter(pk=model.pk, status=FitStatus.RUNNING).update(**changes)
        model.refresh_from_db()
        if updated:
            audit(actor=None, action=f"responsemodel.{model.status}", obj=model, after={"error": error or None})
    return model


def response_model_delete(*, actor, model: ResponseModel) -> None:
    """Delete a model nobody planned with: its requester or the CMO; a model with scenarios stays."""
    if not (
        policy.is_cmo(actor) or (model.requested_by_id == actor.pk and policy.can_view_response_model(actor, model))
    ):
        raise PermissionDenied("Only the one who asked for a model, or the CMO, can delete it.")
    with transaction.atomic():
        locked = ResponseModel.objects.select_for_update().get(pk=model.pk)
        if locked.scenarios.exists():
            raise Conflict("Scenarios were saved on this model: delete them first.")
        audit(actor=actor, action="responsemodel.delete", obj=locked, before={"status": locked.status})
        locked.delete()


# --- scenarios --------------------------------------------------------------------------------------


@dataclass
class ScenarioInputs:
    """What a scenario is made of, before the model turns it into amounts and predictions.

    ``total_budget`` (optimised; default: the current plan's total); per member ``minimum``,
    ``maximum`` and ``locked`` amounts (optimised); ``amounts`` and ``changes`` (percent of the
    current plan) for a hand edit — a member with neither keeps its plan amount."""

    kind: str
    start: datetime.date
    months: int = 3
    total_budget: Decimal | None = None
    minimum: dict[str, Decimal] = field(default_factory=dict)
    maximum: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    amounts: dict[str, Decimal] = field(default_factory=dict)
    changes: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class ScenarioDraft:
    """A scenario computed but not saved: the optimiser's preview, or what ``scenario_create`` stores."""

    model: ResponseModel
    inputs: ScenarioInputs
    weeks: int
    plan: sel.PlanAmounts
    allocation: Allocation


def scenario_compute(*, actor, model: ResponseModel, inputs: ScenarioInputs) -> ScenarioDraft:
    """Turn inputs into amounts and predictions on a fitted model (no write). Raises ValidationError
    naming the field: an unfitted model, a bad period, unknown members, bounds that cannot add up."""
    if not policy.can_plan_scenarios(actor) or not policy.can_view_response_model(actor, model):
        raise PermissionDenied("You cannot plan with this response model.")
    if model.status != FitStatus.DONE:
        state = (
            "failed: " + model.error if model.status == FitStatus.FAILED else f"{model.get_status_display().lower()}"
        )
        raise ValidationError({"response_model": [f"This response model is {state}; plan with a fitted one."]})
    _check_inputs(inputs)
    result = sel.fit_result(model)
    keys = [c.key for c in result.channels]
    _check_members(inputs, keys)
    weeks = sel.period_weeks(inputs.start, inputs.months)
    plan = sel.current_plan(model, result, start=inputs.start, months=inputs.months)
    try:
        if inputs.kind == ScenarioKind.OPTIMISED:
            total = plan.total if inputs.total_budget is None else money(inputs.total_budget)
            _check_bounds(inputs, keys, total)
            allocation = optimise(
                result,
                total,
                minimum=inputs.minimum,
                maximum=inputs.maximum,
                locked=inputs.locked,
                weeks=weeks,
                plan=plan.amounts,
            )
        else:
            amounts = _hand_amounts(inputs, plan) if inputs.kind == ScenarioKind.HAND else dict(plan.amounts)
            allocation = evaluate_plan(result, amounts, weeks=weeks, plan=plan.amounts)
    except ModelError as error:
        raise ValidationError(error.message) from None
    return ScenarioDraft(model=model, inputs=inputs, weeks=weeks, plan=plan, allocation=allocation)


def _check_inputs(inputs: ScenarioInputs) -> None:
    errors = {}
    if inputs.kind not in ScenarioKind.values:
        errors["kind"] = [f"Choose one of {', '.join(ScenarioKind.values)}."]
    if inputs.start is None:
        errors["start"] = ["Give the first month of the period."]
    else:
        inputs.start = inputs.start.replace(day=1)
    if not 1 <= (inputs.months or 0) <= MAX_MONTHS:
        errors["months"] = [f"A period is 1 to {MAX_MONTHS} months."]
    if inputs.total_budget is not None and (
        inputs.total_budget < 0 or inputs.total_budget != money(inputs.total_budget)
    ):
        errors["total_budget"] = ["The total budget is an amount of zero or more, in whole cents."]
    for name in ("minimum", "maximum", "locked", "amounts"):
        bad = [k for k, v in getattr(inputs, name).items() if v is None or v < 0 or v != money(v)]
        if bad:
            errors[name] = [f"{', '.join(map(str, bad))}: amounts are zero or more, in whole cents."]
    for member, change in inputs.changes.items():
        if change is None or change < -100:
            errors["changes"] = [f"{member}: a change cannot take away more than 100 %."]
    if errors:
        raise ValidationError(errors)


def _check_members(inputs: ScenarioInputs, keys: list) -> None:
    errors = {}
    for name in ("minimum", "maximum", "locked", "amounts", "changes"):
        unknown = [str(k) for k in getattr(inputs, name) if k not in keys]
        if unknown:
            errors[name] = [
                f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the model "
                f"(modelled: {', '.join(map(str, keys))})."
            ]
    both = sorted(set(inputs.amounts) & set(inputs.changes))
    if both:
        errors["changes"] = [f"{', '.join(both)}: give an amount or a change, not both."]
    if errors:
        raise ValidationError(errors)


def _check_bounds(inputs: ScenarioInputs, keys: list, total: Decimal) -> None:
    """The optimiser's bounds, checked here so that each message names its field."""
    errors = {}
    for key in keys:
        low, high = inputs.minimum.get(key), inputs.maximum.get(key)
        if low is not None and high is not None and low > high:
            errors.setdefault("minimum", []).append(f"{key}: the minimum {low:,} is above the maximum {high:,}.")
        if key in inputs.locked and (
            (low is not None and inputs.locked[key] < low) or (high is not None and inputs.locked[key] > high)
        ):
            errors.setdefault("locked", []).append(
                f"{key}: locked at {inputs.locked[key]:,}, outside its minimum/maximum."
            )
    if errors:
        raise ValidationError(errors)
    floor = sum((inputs.locked.get(k, inputs.minimum.get(k, ZERO)) for k in keys), ZERO)
    if floor > total:
        raise ValidationError(
            {
                "total_budget": [
                    f"The minimums and locked amounts add up to {floor:,}, more than the budget of {total:,}."
                ]
            }
        )
    if all(k in inputs.locked or k in inputs.maximum for k in keys):
        ceiling = sum((inputs.locked.get(k, inputs.maximum.get(k, ZERO)) for k in keys), ZERO)
        if ceiling < total:
            raise ValidationError(
                {
                    "total_budget": [
                        f"The maximums and locked amounts add up to {ceiling:,}, less than the budget of {total:,}: "
                        "raise a maximum or lower the budget."
                    ]
                }
            )


def _hand_amounts(inputs: ScenarioInputs, plan: sel.PlanAmounts) -> dict[str, Decimal]:
    """Each member's amount: typed, or its plan amount changed by a percentage ("+10 %", "−20 %")."""
    amounts = {}
    for key, planned in plan.amounts.items():
        if key in inputs.amounts:
            amounts[key] = money(inputs.amounts[key])
        elif key in inputs.changes:
            amounts[key] = money(planned * (1 + inputs.changes[key] / 100))
        else:
            amounts[key] = planned
    return amounts


def _dec(value: float) -> Decimal:
    """A model figure (float) as a stored decimal, to the cent."""
    return Decimal(repr(float(value))).quantize(CENT)


def _save_draft(scenario: Scenario, draft: ScenarioDraft) -> None:
    """Copy a draft's figures onto ``scenario`` and replace its lines (inside the caller's transaction)."""
    a, inputs = draft.allocation, draft.inputs
    scenario.kind, scenario.start, scenario.months, scenario.weeks = inputs.kind, inputs.start, inputs.months, a.weeks
    scenario.total_budget, scenario.plan_total = a.proposed_total, a.current_total
    scenario.predicted, scenario.predicted_low, scenario.predicted_high = map(_dec, a.proposed_outcome)
    scenario.plan_predicted, scenario.plan_predicted_low, scenario.plan_predicted_high = map(_dec, a.current_outcome)
    scenario.uplift, scenario.uplift_low, scenario.uplift_high = map(_dec, a.uplift)
    scenario.equalised_marginal_return = a.equalised_marginal_return
    scenario.marginal_return_gap = a.marginal_return_gap
    scenario.warnings = list(a.warnings)
    scenario.full_clean(exclude=["response_model", "owner", "team"])
    scenario.save()
    scenario.lines.all().delete()
    members = draft.model.members
    ScenarioLine.objects.bulk_create(
        ScenarioLine(
            scenario=scenario,
            member=line.key,
            member_id=members.get(line.key),
            amount=line.proposed,
            plan_amount=line.current,
            plan_source=draft.plan.sources[line.key],
            minimum=inputs.minimum.get(line.key),
            maximum=inputs.maximum.get(line.key),
            locked=line.key in inputs.locked,
            change_percent=inputs.changes.get(line.key),
            predicted=_dec(line.proposed_outcome.value),
            predicted_low=_dec(line.proposed_outcome.low),
            predicted_high=_dec(line.proposed_outcome.high),
            plan_predicted=_dec(line.current_outcome.value),
            marginal_return=line.marginal_return if math.isfinite(line.marginal_return) else None,
            constraint=line.constraint,
        )
        for line in a.lines
    )


SCENARIO_FIELDS = ["name", "kind", "status", "start", "months", "total_budget", "predicted", "note"]


def scenario_create(*, actor, model: ResponseModel, name: str, inputs: ScenarioInputs, note: str = "") -> Scenario:
    """Compute and save a scenario on ``model``; it belongs to the model's team (None: organisation)."""
    if not (name or "").strip():
        raise ValidationError({"name": ["Give the scenario a name."]})
    draft = scenario_compute(actor=actor, model=model, inputs=inputs)
    with transaction.atomic():
        scenario = Scenario(
            name=name.strip()[:120], response_model=model, owner=actor, team_id=model.team_id, note=note.strip()
        )
        _save_draft(scenario, draft)
        audit(actor=actor, action="scenario.create", obj=scenario, after=snapshot(scenario, SCENARIO_FIELDS))
    return scenario


def scenario_update(
    *, actor, scenario: Scenario, name: str | None = None, note: str | None = None, inputs: ScenarioInputs | None = None
) -> Scenario:
    """Rename, re-note or recompute a draft scenario (the owner or the CMO). An accepted scenario is
    reopened first; one whose transfers were proposed no longer changes."""
    if not policy.can_change_scenario(actor, scenario):
        raise PermissionDenied("Only the scenario's owner or the CMO can change it.")
    if name is not None and not name.strip():
        raise ValidationError({"name": ["Give the scenario a name."]})
    draft = scenario_compute(actor=actor, model=scenario.response_model, inputs=inputs) if inputs else None
    with transaction.atomic():
        locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
        if locked.status != ScenarioStatus.DRAFT:
            raise Conflict(f"The scenario is {locked.get_status_display().lower()}: reopen it as a draft to change it.")
        before = snapshot(locked, SCENARIO_FIELDS)
        if name is not None:
            locked.name = name.strip()[:120]
        if note is not None:
            locked.note = note.strip()
        if draft is not None:
            _save_draft(locked, draft)
        else:
            locked.save()
        audit(actor=actor, action="scenario.update", obj=locked, before=before, after=snapshot(locked, SCENARIO_FIELDS))
    return locked


def scenario_delete(*, actor, scenario: Scenario) -> None:
    if not policy.can_change_scenario(actor, scenario):
        raise PermissionDenied("Only the scenario's owner or the CMO can delete it.")
    with transaction.atomic():
        locked = Scenario.objects.select_for_update().get(pk=scenario.pk)
        if locked.status == ScenarioStatus.PROPOSED:
            raise Conflict("Its transfers were proposed: the scenario stays as their record.")
        audit(actor=actor, action="scenario.delete", obj=locked, before=snapshot(locked, SCENARIO_FIELDS))
        locked.delete()


# The state machine: action -> (from, to). ``propose`` is applied by
# ``scenario_transfers.scenario_propose_transfers``.
TRANSITIONS = {
    "accept": (ScenarioStatus.DRAFT, ScenarioStatus.ACCEPTED),
    "reopen": (ScenarioStatus.ACCEPTED, ScenarioStatus.DRAFT),
    "propose": (ScenarioStatus.ACCEPTED, ScenarioStatus.PROPOSED),
}

DONE = {"accept": "accepted", "reopen": "reopened", "propose": "proposed"}


def apply_transition(*, actor, scenario: Scenario, action: str) -> None:
    """Apply one transition as a conditional UPDATE (inside the caller's transaction): zero rows
    means someone else moved the scenario first — a Conflict, never a double transition."""
    source, target = TRANSITIONS[action]
    updated = Scenario.objects.filter(pk=scenario.pk, status=source).update(status=target, updated_at=timezone.now())
    if not updated:
        current = Scenario.objects.filter(pk=scenario.pk).values_list("status", flat=True).first()
        label = ScenarioStatus(current).label.lower() if current else "deleted"
        raise Conflict(f"The scenario is {label}, not {source.label.lower()}: it cannot be {DONE[action]}.")
    audit(actor=actor, action=f"scenario.{action}", obj=scenario, before={"status": source}, after={"status": target})
    scenario.status = target


def scenario_accept(*, actor, scenario: Scenario) -> Scenario:
    """Settle on a draft: it can then be proposed as budget transfers."""
    return _act(actor, scenario, "accept")


def scenario_reopen(*, actor, scenario: Scenario) -> Scenario:
    return _act(actor, scenario, "reopen")


def _act(actor, scenario: Scenario, action: str) -> Scenario:
    if not policy.can_change_scenario(actor, scenario):
        raise PermissionDenied("Only the scenario's owner or the CMO can accept or reopen it.")
    with transaction.atomic():
        apply_transition(actor=actor, scenario=scenario, action=action)
    return scenario
