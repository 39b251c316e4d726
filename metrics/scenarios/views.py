"""Scenario-planning pages: response models (ask for a fit, follow it, read each channel's curve),
scenarios (the optimiser or hand edits beside the current plan; accept; propose transfers),
comparing two to four scenarios, and the funnel back-solve.

Thin: parse, check the policy (``metrics.permissions``), call one service or selector, render.
Service errors land on the form or in a message; every table behind a chart downloads as CSV/XLSX
(``?download=<panel>&format=csv|xlsx``).
"""

import datetime
import math
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from metrics.dashboards.panels import Panel, download
from metrics.rollups import calendar
from metrics.scenarios import figures
from metrics.scenarios import permissions as policy
from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios import services as scenario_services
from metrics.scenarios import transfers as scenario_transfers
from metrics.scenarios.forms import BacksolveForm, ResponseModelForm, ScenarioForm
from metrics.scenarios.mmm.common import ModelError
from metrics.scenarios.mmm.optimise import AllocationLine
from metrics.scenarios.models import FitStatus, ModelOutcome
from mops.errors import Conflict
from mops.forms import add_service_errors

MAX_COMPARED = 4


def _require_planner(user) -> None:
    if not policy.can_plan_scenarios(user):
        raise PermissionDenied("Scenario planning is for the CMO, finance and marketers.")


def _outcome(model) -> str:
    return ModelOutcome(model.outcome).label.lower() if model.outcome in ModelOutcome.values else model.outcome


@require_GET
def home(request):
    """Response models and scenarios the user may see, newest first."""
    _require_planner(request.user)
    return render(
        request,
        "metrics/scenarios/home.html",
        {
            "models": scenario_selectors.response_model_list(request.user)[:50],
            "scenarios": scenario_selectors.scenario_list(request.user)[:100],
        },
    )


