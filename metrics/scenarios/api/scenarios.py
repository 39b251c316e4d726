"""``/api/v1/scenarios/``: CRUD, ``POST …/optimise/`` (the optimiser's split, previewed or saved),
``POST …/{id}/accept/``, ``…/reopen/`` and ``…/propose-transfers/`` (budget transfer requests through
the workflow; never money moved)."""

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets.transfers.api import TransferSerializer
from campaigns.api.common import VisibleRelatedField, money_field, money_sum_field
from metrics.scenarios import permissions as policy
from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios import services as scenario_services
from metrics.scenarios import transfers as scenario_transfers
from metrics.scenarios.api.fields import BandSerializer, band_data
from metrics.scenarios.models import ResponseModel, Scenario, ScenarioKind, ScenarioLine
from mops.api_base import Policy

INPUT_FIELDS = {"minimum", "maximum", "locked", "amounts", "changes"}


class ScenarioLineSerializer(serializers.ModelSerializer):
    change = money_sum_field()

    class Meta:
        model = ScenarioLine
        fields = [
            "member",
            "member_id",
            "plan_amount",
            "plan_source",
            "amount",
            "change",
            "minimum",
            "maximum",
            "locked",
            "change_percent",
            "plan_predicted",
            "predicted",
            "predicted_low",
            "predicted_high",
            "marginal_return",
            "constraint",
        ]
        read_only_fields = fields


class ScenarioSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    lines = ScenarioLineSerializer(many=True, read_only=True)
    transfers = serializers.SerializerMethodField(help_text="Ids of the transfer requests proposed from it.")

    class Meta:
        model = Scenario
        fields = [
            "id",
            "name",
            "response_model",
            "owner",
            "team",
            "kind",
            "status",
            "start",
            "months",
            "weeks",
            "total_budget",
            "plan_total",
            "note",
            "predicted",
            "predicted_low",
            "predicted_high",
            "plan_predicted",
            "plan_predicted_low",
            "plan_predicted_high",
            "uplift",
            "uplift_low",
            "uplift_high",
            "equalised_marginal_return",
            "marginal_return_gap",
            "warnings",
            "lines",
            "transfers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_transfers(self, scenario):
        return [link.transfer_id for link in scenario.transfers.all()]


class InputLineSerializer(serializers.Serializer):
    member = serializers.CharField(help_text="A channel's (or program's) name as the model lists it.")
    minimum = money_field(required=False, allow_null=True, help_text="Optimised: at least this much.")
    maximum = money_field(required=False, allow_null=True, help_text="Optimised: at most this much.")
    locked = money_field(required=False, allow_null=True, help_text="Optimised: exactly this much.")
    amount = money_field(required=False, allow_null=True, help_text="Hand edit: this amount.")
    change_percent = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=-100,
        required=False,
        allow_null=True,
        help_text="Hand edit: +10 or -20 (percent of the current plan).",
    )


class _InputsMixin(serializers.Serializer):
    start = serializers.DateField(help_text="Any day of the first month.")
    months = serializers.IntegerField(min_value=1, max_value=12, default=3)
    total_budget = money_field(
        required=False, allow_null=True, help_text="Optimised scenarios; default: the current plan's total."
    )
    lines = InputLineSerializer(many=True, required=False, default=list)

    def validate_lines(self, lines):
        names = [line["member"] for line in lines]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise serializers.ValidationError(f"{', '.join(twice)} appear(s) more than once.")
        return lines


def _inputs(kind: str, data: dict) -> scenario_services.ScenarioInputs:
    lines = data.get("lines") or []

    def per(name):
        return {line["member"]: line[name] for line in lines if line.get(name) is not None}

    return scenario_services.ScenarioInputs(
        kind=kind,
        start=data["start"],
        months=data.get("months", 3),
        total_budget=data.get("total_budget"),
        minimum=per("minimum"),
        maximum=per("maximum"),
        locked=per("locked"),
        amounts=per("amount"),
        changes=per("change_percent"),
    )


def _api_errors(error: DjangoValidationError) -> serializers.ValidationError:
    """Service errors about per-member inputs name the body's ``lines`` field."""
    if not hasattr(error, "error_dict"):
        return serializers.ValidationError({"non_field_errors": error.messages})
    body: dict = {}
    for name, messages in error.message_dict.items():
        body.setdefault("lines" if name in INPUT_FIELDS else name, []).extend(messages)
    return serializers.ValidationError(body)


