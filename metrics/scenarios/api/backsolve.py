"""``/api/v1/backsolve/``: GET with query parameters or POST with a body."""

from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.common import VisibleRelatedField, money_field, money_sum_field
from metrics.scenarios import permissions as policy
from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios.forms import BacksolveForm
from metrics.scenarios.mmm.common import ModelError
from mops.api_base import Policy
from mops.models import Team
from mops.permissions import teams_visible_to


class BacksolveQuerySerializer(serializers.Serializer):
    target_kind = serializers.ChoiceField(choices=["revenue", "pipeline"], default="revenue")
    target = money_field()
    target_start = serializers.DateField(required=False, help_text="Default: this fiscal year.")
    target_end = serializers.DateField(required=False)
    history_start = serializers.DateField(required=False, help_text="Rates from; default: the last 12 full months.")
    history_end = serializers.DateField(required=False)
    team = VisibleRelatedField(model=Team, visible=teams_visible_to, required=False, allow_null=True)

    def validate(self, attrs):
        defaults = BacksolveForm(None, user=self.context["request"].user, today=timezone.localdate()).defaults
        for name in ("target_start", "target_end", "history_start", "history_end"):
            attrs.setdefault(name, defaults[name])
        for first, last in (("target_start", "target_end"), ("history_start", "history_end")):
            if attrs[first] > attrs[last]:
                raise serializers.ValidationError({last: ["The period ends before it starts."]})
        return attrs


class BacksolveLineSerializer(serializers.Serializer):
    channel = serializers.CharField()
    share = serializers.FloatField(help_text="Its share of the leads in the history.")
    cost_per_lead = money_sum_field()
    leads = serializers.IntegerField()
    spend = money_sum_field()
    budget = money_sum_field()
    gap = money_sum_field()


class BacksolveResultSerializer(serializers.Serializer):
    target = money_sum_field()
    target_kind = serializers.CharField()
    new_customers = serializers.IntegerField(allow_null=True)
    opportunities = serializers.IntegerField()
    sqls = serializers.IntegerField()
    mqls = serializers.IntegerField()
    leads = serializers.IntegerField()
    spend = money_sum_field()
    current_budget = money_sum_field()
    gap = money_sum_field(help_text="Positive: more money is needed.")
    rates = serializers.DictField(child=serializers.FloatField(allow_null=True))
    lines = BacksolveLineSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


RATE_FIELDS = (
    "lead_to_mql",
    "mql_to_sql",
    "sql_to_opportunity",
    "win_rate",
    "average_deal_size",
    "average_opportunity_size",
)


@extend_schema(tags=["scenarios"])
class BacksolveView(APIView):
    """From a revenue or pipeline target back to the new customers, opportunities, SQLs, MQLs and
    leads it takes (the organisation's own rates over the history), and to the spend per channel
    (its cost per lead and share of leads), with the gap to the target period's budget."""

    permission_classes = [Policy]
    policy = {"get": policy.can_plan_scenarios, "post": policy.can_plan_scenarios}

    def _solve(self, request, data) -> Response:
        query = BacksolveQuerySerializer(data=data, context={"request": request})
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        try:
            result, _, budgets = scenario_selectors.backsolve_compute(user=request.user, **params)
        except ModelError as error:
            raise serializers.ValidationError({"non_field_errors": [error.message]}) from None
        zero = Decimal("0.00")
        body = {
            "target": result.target,
            "target_kind": result.target_kind,
            "new_customers": result.new_customers,
            "opportunities": result.opportunities,
            "sqls": result.sqls,
            "mqls": result.mqls,
            "leads": result.leads,
            "spend": result.spend,
            "current_budget": result.current_budget,
            "gap": result.gap,
            "rates": {
                name: None if getattr(result.rates, name) is None else float(getattr(result.rates, name))
                for name in RATE_FIELDS
            },
            "lines": [
                {
                    "channel": line.key,
                    "share": float(line.share),
                    "cost_per_lead": line.cost_per_lead,
                    "leads": line.leads,
                    "spend": line.spend,
                    "budget": budgets.get(line.key, zero),
                    "gap": line.spend - budgets.get(line.key, zero),
                }
                for line in result.lines
            ],
            "warnings": list(result.warnings),
        }
        return Response(BacksolveResultSerializer(body).data)

    @extend_schema(parameters=[BacksolveQuerySerializer], responses=BacksolveResultSerializer)
    def get(self, request):
        return self._solve(request, request.query_params)

    @extend_schema(request=BacksolveQuerySerializer, responses=BacksolveResultSerializer)
    def post(self, request):
        return self._solve(request, request.data)
