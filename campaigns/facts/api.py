"""Spend entries and daily results: single rows and all-or-nothing bulk posts.

A bulk post is checked whole before anything is written — the shape of every item here, then what
the services would refuse (``facts.services.fact_batch_errors``: the campaign is not the user's, a
closed month, no exchange rate) — and answered with every refused item's index; only a clean batch
is written, in one transaction, through the same services as a single row.
"""

import django_filters
import rules
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import permissions as policy
from campaigns import services
from campaigns.api.common import (
    BulkErrorSerializer,
    BulkOutcomeSerializer,
    CurrencyField,
    VisibleRelatedField,
    bulk_error_response,
    bulk_outcome_response,
    money_field,
    validate_items,
)
from campaigns.facts import services as fact_services
from campaigns.models import RESULT_MEASURES, Campaign, FactSource, ResultFact, SpendEntry, Tactic
from mops.api_base import Policy
from mops.permissions import is_marketer

# A fact is governed by its campaign's rules.
can_view_fact = rules.predicate(
    lambda user, fact: policy.can_view_campaign.test(user, fact.campaign), name="can_view_fact"
)
can_edit_fact = rules.predicate(
    lambda user, fact: policy.can_edit_campaign.test(user, fact.campaign), name="can_edit_fact"
)


def _tactics_visible_to(user):
    return Tactic.objects.filter(campaign__in=policy.campaigns_visible_to(user))


def _campaign_field(**kwargs):
    return VisibleRelatedField(model=Campaign, visible=policy.campaigns_visible_to, **kwargs)


class FactDateFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    source = django_filters.ChoiceFilter(choices=FactSource.choices)


def _created_or_ok(outcome: str) -> int:
    return status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK


# --- spend ----------------------------------------------------------------------------------


