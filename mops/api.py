"""Core API: tokens, the current user, teams, currencies and FX rates."""

from decimal import Decimal

import rules
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from mops import lockout, selectors, services
from mops import permissions as policy
from mops.api_base import Policy
from mops.api_schema import ErrorDetailSerializer
from mops.models import Currency, FxRate, Team
from mops.roles import user_roles


class TokenRequestSerializer(serializers.Serializer):
    # Bounded like the login page's form: a longer username cannot exist (and would not fit the
    # lock-out's record of the failure); a password has no business being megabytes long.
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, max_length=4096)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class LoginThrottle(AnonRateThrottle):
    rate = "20/min"


class TokenView(APIView):
    """``POST`` username and password for an API token; ``DELETE`` (authenticated) revokes it."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self):
        return [LoginThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            429: OpenApiResponse(
                ErrorDetailSerializer, description="Too many requests, or locked out after too many failed log-ins."
            ),
        },
        auth=[],
    )
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None and lockout.is_locked_out(request):
            return Response(
                {"detail": lockout.locked_out_message()},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))},
            )
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with the given username and password."]}
            )
        # A log-in like the page's: clears this username + address's failures (AXES_RESET_ON_SUCCESS)
        # and sets last_login.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @extend_schema(responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
                "teams": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request):
        teams = [
            {"slug": m.team.slug, "name": m.team.name, "is_lead": m.is_lead}
            for m in request.user.memberships.select_related("team").order_by("team__name")
        ]
        return Response({"username": request.user.username, "roles": sorted(user_roles(request.user)), "teams": teams})


class TeamSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)
    lead_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "description", "is_active", "member_count", "lead_count", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"slug": {"required": False}}


class TeamViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows filtered by teams_visible_to in the selector
        "retrieve": policy.can_view_team,
        "create": policy.can_manage_teams,
        "update": policy.can_manage_teams,
        "partial_update": policy.can_manage_teams,
    }
    lookup_field = "slug"
    filterset_fields = ["is_active"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.team_list(user=self.request.user)

    def perform_create(self, serializer):
        team = services.team_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=team.pk)  # with its member and lead counts

    def perform_update(self, serializer):
        team = services.team_update(actor=self.request.user, team=serializer.instance, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=team.pk)  # with its member and lead counts


class CurrencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Currency
        fields = ["code", "name", "decimal_places", "is_active"]


class CurrencyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CurrencySerializer
    pagination_class = None
    lookup_field = "code"

    def get_queryset(self):
        return policy.currencies_visible_to(self.request.user)


class FxRateSerializer(serializers.ModelSerializer):
    currency = serializers.SlugRelatedField(slug_field="code", queryset=Currency.objects.filter(is_active=True))
    rate = serializers.DecimalField(max_digits=20, decimal_places=10, min_value=Decimal("0.0000000001"))

    class Meta:
        model = FxRate
        fields = ["id", "currency", "date", "rate", "source"]
        read_only_fields = ["id"]
        validators = []  # a second rate for the same day replaces the first (audited by the service)


class FxRateViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = FxRateSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # exchange rates are reference data
        "retrieve": rules.is_authenticated,
        "create": policy.can_manage_fx_rates,
    }
    filterset_fields = ["currency", "date"]
    ordering_fields = ["date"]

    def get_queryset(self):
        return policy.fx_rates_visible_to(self.request.user).order_by("-date", "currency_id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.fx_rate_set(
            actor=self.request.user,
            currency=data["currency"].code,
            date=data["date"],
            rate=data["rate"],
            source=data.get("source", ""),
        )
