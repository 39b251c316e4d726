"""Transfers (create → ``transfer_request_create``, read what the user may see) and the budget vs
actual report (``selectors.budget_vs_actual``) as JSON."""

import datetime
import re

import rules
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets import permissions as policy
from budgets import request_selectors, selectors, services
from budgets.models import BudgetLine, Transfer, TransferKind
from campaigns.api.common import VisibleRelatedField, money_field, money_sum_field
from mops.api_base import Policy
from mops.permissions import is_marketer
from planning.models import Period


def _period_of(value: datetime.date) -> Period:
    period = Period.objects.filter(start_date=value.replace(day=1)).first()
    if period is None:
        raise serializers.ValidationError("No fiscal month holds this date.")
    return period


class TransferSerializer(serializers.ModelSerializer):
    from_line = VisibleRelatedField(model=BudgetLine, visible=policy.lines_visible_to)
    to_line = VisibleRelatedField(model=BudgetLine, visible=policy.lines_visible_to)
    from_month = serializers.DateField(source="from_period.start_date", help_text="The source month (any day of it).")
    to_month = serializers.DateField(source="to_period.start_date", help_text="The target month (any day of it).")
    amount = money_field(help_text="Base currency.")

    class Meta:
        model = Transfer
        fields = [
            "id",
            "kind",
            "from_line",
            "from_month",
            "to_line",
            "to_month",
            "amount",
            "reason",
            "team",
            "requested_by",
            "status",
            "created_at",
            "decided_at",
        ]
        read_only_fields = ["id", "team", "requested_by", "status", "created_at", "decided_at"]

    def validate_from_month(self, value):
        return _period_of(value)

    def validate_to_month(self, value):
        return _period_of(value)


class TransferViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Moves of budget between (line, month) cells: marketers see their teams' and their own,
    finance and the CMO all. Finance asks between any lines, a marketer between their own teams'.

    Creating one starts the "Budget transfer" workflow; nothing moves until it is approved. The
    approvers decide through the workflow API: ``POST /api/v1/tasks/{id}/approve/`` (or ``reject``
    / ``return``) on the step waiting for them (``GET /api/v1/tasks/``). Approval writes the two
    ledger entries, or is refused (400) when the source lacks the money or the tree limits would
    break. Finance's direct carry-forward is a page action, not this endpoint."""

    serializer_class = TransferSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows: transfers_visible_to
        "retrieve": rules.is_authenticated,
        "create": policy.can_manage_budgets | policy.can_request_from,
    }
    filterset_fields = ["status", "kind", "from_line", "to_line", "team"]

    def get_queryset(self):
        return (
            policy.transfers_visible_to(self.request.user)
            .select_related("from_period", "to_period")
            .order_by("-created_at", "-id")
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.transfer_request_create(
            actor=self.request.user,
            from_line=data["from_line"],
            from_period=data["from_period"]["start_date"],
            to_line=data["to_line"],
            to_period=data["to_period"]["start_date"],
            amount=data["amount"],
            reason=data.get("reason", ""),
            kind=data.get("kind", TransferKind.REALLOCATION),
        )


# --- budget vs actual -----------------------------------------------------------------------

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class MonthParamField(serializers.CharField):
    """``YYYY-MM`` → the month's first day."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data).strip()
        if not _MONTH.match(text):
            raise serializers.ValidationError("Give a month as YYYY-MM.")
        return datetime.date(int(text[:4]), int(text[5:]), 1)


class BvaQuerySerializer(serializers.Serializer):
    budget = serializers.IntegerField(required=False, help_text="A budget version's id; default the current one.")
    group_by = serializers.ChoiceField(choices=selectors.GROUPINGS, default="line")
    start = MonthParamField(required=False, help_text="First month, YYYY-MM (default the year's first).")
    end = MonthParamField(required=False, help_text="Last month, YYYY-MM (default the year's last).")

    def validate(self, attrs):
        user = self.context["request"].user
        visible = policy.budgets_visible_to(user)
        if "budget" in attrs:
            budget = visible.select_related("fiscal_year").filter(pk=attrs["budget"]).first()
            if budget is None:
                raise serializers.ValidationError({"budget": ["No such budget."]})
        else:
            budget = request_selectors.request_budget()
            if budget is None or not visible.filter(pk=budget.pk).exists():
                raise serializers.ValidationError({"budget": ["No current budget; give one."]})
        months = {p.start_date for p in Period.objects.filter(fiscal_year_id=budget.fiscal_year_id)}
        for name in ("start", "end"):
            if name in attrs and attrs[name] not in months:
                raise serializers.ValidationError({name: [f"{attrs[name]:%Y-%m} is not in {budget.fiscal_year}."]})
        if "start" in attrs and "end" in attrs and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": ["The last month comes before the first."]})
        attrs["budget"] = budget
        return attrs


def _money(**kwargs):
    """Budget vs actual's figures are sums: as wide as the sum of every allowed amount."""
    return money_sum_field(**kwargs)


class BvaMeasuresSerializer(serializers.Serializer):
    budget = _money()
    allocated = _money()
    committed = _money()
    actual = _money()
    available = _money()
    variance = _money(help_text="budget − actual")
    utilisation = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        allow_null=True,
        help_text="(actual + committed) / budget; null without budget.",
    )
    forecast = _money()