class SpendSerializer(serializers.ModelSerializer):
    campaign = _campaign_field()
    tactic = VisibleRelatedField(model=Tactic, visible=_tactics_visible_to, required=False, allow_null=True)
    amount = money_field()
    currency = CurrencyField()
    amount_base = money_field(read_only=True)
    external_key = serializers.CharField(
        max_length=120,
        required=False,
        allow_null=True,
        help_text="Your id for the row: posting the same campaign, date and key again updates it, never duplicates.",
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = SpendEntry
        fields = [
            "id",
            "campaign",
            "tactic",
            "date",
            "amount",
            "currency",
            "amount_base",
            "vendor",
            "reference",
            "note",
            "source",
            "external_key",
            "created_by",
            "created_at",
            "updated_at",
        ]
        # Everything written through the API is source "api"; the key is the upsert's, not a constraint error.
        read_only_fields = ["id", "source", "created_at", "updated_at"]
        validators = []

    def validate(self, attrs):
        campaign = attrs.get("campaign", getattr(self.instance, "campaign", None))
        tactic = attrs.get("tactic")
        if tactic is not None and campaign is not None and tactic.campaign_id != campaign.pk:
            raise serializers.ValidationError({"tactic": ["That tactic belongs to another campaign."]})
        return attrs


class SpendUpdateSerializer(SpendSerializer):
    """Campaign and key identify an entry; a wrong campaign is a new entry (and a delete)."""

    campaign = serializers.PrimaryKeyRelatedField(read_only=True)
    external_key = serializers.CharField(read_only=True, allow_null=True)


class SpendWrittenSerializer(SpendSerializer):
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"], read_only=True)

    class Meta(SpendSerializer.Meta):
        fields = [*SpendSerializer.Meta.fields, "outcome"]


class SpendFilter(FactDateFilter):
    class Meta:
        model = SpendEntry
        fields = ["campaign", "tactic", "source", "currency"]


class SpendViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Money spent on campaigns. In a month finance closed nothing can be added, changed or deleted."""

    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows: spend_visible_to
        "retrieve": can_view_fact,
        "create": is_marketer,  # on which campaign: the service decides (403 with the reason)
        "update": can_edit_fact,
        "partial_update": can_edit_fact,
        "destroy": can_edit_fact,
        "bulk": is_marketer,
    }
    filterset_class = SpendFilter
    search_fields = ["vendor", "reference", "note", "campaign__code"]
    ordering_fields = ["date", "amount_base", "created_at"]

    def get_serializer_class(self):
        return SpendUpdateSerializer if self.action in ("update", "partial_update") else SpendSerializer

    def get_queryset(self):
        return (
            policy.spend_visible_to(self.request.user).select_related("campaign", "created_by").order_by("-date", "-id")
        )

    @extend_schema(request=SpendSerializer, responses={201: SpendWrittenSerializer, 200: SpendWrittenSerializer})
    def create(self, request, *args, **kwargs):
        """Log spend (201). With an ``external_key`` it is an upsert: 200 when the row existed."""
        serializer = SpendSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        key = data.pop("external_key", None)
        if key:
            written = fact_services.spend_upsert(actor=request.user, external_key=key, **data)
            entry, outcome = written.entry, written.outcome
        else:
            entry, outcome = services.spend_log(actor=request.user, source=FactSource.API, **data), "created"
        entry.outcome = outcome
        return Response(
            SpendWrittenSerializer(entry, context=self.get_serializer_context()).data, status=_created_or_ok(outcome)
        )

    def perform_update(self, serializer):
        serializer.instance = services.spend_update(
            actor=self.request.user, entry=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.spend_delete(actor=self.request.user, entry=instance)

    @extend_schema(
        request=SpendSerializer(many=True),
        responses={
            201: BulkOutcomeSerializer,
            400: OpenApiResponse(BulkErrorSerializer, description="Nothing was written; every refused item named."),
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Log many spend rows at once, all or nothing. Rows with an ``external_key`` are upserts,
        so re-posting the same batch changes nothing."""
        child = SpendSerializer(context=self.get_serializer_context())
        rows, errors = validate_items(child, request.data)
        if errors:  # report what the services would refuse among the others too, in the same answer
            return bulk_error_response({**errors, **fact_services.fact_batch_errors(actor=request.user, rows=rows)})
        try:
            outcomes = fact_services.spend_batch_write(actor=request.user, rows=[rows[i] for i in sorted(rows)])
        except fact_services.BatchInvalid as exc:
            return bulk_error_response(exc.errors)
        return bulk_outcome_response(outcomes)


# --- results --------------------------------------------------------------------------------


class ResultSerializer(serializers.ModelSerializer):
    campaign = _campaign_field()
    source = serializers.ChoiceField(choices=FactSource.choices, default=FactSource.API)
    pipeline = money_field(required=False)
    revenue = money_field(required=False)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ResultFact
        fields = ["id", "campaign", "date", "source", *RESULT_MEASURES, "updated_by", "updated_at"]
        read_only_fields = ["id", "updated_at"]
        validators = []  # (campaign, date, source) is the upsert's key, not a constraint error


class ResultUpdateSerializer(ResultSerializer):
    """Campaign, date and source identify the row; an update changes measures only."""

    campaign = serializers.PrimaryKeyRelatedField(read_only=True)
    date = serializers.DateField(read_only=True)
    source = serializers.ChoiceField(choices=FactSource.choices, read_only=True)


class ResultWrittenSerializer(ResultSerializer):
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"], read_only=True)

    class Meta(ResultSerializer.Meta):
        fields = [*ResultSerializer.Meta.fields, "outcome"]


class ResultFilter(FactDateFilter):
    class Meta:
        model = ResultFact
        fields = ["campaign", "source"]


def _measures(data: dict) -> dict:
    return {measure: data[measure] for measure in RESULT_MEASURES if measure in data}


class ResultViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A campaign's daily results, one row per campaign, day and source; posting a day again updates it."""

    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows: results_visible_to
        "retrieve": can_view_fact,
        "create": is_marketer,
        "update": can_edit_fact,
        "partial_update": can_edit_fact,
        "bulk": is_marketer,
    }
    filterset_class = ResultFilter
    ordering_fields = ["date", "leads", "pipeline", "revenue"]

    def get_serializer_class(self):
        return ResultUpdateSerializer if self.action in ("update", "partial_update") else ResultSerializer

    def get_queryset(self):
        return (
            policy.results_visible_to(self.request.user)
            .select_related("campaign", "updated_by")
            .order_by("-date", "campaign_id", "source")
        )

    def _written(self, upserted, *, created_status: int) -> Response:
        upserted.fact.outcome = upserted.outcome
        body = ResultWrittenSerializer(upserted.fact, context=self.get_serializer_context()).data
        return Response(body, status=created_status if upserted.outcome == "created" else status.HTTP_200_OK)

    @extend_schema(request=ResultSerializer, responses={201: ResultWrittenSerializer, 200: ResultWrittenSerializer})
    def create(self, request, *args, **kwargs):
        """Set a campaign's results for a day and source (default "api"): 201 when new, else 200
        with ``outcome`` "updated" or "unchanged". Measures left out keep their value."""
        serializer = ResultSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upserted = services.results_log(
            actor=request.user,
            campaign=data["campaign"],
            date=data["date"],
            source=data["source"],
            **_measures(data),
        )
        return self._written(upserted, created_status=status.HTTP_201_CREATED)

    @extend_schema(request=ResultUpdateSerializer, responses=ResultWrittenSerializer)
    def update(self, request, *args, **kwargs):
        fact = self.get_object()
        serializer = ResultUpdateSerializer(
            fact, data=request.data, partial=kwargs.get("partial", False), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        upserted = services.results_log(
            actor=request.user,
            campaign=fact.campaign,
            date=fact.date,
            source=fact.source,
            **_measures(serializer.validated_data),
        )
        return self._written(upserted, created_status=status.HTTP_200_OK)

    @extend_schema(request=ResultUpdateSerializer, responses=ResultWrittenSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        request=ResultSerializer(many=True),
        responses={
            201: BulkOutcomeSerializer,
            400: OpenApiResponse(BulkErrorSerializer, description="Nothing was written; every refused item named."),
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Set many days of results at once, all or nothing; re-posting the same rows changes nothing."""
        child = ResultSerializer(context=self.get_serializer_context())
        rows, errors = validate_items(child, request.data)
        if errors:  # report what the services would refuse among the others too, in the same answer
            return bulk_error_response({**errors, **fact_services.fact_batch_errors(actor=request.user, rows=rows)})
        ordered = [
            {"campaign": row["campaign"], "date": row["date"], "source": row["source"], **_measures(row)}
            for _, row in sorted(rows.items())
        ]
        try:
            outcomes = fact_services.results_batch_write(actor=request.user, rows=ordered)
        except fact_services.BatchInvalid as exc:
            return bulk_error_response(exc.errors)
        return bulk_outcome_response(outcomes)
