import rules
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter

from mops.api_base import Policy
from planning import services
from planning.models import Channel, FiscalYear
from planning.permissions import can_manage_taxonomy, channels_visible_to, fiscal_years_visible_to


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "name", "slug", "group", "description", "is_active"]
        read_only_fields = ["id"]
        extra_kwargs = {"slug": {"required": False}}


class ChannelViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ChannelSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "create": can_manage_taxonomy,
        "update": can_manage_taxonomy,
        "partial_update": can_manage_taxonomy,
    }
    filterset_fields = ["group", "is_active"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "group"]

    def get_queryset(self):
        return channels_visible_to(self.request.user).order_by("group", "name")

    def perform_create(self, serializer):
        serializer.instance = services.channel_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.channel_update(
            actor=self.request.user, channel=serializer.instance, **serializer.validated_data
        )


class FiscalYearSerializer(serializers.ModelSerializer):
    class Meta:
        model = FiscalYear
        fields = ["id", "year", "start_date", "end_date"]


class FiscalYearViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FiscalYearSerializer

    def get_queryset(self):
        return fiscal_years_visible_to(self.request.user)


router = SimpleRouter()
router.register("channels", ChannelViewSet, basename="channel")
router.register("fiscal-years", FiscalYearViewSet, basename="fiscal-year")
urlpatterns = router.urls