class BvaMonthSerializer(BvaMeasuresSerializer):
    month = serializers.DateField(help_text="The month's first day.")


class BvaRowSerializer(serializers.Serializer):
    key = serializers.IntegerField(
        allow_null=True,
        help_text="The id of the line, team, channel, program, campaign or month; null for “—” and for the "
        "spend outside any budget line.",
    )
    outside = serializers.BooleanField(
        help_text="True for the row “Spend outside any budget line”: the spend of campaigns no line of the "
        "budget funds (actual only), so the actual total is the year's spend."
    )
    label = serializers.CharField()
    depth = serializers.IntegerField(help_text="Tree depth when grouped by line.")
    total = BvaMeasuresSerializer()
    months = BvaMonthSerializer(many=True)


class BvaReportSerializer(serializers.Serializer):
    budget = serializers.IntegerField()
    group_by = serializers.CharField()
    months = serializers.ListField(child=serializers.DateField())
    as_of = serializers.DateField()
    rows = BvaRowSerializer(many=True)
    totals = BvaRowSerializer()


def _measures(measures: selectors.Measures) -> dict:
    return {
        **{name: getattr(measures, name) for name in selectors.MEASURES},
        "variance": measures.variance,
        "utilisation": measures.utilisation,
        "forecast": measures.forecast,
    }


def _row(row: selectors.BvaRow, periods) -> dict:
    return {
        "key": None if row.key == selectors.OUTSIDE else row.key,
        "outside": row.key == selectors.OUTSIDE,
        "label": row.label,
        "depth": row.depth,
        "total": _measures(row.total),
        "months": [{"month": p.start_date, **_measures(row.months.get(p.pk) or selectors.Measures())} for p in periods],
    }


class BudgetVsActualView(APIView):
    """Budget, allocated, committed, actual, available, variance, utilisation and forecast per group
    and month (base currency, decimal strings), with the totals — the budget vs actual page's numbers.
    Finance and the CMO see every line; a marketer the lines of their teams (and lines without a team)."""

    permission_classes = [Policy]
    policy = {"get": policy.sees_all_budgets | is_marketer}

    @extend_schema(parameters=[BvaQuerySerializer], responses=BvaReportSerializer)
    def get(self, request):
        params = BvaQuerySerializer(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        query = params.validated_data
        report = selectors.budget_vs_actual(
            budget=query["budget"],
            group_by=query["group_by"],
            start=query.get("start"),
            end=query.get("end"),
            user=None if policy.sees_all_budgets(request.user) else request.user,
        )
        data = {
            "budget": report.budget.pk,
            "group_by": report.group_by,
            "months": [p.start_date for p in report.periods],
            "as_of": report.as_of,
            "rows": [_row(r, report.periods) for r in report.rows],
            "totals": _row(report.totals, report.periods),
        }
        return Response(BvaReportSerializer(data).data)