def _visible_models(user):
    return scenario_selectors.response_model_list(user)


class ScenarioWriteSerializer(_InputsMixin):
    response_model = VisibleRelatedField(model=ResponseModel, visible=_visible_models)
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=ScenarioKind.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ScenarioChangeSerializer(serializers.Serializer):
    """Rename or re-note; give any of kind, start, months, total_budget or lines to recompute (the
    others keep the scenario's values; lines replace all of its bounds and edits)."""

    name = serializers.CharField(max_length=120, required=False)
    note = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=ScenarioKind.choices, required=False)
    start = serializers.DateField(required=False)
    months = serializers.IntegerField(min_value=1, max_value=12, required=False)
    total_budget = money_field(required=False, allow_null=True)
    lines = InputLineSerializer(many=True, required=False)


class OptimiseSerializer(_InputsMixin):
    response_model = VisibleRelatedField(model=ResponseModel, visible=_visible_models)
    save = serializers.BooleanField(default=False, help_text="Save the answer as a scenario (then name it).")
    name = serializers.CharField(max_length=120, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["save"] and not attrs.get("name", "").strip():
            raise serializers.ValidationError({"name": ["Name the scenario to save it."]})
        return attrs


class AllocationLineSerializer(serializers.Serializer):
    member = serializers.CharField()
    plan_amount = money_sum_field()
    plan_source = serializers.CharField(help_text='"budget" (its budget lines) or "run rate" (recent spend).')
    amount = money_sum_field()
    change = money_sum_field()
    plan_predicted = BandSerializer()
    predicted = BandSerializer()
    marginal_return = serializers.FloatField(allow_null=True)
    constraint = serializers.CharField(help_text="free, minimum, maximum or locked.")


class AllocationSerializer(serializers.Serializer):
    weeks = serializers.IntegerField()
    total_budget = money_sum_field()
    plan_total = money_sum_field()
    predicted = BandSerializer()
    plan_predicted = BandSerializer()
    uplift = BandSerializer()
    equalised_marginal_return = serializers.FloatField(allow_null=True)
    marginal_return_gap = serializers.FloatField(allow_null=True)
    marginal_returns_equal = serializers.BooleanField()
    warnings = serializers.ListField(child=serializers.CharField())
    lines = AllocationLineSerializer(many=True)


def allocation_data(draft: scenario_services.ScenarioDraft) -> dict:
    a = draft.allocation
    return {
        "weeks": a.weeks,
        "total_budget": a.proposed_total,
        "plan_total": a.current_total,
        "predicted": band_data(a.proposed_outcome),
        "plan_predicted": band_data(a.current_outcome),
        "uplift": band_data(a.uplift),
        "equalised_marginal_return": a.equalised_marginal_return,
        "marginal_return_gap": a.marginal_return_gap,
        "marginal_returns_equal": a.marginal_returns_equal,
        "warnings": list(a.warnings),
        "lines": [
            {
                "member": line.key,
                "plan_amount": line.current,
                "plan_source": draft.plan.sources[line.key],
                "amount": line.proposed,
                "change": line.change,
                "plan_predicted": band_data(line.current_outcome),
                "predicted": band_data(line.proposed_outcome),
                "marginal_return": line.marginal_return if math.isfinite(line.marginal_return) else None,
                "constraint": line.constraint,
            }
            for line in a.lines
        ],
    }


class ProposedSerializer(serializers.Serializer):
    scenario = ScenarioSerializer()
    transfers = TransferSerializer(many=True)


@extend_schema(tags=["scenarios"])
class ScenarioViewSet(viewsets.ModelViewSet):
    """Scenarios: a split of a budget over a response model's channels for whole months, with the
    model's predicted outcome (and 90 % band) for it and for the current plan. Marketers see their
    teams'; the CMO and finance all. Changing, accepting and proposing: the owner or the CMO."""

    serializer_class = ScenarioSerializer
    permission_classes = [Policy]
    policy = {
        "list": policy.can_plan_scenarios,
        "create": policy.can_plan_scenarios,
        "optimise": policy.can_plan_scenarios,
        "retrieve": policy.can_view_scenario,
        "partial_update": policy.can_change_scenario,
        "destroy": policy.can_change_scenario,
        "accept": policy.can_change_scenario,
        "reopen": policy.can_change_scenario,
        "propose_transfers": policy.can_change_scenario,
    }
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["status", "kind", "response_model", "team"]

    def get_queryset(self):
        return scenario_selectors.scenario_detail(self.request.user)

    @extend_schema(request=ScenarioWriteSerializer, responses={201: ScenarioSerializer})
    def create(self, request):
        """Save a hand edit (amounts or percentage changes), the current plan, or an optimised split."""
        body = ScenarioWriteSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            scenario = scenario_services.scenario_create(
                actor=request.user,
                model=data["response_model"],
                name=data["name"],
                inputs=_inputs(data["kind"], data),
                note=data["note"],
            )
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        return Response(self._read(scenario), status=status.HTTP_201_CREATED)

    @extend_schema(request=ScenarioChangeSerializer, responses={200: ScenarioSerializer})
    def partial_update(self, request, pk=None):
        scenario = self.get_object()
        body = ScenarioChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        inputs = None
        if {"kind", "start", "months", "total_budget", "lines"} & set(data):
            merged = {
                "start": data.get("start", scenario.start),
                "months": data.get("months", scenario.months),
                "total_budget": data.get("total_budget", scenario.total_budget),
                "lines": data["lines"] if "lines" in data else _saved_inputs(scenario),
            }
            inputs = _inputs(data.get("kind", scenario.kind), merged)
        try:
            saved = scenario_services.scenario_update(
                actor=request.user, scenario=scenario, name=data.get("name"), note=data.get("note"), inputs=inputs
            )
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        return Response(self._read(saved))

    def perform_destroy(self, instance):
        scenario_services.scenario_delete(actor=self.request.user, scenario=instance)

    def _read(self, scenario) -> dict:
        return ScenarioSerializer(self.get_queryset().get(pk=scenario.pk)).data

    @extend_schema(
        request=OptimiseSerializer,
        responses={200: AllocationSerializer, 201: ScenarioSerializer},
        description="The split of the total budget that maximises the predicted outcome within the bounds, "
        "beside the current plan: 200 with the answer, or 201 with the saved scenario when save is true. "
        "Amounts add up to the total to the cent.",
    )
    @action(detail=False, methods=["post"])
    def optimise(self, request):
        body = OptimiseSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        inputs = _inputs(ScenarioKind.OPTIMISED, data)
        try:
            if data["save"]:
                scenario = scenario_services.scenario_create(
                    actor=request.user,
                    model=data["response_model"],
                    name=data["name"],
                    inputs=inputs,
                    note=data["note"],
                )
                return Response(self._read(scenario), status=status.HTTP_201_CREATED)
            draft = scenario_services.scenario_compute(actor=request.user, model=data["response_model"], inputs=inputs)
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        return Response(AllocationSerializer(allocation_data(draft)).data)

    @extend_schema(request=None, responses={200: ScenarioSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """A draft becomes accepted: its transfers can be proposed (409 if it is not a draft)."""
        scenario = scenario_services.scenario_accept(actor=request.user, scenario=self.get_object())
        return Response(self._read(scenario))

    @extend_schema(request=None, responses={200: ScenarioSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """An accepted scenario becomes a draft again (409 once its transfers were proposed)."""
        scenario = scenario_services.scenario_reopen(actor=request.user, scenario=self.get_object())
        return Response(self._read(scenario))

    @extend_schema(request=None, responses={201: ProposedSerializer})
    @action(detail=True, methods=["post"], url_path="propose-transfers")
    def propose_transfers(self, request, pk=None):
        """Turn an accepted scenario into budget transfer requests (the "Budget transfer" workflow:
        finance approves each). 400 names what stands in the way (a channel without a budget line…)."""
        scenario = self.get_object()
        try:
            transfers = scenario_transfers.scenario_propose_transfers(actor=request.user, scenario=scenario)
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        return Response(
            {"scenario": self._read(scenario), "transfers": TransferSerializer(transfers, many=True).data},
            status=status.HTTP_201_CREATED,
        )


def _saved_inputs(scenario: Scenario) -> list[dict]:
    return [
        {
            "member": line.member,
            "minimum": line.minimum,
            "maximum": line.maximum,
            "locked": line.amount if line.locked else None,
            "amount": line.amount if scenario.kind == ScenarioKind.HAND and line.change_percent is None else None,
            "change_percent": line.change_percent,
        }
        for line in scenario.lines.all()
    ]
