"""``/api/v1/response-models/``: list, create (= ask for a fit; the task fits it after commit),
retrieve with the status, fit quality, ranking and every curve, delete."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from campaigns.api.common import VisibleRelatedField, money_sum_field
from metrics.scenarios import figures
from metrics.scenarios import permissions as policy
from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios import services as scenario_services
from metrics.scenarios.api.fields import BandSerializer, band_data
from metrics.scenarios.models import ModelLevel, ModelOutcome, ResponseModel
from mops.api_base import Policy
from mops.models import Team
from mops.permissions import teams_visible_to
from planning.models import Region


class CurvePointSerializer(serializers.Serializer):
    weekly_spend = serializers.FloatField()
    response = serializers.FloatField()
    low = serializers.FloatField()
    high = serializers.FloatField()
    marginal_return = serializers.FloatField(allow_null=True)


class ChannelFitSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The channel's (or program's) name, the key of scenario lines.")
    member_id = serializers.IntegerField(allow_null=True, help_text="The channel or program id (null: none).")
    rank = serializers.IntegerField(help_text="1 = the highest marginal return at current spend.")
    rank_stability = serializers.FloatField(help_text="Share of bootstrap draws in which it keeps its rank.")
    current_weekly_spend = money_sum_field()
    max_weekly_spend = money_sum_field()
    marginal_return = BandSerializer(help_text="Outcome per extra 1 spent a week at current spend (90 % band).")
    contribution = serializers.FloatField()
    contribution_share = serializers.FloatField()
    decay = serializers.FloatField(help_text="Carry-over: the share of a week's effect left the next week.")
    half_saturation = serializers.FloatField(help_text="The steady weekly spend reaching half the maximum effect.")
    shape = serializers.FloatField(help_text="Hill shape: above 1 the curve is S-shaped.")
    beta = serializers.FloatField(help_text="The weekly outcome at full saturation.")
    curve = CurvePointSerializer(many=True)


class HoldoutSerializer(serializers.Serializer):
    weeks = serializers.IntegerField()
    rmse = serializers.FloatField()
    mape = serializers.FloatField(allow_null=True)
    baseline_method = serializers.CharField()
    baseline_rmse = serializers.FloatField()
    baseline_mape = serializers.FloatField(allow_null=True)
    beats_baseline = serializers.BooleanField()


class FitSerializer(serializers.Serializer):
    r_squared = serializers.FloatField()
    seasonality = serializers.BooleanField()
    bootstrap = serializers.IntegerField()
    holdout = HoldoutSerializer(allow_null=True, help_text="The last 13 weeks, held out, against a naive forecast.")
    ranking = serializers.ListField(child=serializers.CharField(), help_text="Best marginal return first.")
    ranking_stability = serializers.FloatField(help_text="Share of bootstrap draws with exactly this order.")
    top_channel_stability = serializers.FloatField()
    warnings = serializers.ListField(child=serializers.CharField())
    excluded = serializers.ListField(child=serializers.CharField())
    channels = ChannelFitSerializer(many=True)


def fit_data(model: ResponseModel) -> dict | None:
    if model.result is None:
        return None
    result = scenario_selectors.fit_result(model)
    curves: dict = {}
    for name, spend, response, low, high, marginal in figures.curve_rows(result):
        curves.setdefault(name, []).append(
            {"weekly_spend": spend, "response": response, "low": low, "high": high, "marginal_return": marginal}
        )
    return {
        "r_squared": result.r_squared,
        "seasonality": result.seasonality,
        "bootstrap": result.bootstrap,
        "holdout": None if result.holdout is None else vars(result.holdout),
        "ranking": list(result.ranking),
        "ranking_stability": result.ranking_stability,
        "top_channel_stability": result.top_channel_stability,
        "warnings": list(result.warnings),
        "excluded": [str(key) for key in result.excluded],
        "channels": [
            {
                "name": c.key,
                "member_id": model.members.get(c.key),
                "rank": c.rank,
                "rank_stability": c.rank_stability,
                "current_weekly_spend": c.current_weekly_spend,
                "max_weekly_spend": c.max_weekly_spend,
                "marginal_return": band_data(c.marginal_return),
                "contribution": c.contribution,
                "contribution_share": c.contribution_share,
                "decay": c.decay,
                "half_saturation": c.half_saturation,
                "shape": c.shape,
                "beta": c.beta,
                "curve": curves.get(c.key, []),
            }
            for c in map(result.channel, result.ranking)
        ],
    }


class ResponseModelSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)

    class Meta:
        model = ResponseModel
        fields = [
            "id",
            "outcome",
            "level",
            "team",
            "region",
            "history_start",
            "history_end",
            "status",
            "error",
            "weeks",
            "first_week",
            "last_week",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "fit_seconds",
        ]
        read_only_fields = fields


class ResponseModelDetailSerializer(ResponseModelSerializer):
    fit = serializers.SerializerMethodField(help_text="The fit once the status is done; null before.")

    class Meta(ResponseModelSerializer.Meta):
        fields = [*ResponseModelSerializer.Meta.fields, "fit"]
        read_only_fields = fields

    @extend_schema_field(FitSerializer(allow_null=True))
    def get_fit(self, model):
        return fit_data(model)


class ResponseModelCreateSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ModelOutcome.choices)
    level = serializers.ChoiceField(choices=ModelLevel.choices, default=ModelLevel.CHANNEL)
    team = VisibleRelatedField(
        model=Team, visible=teams_visible_to, required=False, allow_null=True, help_text="Required for marketers."
    )
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all(), required=False, allow_null=True)
    history_start = serializers.DateField(required=False, allow_null=True)
    history_end = serializers.DateField(required=False, allow_null=True)


@extend_schema(tags=["scenarios"])
class ResponseModelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Response models: how each channel's (or program's) outcome responds to spend, fitted to the
    weekly rollups by a Celery task. POST asks for one (status ``queued``); GET it until ``done``
    (the fit, with curves) or ``failed`` (``error`` says why in plain words: too little history,
    no spend variation …)."""

    permission_classes = [Policy]
    policy = {
        "list": policy.can_plan_scenarios,
        "create": policy.can_plan_scenarios,
        "retrieve": policy.can_view_response_model,
        "destroy": policy.can_view_response_model,  # the service decides: requester or CMO
    }
    filterset_fields = ["status", "outcome", "level", "team"]

    def get_queryset(self):
        return scenario_selectors.response_model_list(self.request.user)

    def get_serializer_class(self):
        return ResponseModelDetailSerializer if self.action == "retrieve" else ResponseModelSerializer

    @extend_schema(request=ResponseModelCreateSerializer, responses={201: ResponseModelSerializer})
    def create(self, request):
        body = ResponseModelCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        model = scenario_services.response_model_request(actor=request.user, **body.validated_data)
        return Response(ResponseModelSerializer(model).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        scenario_services.response_model_delete(actor=self.request.user, model=instance)
