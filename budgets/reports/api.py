"""Budget vs actual API: the report (``budgets.reports.selectors.budget_vs_actual``) as JSON — the
budget vs actual page's numbers per group and month."""

import datetime
import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets import permissions as policy
from budgets import selectors
from budgets.reports import selectors as reports
from campaigns.api.common import money_sum_field
from mops.api_base import Policy
from mops.permissions import is_marketer
from planning.models import Period

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
    group_by = serializers.ChoiceField(choices=reports.GROUPINGS, default="line")
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
            budget = selectors.request_budget()
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


def _row(row: reports.BvaRow, periods) -> dict:
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
        report = reports.budget_vs_actual(
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