# --- response models --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def model_create(request):
    _require_planner(request.user)
    form = ResponseModelForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            model = scenario_services.response_model_request(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            model.refresh_from_db()  # without a broker the fit has run already
            if model.status == FitStatus.DONE:
                messages.success(request, f"Model fitted in {model.fit_seconds:.1f} s.")
            elif model.status == FitStatus.FAILED:
                messages.warning(request, "The model could not be fitted: the reason is below.")
            else:
                messages.info(request, "The model is being fitted; this takes a few seconds.")
            return redirect("metrics:scenario-model", model.pk)
    return render(request, "metrics/scenarios/model_form.html", {"form": form})


def _visible_model(request, pk):
    return get_object_or_404(scenario_selectors.response_model_list(request.user), pk=pk)


@require_http_methods(["GET", "POST"])
def model_detail(request, pk):
    """The fit: quality against the naive forecast, the ranking and its stability, warnings in words,
    and each channel's curve. POST ``action=refit`` asks again with the same inputs; ``delete``."""
    _require_planner(request.user)
    model = _visible_model(request, pk)
    if request.method == "POST":
        return _model_action(request, model)
    result = scenario_selectors.fit_result(model) if model.status == FitStatus.DONE else None
    builders = {}
    if result is not None:
        builders = {
            "channels": lambda: Panel(
                id="channels",
                title="Channels by marginal return",
                header=figures.CHANNEL_HEADER,
                rows=figures.channel_rows(result),
            ),
            "curves": lambda: Panel(
                id="curves", title="Response curves", header=figures.CURVE_HEADER, rows=figures.curve_rows(result)
            ),
        }
    response = download(request, builders, filename=f"response-model-{model.pk}")
    if response is not None:
        return response
    context = {
        "model": model,
        "result": result,
        "outcome": _outcome(model),
        "open": model.status in (FitStatus.QUEUED, FitStatus.RUNNING),
        "can_delete": policy.is_cmo(request.user) or model.requested_by_id == request.user.pk,
    }
    if result is not None:
        context["holdout_gain"] = _gain(result.holdout)
        context["channels"] = [
            (channel, _chart(figures.response_curve(channel, outcome=_outcome(model))))
            for channel in map(result.channel, result.ranking)
        ]
    return render(request, "metrics/scenarios/model_detail.html", context)


def _chart(figure) -> Panel:
    """A figure to draw on a page (its ``figure_html``); its table is downloaded from another panel."""
    return Panel(id="", title="", header=[], rows=[], figure=figure)


def _gain(holdout) -> float | None:
    """How much lower the model's held-out error is than the naive forecast's (negative: higher)."""
    if holdout is None or not holdout.baseline_rmse:
        return None
    return 1 - holdout.rmse / holdout.baseline_rmse


def _model_action(request, model):
    action = request.POST.get("action")
    try:
        if action == "refit":
            again = scenario_services.response_model_request(
                actor=request.user,
                outcome=model.outcome,
                level=model.level,
                team=model.team,
                region=model.region,
                history_start=model.history_start,
                history_end=model.history_end,
            )
            messages.success(request, "Fitting again with the latest rollups.")
            return redirect("metrics:scenario-model", again.pk)
        if action == "delete":
            scenario_services.response_model_delete(actor=request.user, model=model)
            messages.success(request, "Response model deleted.")
            return redirect("metrics:scenarios")
    except (ValidationError, Conflict, PermissionDenied) as error:
        messages.error(request, _text(error))
        return redirect("metrics:scenario-model", model.pk)
    raise PermissionDenied("Unknown action.")


def _text(error) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


# --- scenarios --------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def scenario_create(request):
    """``?model=<id>``: preview the optimiser's split (or a hand edit) beside the current plan; save it."""
    _require_planner(request.user)
    model_id = request.GET.get("model", "")
    model = _visible_model(request, model_id if model_id.isdigit() else 0)
    if model.status != FitStatus.DONE:
        messages.error(request, "Plan with a fitted model: this one is not ready.")
        return redirect("metrics:scenario-model", model.pk)
    result = scenario_selectors.fit_result(model)
    form = ScenarioForm(request.POST or None, members=[c.key for c in result.channels], today=timezone.localdate())
    draft = None
    if request.method == "POST" and form.is_valid():
        inputs = scenario_services.ScenarioInputs(**form.inputs())
        try:
            if "save" in request.POST:
                scenario = scenario_services.scenario_create(
                    actor=request.user,
                    model=model,
                    name=form.cleaned_data["name"],
                    inputs=inputs,
                    note=form.cleaned_data["note"],
                )
                messages.success(request, f"Scenario “{scenario.name}” saved.")
                return redirect("metrics:scenario-detail", scenario.pk)
            draft = scenario_services.scenario_compute(actor=request.user, model=model, inputs=inputs)
        except ValidationError as error:
            add_service_errors(form, _on_form(error))
    if draft is not None:
        plan = draft.plan
    else:  # the current plan of the period on the form, for the table's "current plan" column
        start, months = form.fields["start"].initial, form.fields["months"].initial
        if form.is_bound and form.is_valid():
            start, months = form.cleaned_data["start"], form.cleaned_data["months"]
        plan = scenario_selectors.current_plan(model, result, start=datetime.date.fromisoformat(start), months=months)
    return render(
        request,
        "metrics/scenarios/scenario_form.html",
        {
            "form": form,
            "model": model,
            "outcome": _outcome(model),
            "draft": draft,
            "plan": plan,
            "preview": _preview(draft),
        },
    )


def _on_form(error: ValidationError) -> ValidationError:
    """Service errors naming per-member inputs (minimum, locked …) have no single form field: above the form."""
    if hasattr(error, "error_dict"):
        fields = {"name", "kind", "start", "months", "total_budget", "note"}
        return ValidationError(
            {(k if k in fields else "__all__"): v for k, v in error.message_dict.items()}
            if all(k in fields for k in error.message_dict)
            else error.messages
        )
    return error


class _Line:
    """An allocation line as the scenario templates read saved lines."""

    def __init__(self, line: AllocationLine, plan_source: str):
        self.member, self.amount, self.plan_amount, self.plan_source = (
            line.key,
            line.proposed,
            line.current,
            plan_source,
        )
        self.change = line.change
        self.marginal_return = line.marginal_return if math.isfinite(line.marginal_return) else None
        self.constraint = line.constraint
        self.predicted, self.plan_predicted = line.proposed_outcome.value, line.current_outcome.value


def _preview(draft) -> dict | None:
    if draft is None:
        return None
    lines = [_Line(line, draft.plan.sources[line.key]) for line in draft.allocation.lines]
    free = [line for line in lines if line.constraint == "free" and line.marginal_return is not None]
    return {
        "lines": lines,
        "lowest": min(free, key=lambda line: line.marginal_return, default=None),
        "highest": max(free, key=lambda line: line.marginal_return, default=None),
        "sources": draft.plan.sources,
        "amounts": _chart(figures.plan_vs_scenario(lines)),
        "returns": Panel(
            id="",
            title="",
            header=[],
            rows=[],
            figure=figures.marginal_returns(lines, draft.allocation.equalised_marginal_return),
        ),
    }


MOVES_HEADER = [
    "Name",
    "Plan from",
    "Current plan",
    "Scenario",
    "Change",
    "Predicted (plan)",
    "Predicted (scenario)",
    "Marginal return",
    "Held by",
]


def _moves_rows(scenario) -> list[list]:
    return [
        [
            line.member,
            line.plan_source,
            line.plan_amount,
            line.amount,
            line.change,
            line.plan_predicted,
            line.predicted,
            None if line.marginal_return is None else round(line.marginal_return, 4),
            line.constraint,
        ]
        for line in scenario.lines.all()
    ]


@require_http_methods(["GET", "POST"])
def scenario_detail(request, pk):
    """The scenario beside the current plan. POST ``action``: accept, reopen, propose, delete."""
    _require_planner(request.user)
    scenario = get_object_or_404(scenario_selectors.scenario_detail(request.user), pk=pk)
    if request.method == "POST":
        return _scenario_action(request, scenario)
    lines = list(scenario.lines.all())
    builders = {
        "moves": lambda: Panel(
            id="moves", title="Moves channel by channel", header=MOVES_HEADER, rows=_moves_rows(scenario)
        )
    }
    response = download(request, builders, filename=f"scenario-{scenario.pk}")
    if response is not None:
        return response
    free = [line for line in lines if line.constraint == "free"]
    context = {
        "scenario": scenario,
        "model": scenario.response_model,
        "outcome": _outcome(scenario.response_model),
        "lines": lines,
        "amounts": _chart(figures.plan_vs_scenario(lines)),
        "returns": Panel(
            id="",
            title="",
            header=[],
            rows=[],
            figure=figures.marginal_returns(lines, scenario.equalised_marginal_return),
        ),
        "lowest": min(free, key=lambda line: line.marginal_return or 0.0, default=None),
        "highest": max(free, key=lambda line: line.marginal_return or 0.0, default=None),
        "can_change": policy.can_change_scenario(request.user, scenario),
        "transfers": [link.transfer for link in scenario.transfers.all()],
        "end": _end(scenario),
    }
    return render(request, "metrics/scenarios/scenario_detail.html", context)


def _end(scenario) -> datetime.date:
    return calendar.add_months(scenario.start, scenario.months) - datetime.timedelta(days=1)


def _scenario_action(request, scenario):
    action = request.POST.get("action")
    actions = {
        "accept": (scenario_services.scenario_accept, "accepted"),
        "reopen": (scenario_services.scenario_reopen, "reopened as a draft"),
    }
    try:
        if action in actions:
            service, done = actions[action]
            service(actor=request.user, scenario=scenario)
            messages.success(request, f"Scenario {done}.")
        elif action == "propose":
            transfers = scenario_transfers.scenario_propose_transfers(actor=request.user, scenario=scenario)
            messages.success(
                request, f"{len(transfers)} transfer request(s) sent to finance through the budget transfer workflow."
            )
        elif action == "delete":
            scenario_services.scenario_delete(actor=request.user, scenario=scenario)
            messages.success(request, "Scenario deleted.")
            return redirect("metrics:scenarios")
        else:
            raise PermissionDenied("Unknown action.")
    except (ValidationError, Conflict) as error:
        messages.error(request, _text(error))
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
    return redirect("metrics:scenario-detail", scenario.pk)


@require_GET
def scenario_compare(request):
    """``?s=<id>&s=<id>…``: two to four scenarios side by side."""
    _require_planner(request.user)
    ids = [value for value in request.GET.getlist("s") if value.isdigit()]
    if not 2 <= len(set(ids)) <= MAX_COMPARED:
        messages.error(request, f"Choose two to {MAX_COMPARED} scenarios to compare.")
        return redirect("metrics:scenarios")
    found = {s.pk: s for s in scenario_selectors.scenario_detail(request.user).filter(pk__in=ids)}
    if len(found) != len(set(ids)):
        raise Http404("One of these scenarios does not exist, or is not yours to see.")
    scenarios = [found[int(i)] for i in dict.fromkeys(ids)]
    members = list(dict.fromkeys(line.member for s in scenarios for line in s.lines.all()))
    outcomes = {s.response_model.outcome for s in scenarios}
    outcome = _outcome(scenarios[0].response_model) if len(outcomes) == 1 else "outcome"
    header = ["Name", *(s.name for s in scenarios)]
    amounts = {(s.pk, line.member): line.amount for s in scenarios for line in s.lines.all()}
    rows = [[m, *(amounts.get((s.pk, m)) for s in scenarios)] for m in members]
    rows += [
        ["Total", *(s.total_budget for s in scenarios)],
        [f"Predicted {outcome}", *(s.predicted for s in scenarios)],
        ["Band, low", *(s.predicted_low for s in scenarios)],
        ["Band, high", *(s.predicted_high for s in scenarios)],
        ["Current plan, predicted", *(s.plan_predicted for s in scenarios)],
        ["Uplift on the plan", *(s.uplift for s in scenarios)],
    ]
    builders = {"compare": lambda: Panel(id="compare", title="Scenarios compared", header=header, rows=rows)}
    response = download(request, builders, filename="scenarios-compared")
    if response is not None:
        return response
    return render(
        request,
        "metrics/scenarios/compare.html",
        {
            "scenarios": scenarios,
            "header": header,
            "rows": rows,
            "mixed": len(outcomes) > 1,
            "amounts": _chart(figures.compare_amounts(scenarios, members)),
            "outcomes": Panel(
                id="", title="", header=[], rows=[], figure=figures.compare_outcomes(scenarios, outcome=outcome)
            ),
            "query": request.GET.urlencode(),
        },
    )


# --- funnel back-solve ------------------------------------------------------------------------------


BACKSOLVE_HEADER = ["Channel", "Share of leads", "Cost per lead", "Leads needed", "Spend needed", "Budget", "Gap"]


@require_GET
def backsolve(request):
    """From a revenue or pipeline target back to the leads and spend needed (GET form: a shareable link)."""
    _require_planner(request.user)
    today = timezone.localdate()
    form = BacksolveForm(request.GET if "solve" in request.GET else None, user=request.user, today=today)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            result, history, budgets = scenario_selectors.backsolve_compute(user=request.user, **data)
        except ModelError as error:
            form.add_error(None, error.message)
        except PermissionDenied as refusal:
            form.add_error("team", str(refusal))
        else:
            rows = [
                [
                    line.key,
                    round(float(line.share), 4),
                    line.cost_per_lead,
                    line.leads,
                    line.spend,
                    budgets.get(line.key, Decimal("0.00")),
                    line.spend - budgets.get(line.key, Decimal("0.00")),
                ]
                for line in result.lines
            ]
            builders = {
                "channels": lambda: Panel(
                    id="channels", title="Spend needed by channel", header=BACKSOLVE_HEADER, rows=rows
                )
            }
            response = download(request, builders, filename="funnel-backsolve")
            if response is not None:
                return response
            context.update(
                result=result,
                history=history,
                rows=rows,
                funnel=_chart(figures.funnel(result)),
                spend=_chart(figures.spend_needed(result, budgets)),
                query=request.GET.urlencode(),
            )
    return render(request, "metrics/scenarios/backsolve.html", context)
