"""Allocation requests API: create (→ ``allocation_request_create``), read what the user may see, and
decide the user's waiting step with ``POST …/approve/``, ``…/reject/`` or ``…/return/``."""

import rules
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets import permissions as policy
from budgets.models import BUDGET_ALLOCATION, AllocationRequest, BudgetLine, RequestStatus
from budgets.requests import selectors as request_selectors
from budgets.requests import services
from campaigns.api.common import CurrencyField, VisibleRelatedField, money_field
from campaigns.models import Campaign, Program
from campaigns.permissions import campaigns_visible_to, programs_usable_by
from mops.api_base import Policy
from mops.errors import Conflict
from planning.models import Period
from workflows import selectors as workflow_selectors
from workflows import services as workflow_services
from workflows.permissions import instance_refusal


class RequestMonthSerializer(serializers.Serializer):
    month = serializers.DateField(
        source="period.start_date", help_text="The month (any day of it; its first day in answers)."
    )
    amount = money_field(help_text="In the request's currency.")
    amount_base = money_field(read_only=True)


class AllocationRequestSerializer(serializers.ModelSerializer):
    line = VisibleRelatedField(model=BudgetLine, visible=policy.lines_visible_to)
    campaign = VisibleRelatedField(model=Campaign, visible=campaigns_visible_to, required=False, allow_null=True)
    program = VisibleRelatedField(model=Program, visible=programs_usable_by, required=False, allow_null=True)
    currency = CurrencyField()
    months = RequestMonthSerializer(many=True)

    class Meta:
        model = AllocationRequest
        fields = [
            "id",
            "line",
            "campaign",
            "program",
            "team",
            "requested_by",
            "justification",
            "currency",
            "amount",
            "amount_base",
            "fx_rate",
            "status",
            "months",
            "created_at",
            "decided_at",
        ]
        read_only_fields = [
            "id",
            "team",
            "requested_by",
            "amount",
            "amount_base",
            "fx_rate",
            "status",
            "created_at",
            "decided_at",
        ]

    def validate_months(self, value):
        starts = [item["period"]["start_date"].replace(day=1) for item in value]
        periods = {p.start_date: p for p in Period.objects.filter(start_date__in=starts)}
        missing = sorted({s for s in starts if s not in periods})
        if missing:
            raise serializers.ValidationError([f"No fiscal month holds {day:%Y-%m}." for day in missing])
        if len(set(starts)) != len(starts):
            raise serializers.ValidationError("Give each month once.")
        return {periods[start]: item["amount"] for start, item in zip(starts, value, strict=True)}


class DecisionCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, help_text="Required to reject or return.")


class AllocationRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Requests for money: marketers see their teams', finance and the CMO all. Approval runs through
    the "Budget allocation request" workflow; the decision actions act on the step waiting for the user."""

    serializer_class = AllocationRequestSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows: requests_visible_to
        "retrieve": rules.is_authenticated,
        "create": policy.can_request_from,
        "approve": rules.is_authenticated,  # whose step it is: decided below, 403 with the reason
        "reject": rules.is_authenticated,
        "return_": rules.is_authenticated,
    }
    filterset_fields = ["status", "line", "campaign", "team"]
    ordering_fields = ["created_at", "amount_base"]

    def get_queryset(self):
        return request_selectors.request_queryset(policy.requests_visible_to(self.request.user)).order_by(
            "-created_at", "-id"
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.allocation_request_create(actor=self.request.user, **data)

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data = self.get_serializer(self.get_queryset().get(pk=response.data["id"])).data
        return response

    def _decide(self, request, what: str):
        allocation_request = self.get_object()
        comment = DecisionCommentSerializer(data=request.data)
        comment.is_valid(raise_exception=True)
        if allocation_request.status != RequestStatus.PENDING:
            raise Conflict(f"This request is already {allocation_request.get_status_display().lower()}.")
        instance = workflow_selectors.open_instance_of(allocation_request)
        task = (
            workflow_selectors.my_tasks(request.user, subject_type=BUDGET_ALLOCATION).filter(instance=instance).first()
            if instance
            else None
        )
        if task is None:
            # The engine's reason (separation of duties for the requester), not a generic one.
            reason = instance_refusal(request.user, instance, what) if instance else None
            raise PermissionDenied(reason or "No step of this request is waiting for you.")
        workflow_services.task_act(
            actor=request.user, task=task, action=what, comment=comment.validated_data.get("comment", "")
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=allocation_request.pk)).data)

    @extend_schema(request=DecisionCommentSerializer, responses=AllocationRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, "approve")

    @extend_schema(request=DecisionCommentSerializer, responses=AllocationRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, "reject")

    @extend_schema(request=DecisionCommentSerializer, responses=AllocationRequestSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        return self._decide(request, "return")
