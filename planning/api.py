from collections.abc import Mapping
from decimal import Decimal, DecimalException

import rules
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from mops.api_base import Policy
from mops.money import check_money_bound
from planning import permissions as policy
from planning import services
from planning.kpis import MONEY_KPIS, Kpi
from planning.models import Channel, FiscalYear, KpiTarget, Objective, Period, Region, Segment


class _TaxonomyViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Reference data: every signed-in user reads; ops admins create and change through services."""

    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "create": policy.can_manage_taxonomy,
        "update": policy.can_manage_taxonomy,
        "partial_update": policy.can_manage_taxonomy,
    }
    create_service = update_service = None
    update_kwarg = ""

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            actor=self.request.user, **{self.update_kwarg: serializer.instance}, **serializer.validated_data
        )


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "name", "slug", "group", "description", "is_active"]
        read_only_fields = ["id"]
        extra_kwargs = {"slug": {"required": False}}


class ChannelViewSet(_TaxonomyViewSet):
    serializer_class = ChannelSerializer
    filterset_fields = ["group", "is_active"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "group"]
    create_service, update_service, update_kwarg = services.channel_create, services.channel_update, "channel"

    def get_queryset(self):
        return policy.channels_visible_to(self.request.user).order_by("group", "name")


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "code", "is_active"]
        read_only_fields = ["id"]
        extra_kwargs = {"code": {"required": False}}


class RegionViewSet(_TaxonomyViewSet):
    serializer_class = RegionSerializer
    filterset_fields = ["is_active"]
    search_fields = ["name", "code"]
    create_service, update_service, update_kwarg = services.region_create, services.region_update, "region"

    def get_queryset(self):
        return policy.regions_visible_to(self.request.user).order_by("name")


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "code", "kind", "is_active"]
        read_only_fields = ["id"]
        extra_kwargs = {"code": {"required": False}}


class SegmentViewSet(_TaxonomyViewSet):
    serializer_class = SegmentSerializer
    filterset_fields = ["kind", "is_active"]
    search_fields = ["name", "code"]
    create_service, update_service, update_kwarg = services.segment_create, services.segment_update, "segment"

    def get_queryset(self):
        return policy.segments_visible_to(self.request.user).order_by("kind", "name")


class FiscalYearSerializer(serializers.ModelSerializer):
    class Meta:
        model = FiscalYear
        fields = ["id", "year", "start_date", "end_date"]


class FiscalYearViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FiscalYearSerializer

    def get_queryset(self):
        return policy.fiscal_years_visible_to(self.request.user)


class PeriodSerializer(serializers.ModelSerializer):
    fiscal_year = serializers.IntegerField(source="fiscal_year.year", read_only=True)
    closed_by = serializers.CharField(source="closed_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Period
        fields = [
            "id",
            "fiscal_year",
            "start_date",
            "end_date",
            "fiscal_quarter",
            "is_closed",
            "closed_at",
            "closed_by",
        ]


class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """Months of the fiscal calendar. ``POST …/close/`` and ``…/reopen/`` (finance)."""

    serializer_class = PeriodSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "close": policy.can_close_periods,
        "reopen": policy.can_close_periods,
    }
    filterset_fields = {"fiscal_year__year": ["exact"], "is_closed": ["exact"], "start_date": ["gte", "lte"]}

    def get_queryset(self):
        return policy.periods_visible_to(self.request.user).select_related("closed_by").order_by("start_date")

    @extend_schema(request=None, responses=PeriodSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return Response(PeriodSerializer(services.period_close(actor=request.user, period=self.get_object())).data)

    @extend_schema(request=None, responses=PeriodSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return Response(PeriodSerializer(services.period_reopen(actor=request.user, period=self.get_object())).data)


class KpiTargetSerializer(serializers.ModelSerializer):
    period_start = serializers.DateField(source="period.start_date", read_only=True)

    class Meta:
        model = KpiTarget
        fields = ["id", "objective", "kpi", "period", "period_start", "target_value"]


class ObjectiveSerializer(serializers.ModelSerializer):
    fiscal_year = serializers.SlugRelatedField(slug_field="year", queryset=FiscalYear.objects.all())
    targets = KpiTargetSerializer(many=True, read_only=True)

    class Meta:
        model = Objective
        fields = ["id", "fiscal_year", "name", "description", "owner", "is_active", "targets"]
        read_only_fields = ["id", "targets"]


class TargetsRequestSerializer(serializers.Serializer):
    kpi = serializers.ChoiceField(choices=Kpi.choices)
    values = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=4, min_value=0, allow_null=True),
        help_text='Month start date → target, e.g. {"2026-01-01": "1500", "2026-02-01": null}; null removes.',
    )

    def to_internal_value(self, data):
        # A money KPI's targets obey the money bound, with its message: checked before the decimal
        # field, which would call NaN "not a valid number" and 1e308 too many digits.
        if isinstance(data, Mapping) and data.get("kpi") in MONEY_KPIS and isinstance(data.get("values"), Mapping):
            errors = []
            for month, value in data["values"].items():
                if value is None:
                    continue  # removes the month's target
                try:
                    number = Decimal(str(value).strip())
                except DecimalException:
                    continue  # not a number: the field's own message
                try:
                    check_money_bound(number, what=f"The target for {month}")
                except DjangoValidationError as exc:
                    errors.extend(exc.messages)
            if errors:
                raise serializers.ValidationError({"values": errors})
        return super().to_internal_value(data)


class ObjectiveViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ObjectiveSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "create": policy.can_manage_objectives,
        "update": policy.can_manage_objectives,
        "partial_update": policy.can_manage_objectives,
        "targets": policy.can_manage_objectives,
    }
    filterset_fields = {"fiscal_year__year": ["exact"], "is_active": ["exact"]}
    search_fields = ["name"]

    def get_queryset(self):
        return (
            policy.objectives_visible_to(self.request.user)
            .select_related("fiscal_year")
            .prefetch_related("targets__period")
        )

    def perform_create(self, serializer):
        serializer.instance = services.objective_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.objective_update(
            actor=self.request.user, objective=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request=TargetsRequestSerializer,
        responses=inline_serializer("TargetsSet", {"targets": KpiTargetSerializer(many=True)}),
    )
    @action(detail=True, methods=["post"])
    def targets(self, request, pk=None):
        """Set one KPI's monthly targets (by month start date) for this objective."""
        objective = self.get_object()
        body = TargetsRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        periods = {p.start_date.isoformat(): p for p in objective.fiscal_year.periods.all()}
        unknown = [month for month in body.validated_data["values"] if month not in periods]
        if unknown:
            raise serializers.ValidationError(
                {"values": [f"Not a month start of {objective.fiscal_year}: {m}" for m in unknown]}
            )
        values = {periods[month]: value for month, value in body.validated_data["values"].items()}
        services.targets_set(actor=request.user, objective=objective, kpi=body.validated_data["kpi"], values=values)
        targets = objective.targets.filter(kpi=body.validated_data["kpi"]).select_related("period")
        return Response({"targets": KpiTargetSerializer(targets, many=True).data})


router = SimpleRouter()
router.register("channels", ChannelViewSet, basename="channel")
router.register("regions", RegionViewSet, basename="region")
router.register("segments", SegmentViewSet, basename="segment")
router.register("fiscal-years", FiscalYearViewSet, basename="fiscal-year")
router.register("periods", PeriodViewSet, basename="period")
router.register("objectives", ObjectiveViewSet, basename="objective")
urlpatterns = router.urls
