"""General approval requests (starting their workflow) and delegations."""

import django_filters
import rules
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.functions import Cast
from rest_framework import mixins, serializers, viewsets

from mops.api_base import Policy, money_field
from mops.models import Team
from mops.permissions import teams_visible_to
from workflows import permissions, selectors, services, subjects
from workflows.api.common import TeamField, active_users
from workflows.models import (
    OPEN_INSTANCE_STATES,
    Delegation,
    Request,
    TemplateStatus,
    WorkflowInstance,
    WorkflowTemplate,
)

# --- general requests -----------------------------------------------------------------------


def _with_instance_ids(queryset):
    """Annotate each request with its open workflow and its latest one (ids), in the list's query."""
    instances = WorkflowInstance.objects.filter(
        subject_content_type=ContentType.objects.get_for_model(Request),
        subject_id=Cast(OuterRef("pk"), output_field=CharField()),
    ).order_by("-started_at", "-id")
    return queryset.annotate(
        open_instance=Subquery(instances.filter(status__in=OPEN_INSTANCE_STATES).values("pk")[:1]),
        instance=Subquery(instances.values("pk")[:1]),
    )


class RequestSerializer(serializers.ModelSerializer):
    template = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=WorkflowTemplate.objects.filter(status=TemplateStatus.ACTIVE),
        write_only=True,
        required=False,
        help_text="Slug of an active general-request template; the newest such template when left out.",
    )
    team = TeamField(
        queryset=Team.objects.filter(is_active=True), visible=teams_visible_to, help_text="Team id or slug."
    )
    amount = money_field(required=False, allow_null=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    open_instance = serializers.IntegerField(read_only=True, allow_null=True, help_text="The running workflow.")
    instance = serializers.IntegerField(read_only=True, allow_null=True, help_text="The latest workflow.")

    class Meta:
        model = Request
        fields = [
            "id",
            "title",
            "description",
            "team",
            "amount",
            "currency",
            "amount_base",
            "status",
            "requested_by",
            "created_at",
            "template",
            "open_instance",
            "instance",
        ]
        read_only_fields = ["id", "amount_base", "status", "requested_by", "created_at"]

    def validate(self, attrs):
        if attrs.get("template") is None:
            attrs["template"] = selectors.active_template_for(subjects.GENERAL_REQUEST)
            if attrs["template"] is None:
                raise serializers.ValidationError(
                    {"template": ["There is no active general request template; ask an ops admin to create one."]}
                )
        return attrs


class RequestFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug", help_text="Team slug.")

    class Meta:
        model = Request
        fields = ["status", "team"]


class RequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """General approval requests. Creating one starts its workflow in the same transaction."""

    serializer_class = RequestSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "create": rules.is_authenticated,  # for which teams: request_create decides (403 with the reason)
    }
    filterset_class = RequestFilter
    search_fields = ["title"]
    ordering_fields = ["created_at", "amount_base"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Request.objects.none()
        return _with_instance_ids(
            permissions.requests_visible_to(self.request.user).select_related("team", "requested_by")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        request = subjects.request_create(
            actor=self.request.user,
            template=data["template"],
            title=data["title"],
            team=data["team"],
            description=data.get("description", ""),
            amount=data.get("amount"),
            currency=data.get("currency", ""),
        )
        serializer.instance = self.get_queryset().get(pk=request.pk)


# --- delegations ----------------------------------------------------------------------------


class DelegationSerializer(serializers.ModelSerializer):
    delegator = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, help_text="User id; yourself when left out."
    )
    delegate = serializers.PrimaryKeyRelatedField(queryset=active_users(), help_text="User id.")
    delegator_username = serializers.CharField(source="delegator.username", read_only=True)
    delegate_username = serializers.CharField(source="delegate.username", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Delegation
        fields = [
            "id",
            "delegator",
            "delegator_username",
            "delegate",
            "delegate_username",
            "starts_on",
            "ends_on",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class DelegationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """While a delegation runs, the delegate may act on every step waiting for the delegator."""

    serializer_class = DelegationSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "create": rules.is_authenticated,  # for whom: delegation_create decides (403 with the reason)
    }
    filterset_fields = ["delegator", "delegate"]
    ordering_fields = ["starts_on", "ends_on"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delegation.objects.none()
        return permissions.delegations_visible_to(self.request.user).select_related(
            "delegator", "delegate", "created_by"
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.delegation_create(
            actor=self.request.user,
            delegator=data.get("delegator", self.request.user),
            delegate=data["delegate"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
