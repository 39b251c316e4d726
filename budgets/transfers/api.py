"""Transfers API: create (→ ``transfer_request_create``) and read what the user may see; decided
through the workflow API."""

import datetime

import rules
from rest_framework import mixins, serializers, viewsets

from budgets import permissions as policy
from budgets.models import BudgetLine, Transfer, TransferKind
from budgets.transfers import services
from campaigns.api.common import VisibleRelatedField, money_field
from mops.api_base import Policy
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
