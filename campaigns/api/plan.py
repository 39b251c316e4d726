"""Programs and campaigns: plain resources, plus one action per status command on a campaign."""

import django_filters
import rules
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import permissions as policy
from campaigns import services
from campaigns.api.common import CurrencyField, VisibleRelatedField, active_users, money_field, money_sum_field
from campaigns.facts.selectors import with_totals
from campaigns.models import Campaign, CampaignStatus, Program
from mops.api_base import Policy
from mops.models import Team
from mops.permissions import is_marketer, teams_visible_to

# --- programs -------------------------------------------------------------------------------


class ProgramSerializer(serializers.ModelSerializer):
    team = VisibleRelatedField(model=Team, visible=teams_visible_to, required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=active_users(), required=False, allow_null=True)

    class Meta:
        model = Program
        fields = ["id", "name", "code", "team", "objective", "owner", "description", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"code": {"required": False}}


class ProgramViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Programs group campaigns; everyone signed in reads them, marketers and ops admins manage them."""

    serializer_class = ProgramSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "create": policy.can_manage_programs,
        "update": policy.can_edit_program,  # a team's program: that team's marketers (and ops admins)
        "partial_update": policy.can_edit_program,
    }
    filterset_fields = ["team", "objective", "is_active"]
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "created_at"]

    def get_queryset(self):
        return policy.programs_visible_to(self.request.user).order_by("name", "id")

    def perform_create(self, serializer):
        serializer.instance = services.program_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.program_update(
            actor=self.request.user, program=serializer.instance, **serializer.validated_data
        )


# --- campaigns ------------------------------------------------------------------------------


class CampaignTotalsSerializer(serializers.Serializer):
    """Facts logged so far, all sources: spend in the base currency, results as summed (sums: as wide
    as the sum of every allowed amount)."""

    spend_base = money_sum_field()
    leads = serializers.IntegerField(read_only=True)
    pipeline = money_sum_field()
    revenue = money_sum_field()


class CampaignSerializer(serializers.ModelSerializer):
    # A team the user does not see is "does not exist" (docs/api.md); one they see but may not
    # create for (the CMO's, finance's) is the service's 403.
    team = VisibleRelatedField(model=Team, visible=teams_visible_to)
    program = VisibleRelatedField(model=Program, visible=policy.programs_usable_by, required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, help_text="Defaults to the user creating the campaign."
    )
    currency = CurrencyField(required=False, help_text="Defaults to the base currency.")
    planned_cost = money_field(required=False)
    planned_cost_base = money_field(read_only=True)
    expected_pipeline = money_field(required=False)
    expected_revenue = money_field(required=False)
    totals = CampaignTotalsSerializer(source="*", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "code",
            "program",
            "team",
            "owner",
            "channel",
            "region",
            "segment",
            "objective",
            "status",
            "start_date",
            "end_date",
            "description",
            "planned_cost",
            "currency",
            "planned_cost_base",
            "expected_leads",
            "expected_mqls",
            "expected_pipeline",
            "expected_revenue",
            "landing_url",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
            "created_at",
            "updated_at",
            "totals",
        ]
        # The status changes only through the actions (``…/status/``, ``…/submit-for-launch/``).
        read_only_fields = ["id", "status", "created_at", "updated_at"]
        extra_kwargs = {
            "code": {"required": False, "help_text": "Defaults to the slugified name; the join key of imports."},
            "utm_campaign": {"help_text": "Defaults to the code."},
        }

    def validate(self, attrs):
        # The database refuses it too (campaign_end_after_start); this names the field.
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": ["The end date cannot be before the start date."]})
        return attrs


class CampaignStatusRequestSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CampaignStatus.choices)


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    team_slug = django_filters.CharFilter(field_name="team__slug", help_text="Team slug (or filter by id: team).")
    # Campaigns running at some point in [date_from, date_to] (the calendar's question).
    date_from = django_filters.DateFilter(field_name="end_date", lookup_expr="gte", help_text="Ends on or after.")
    date_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte", help_text="Starts on or before.")

    class Meta:
        model = Campaign
        fields = {
            "team": ["exact"],
            "program": ["exact"],
            "channel": ["exact"],
            "owner": ["exact"],
            "region": ["exact"],
            "segment": ["exact"],
            "objective": ["exact"],
            "start_date": ["gte", "lte"],
            "end_date": ["gte", "lte"],
        }


class CampaignViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Campaigns with their totals. No delete: cancel through ``POST …/status/`` instead."""

    serializer_class = CampaignSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows: campaigns_visible_to
        "retrieve": policy.can_view_campaign,
        "create": is_marketer,  # for which team: campaign_create decides (403 with the reason)
        "update": policy.can_edit_campaign,
        "partial_update": policy.can_edit_campaign,
        "set_status": policy.can_edit_campaign,
        "submit_for_launch": policy.can_edit_campaign,
        "delete": rules.is_authenticated,  # there is no delete: let DRF answer 405 rather than 403
    }
    filterset_class = CampaignFilter
    search_fields = ["name", "code"]
    ordering_fields = [
        "name",
        "code",
        "start_date",
        "end_date",
        "planned_cost_base",
        "created_at",
        "spend_base",
        "leads",
        "pipeline",
        "revenue",
    ]

    def get_queryset(self):
        return with_totals(policy.campaigns_visible_to(self.request.user)).order_by("-start_date", "name", "id")

    def _reloaded(self, campaign):
        return self.get_queryset().get(pk=campaign.pk)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        campaign = services.campaign_create(actor=self.request.user, team=data.pop("team"), **data)
        serializer.instance = self._reloaded(campaign)

    def perform_update(self, serializer):
        campaign = services.campaign_update(
            actor=self.request.user, campaign=serializer.instance, **serializer.validated_data
        )
        serializer.instance = self._reloaded(campaign)

    @extend_schema(request=CampaignStatusRequestSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request, pk=None):
        """Move the campaign to another status (draft ⇄ planned → live → completed, or cancelled)."""
        campaign = self.get_object()
        body = CampaignStatusRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.campaign_set_status(actor=request.user, campaign=campaign, status=body.validated_data["status"])
        return Response(CampaignSerializer(self._reloaded(campaign)).data)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "CampaignLaunchSubmitted",
            {"campaign": CampaignSerializer(), "workflow_instance": serializers.IntegerField()},
        ),
    )
    @action(detail=True, methods=["post"], url_path="submit-for-launch", url_name="submit-for-launch")
    def submit_for_launch(self, request, pk=None):
        """Start the launch workflow on a planned campaign; it goes live when the workflow approves."""
        campaign = self.get_object()
        instance = services.campaign_submit_for_launch(actor=request.user, campaign=campaign)
        # The workflow may have finished at once (no step applied) and set the status meanwhile.
        return Response(
            {"campaign": CampaignSerializer(self._reloaded(campaign)).data, "workflow_instance": instance.pk}
        )
