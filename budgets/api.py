"""Budgets API: budgets and their lines (read, with monthly amounts), allocation requests (create,
read, and one action per decision), commitments (finance writes), transfers (create and read;
decided through the workflow API) and the budget vs actual report. Every write goes through
the budgets services (``budgets.services``, ``budgets.requests.services``,
``budgets.transfers.services``) or ``workflows.services``; their errors become 400 / 403 / 409
bodies in ``mops.api_base.exception_handler``.

Here: budgets and lines (read-only: the tree pages write them) and commitments (finance), and the
router that mounts them with the requests', transfers' and budget vs actual endpoints
(``budgets.requests.api``, ``budgets.transfers.api``, ``budgets.reports.api``)."""

import rules
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from budgets import permissions as policy
from budgets import selectors, services
from budgets.models import Budget, BudgetLine, Commitment
from budgets.reports.api import BudgetVsActualView
from budgets.requests.api import AllocationRequestViewSet
from budgets.transfers.api import TransferViewSet
from campaigns.api.common import CurrencyField, VisibleRelatedField, money_field
from campaigns.models import Campaign
from campaigns.permissions import campaigns_visible_to
from mops.api_base import Policy
from planning.models import Period


class BudgetSerializer(serializers.ModelSerializer):
    fiscal_year = serializers.IntegerField(source="fiscal_year.year", read_only=True)

    class Meta:
        model = Budget
        fields = ["id", "fiscal_year", "name", "version", "kind", "target", "is_current", "created_at"]
        read_only_fields = fields


class BudgetViewSet(viewsets.ReadOnlyModelViewSet):
    """The budget versions of each fiscal year (marketers, finance and the CMO)."""

    serializer_class = BudgetSerializer
    permission_classes = [Policy]
    policy = {"list": rules.is_authenticated, "retrieve": rules.is_authenticated}
    filterset_fields = ["is_current", "kind"]

    def get_queryset(self):
        return policy.budgets_visible_to(self.request.user).select_related("fiscal_year")


class MonthAmountSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    amount = money_field(help_text="The line's budget for the month (base currency), as of now.")


class BudgetLineSerializer(serializers.ModelSerializer):
    months = serializers.SerializerMethodField()

    class Meta:
        model = BudgetLine
        fields = ["id", "budget", "parent", "name", "code", "team", "channel", "program", "is_soft", "months"]
        read_only_fields = fields

    @extend_schema_field(MonthAmountSerializer(many=True))
    def get_months(self, line):
        cells, periods = self.context["cells"], self.context["periods"]
        rows = [
            {"month": periods[period].start_date, "amount": amount}
            for (line_id, period), amount in sorted(cells.items(), key=lambda item: periods[item[0][1]].start_date)
            if line_id == line.pk
        ]
        return MonthAmountSerializer(rows, many=True).data


class BudgetLineViewSet(viewsets.ReadOnlyModelViewSet):
    """The lines the user may see, each with its budget per month (one ledger query per page)."""

    serializer_class = BudgetLineSerializer
    permission_classes = [Policy]
    policy = {"list": rules.is_authenticated, "retrieve": rules.is_authenticated}
    filterset_fields = ["budget", "parent", "team", "channel", "program"]
    search_fields = ["name", "code"]

    def get_queryset(self):
        return policy.lines_visible_to(self.request.user).order_by("budget", "code", "id")

    def get_serializer(self, *args, **kwargs):
        if args:
            lines = args[0] if isinstance(args[0], list | tuple) else [args[0]]
            cells = selectors.budget_cells([line.pk for line in lines if isinstance(line, BudgetLine)])
            context = self.get_serializer_context()
            context["cells"] = cells
            context["periods"] = Period.objects.in_bulk({period for _, period in cells})
            kwargs["context"] = context
        return super().get_serializer(*args, **kwargs)


class CommitmentSerializer(serializers.ModelSerializer):
    line = VisibleRelatedField(model=BudgetLine, visible=policy.lines_visible_to)
    campaign = VisibleRelatedField(model=Campaign, visible=campaigns_visible_to, required=False, allow_null=True)
    currency = CurrencyField()
    amount = money_field()
    month = serializers.DateField(write_only=True, help_text="The expected month (any day of it).")

    class Meta:
        model = Commitment
        fields = [
            "id",
            "line",
            "campaign",
            "period",
            "month",
            "vendor",
            "reference",
            "currency",
            "amount",
            "amount_base",
            "fx_rate",
            "status",
            "created_at",
            "closed_at",
        ]
        read_only_fields = ["id", "period", "amount_base", "fx_rate", "status", "created_at", "closed_at"]
        # The line/reference uniqueness is the service's (and the database's) to answer.
        validators = []

    def validate_month(self, value):
        period = Period.objects.filter(start_date=value.replace(day=1)).first()
        if period is None:
            raise serializers.ValidationError("No fiscal month holds this date.")
        return period


class CommitmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Purchase orders against lines: everyone with the line sees them, finance records and closes them."""

    serializer_class = CommitmentSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "create": policy.can_manage_budgets,
        "close": policy.can_manage_budgets,
    }
    filterset_fields = ["line", "campaign", "status", "reference"]

    def get_queryset(self):
        return policy.commitments_visible_to(self.request.user).order_by("-created_at", "-id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.commitment_create(actor=self.request.user, period=data.pop("month"), **data)

    @extend_schema(request=None, responses=CommitmentSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        commitment = services.commitment_close(actor=request.user, commitment=self.get_object())
        return Response(self.get_serializer(commitment).data)


router = SimpleRouter()
router.register("budgets", BudgetViewSet, basename="budget")
router.register("budget-lines", BudgetLineViewSet, basename="budget-line")
router.register("allocation-requests", AllocationRequestViewSet, basename="allocation-request")
router.register("commitments", CommitmentViewSet, basename="commitment")
router.register("transfers", TransferViewSet, basename="transfer")
urlpatterns = [
    *router.urls,
    path("budget-vs-actual/", BudgetVsActualView.as_view(), name="budget-vs-actual"),
]
