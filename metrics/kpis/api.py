"""The KPI API. Each endpoint has its own section below; all are registered at the bottom, on one
router plus plain paths (mounted under ``/api/v1/`` by ``metrics.api``).

- KPI definitions: ``/api/v1/kpi-definitions/`` — the catalogue (measures, built-ins, custom KPIs),
  and the ops admin's writes to custom KPIs through ``metrics.kpis.services``.
- KPI reads: ``/api/v1/kpis/`` (KPIs grouped any way the dashboards cut) and ``/api/v1/rollups/status/``
  (the rollups' freshness). Both read rollups only.
"""

from django.conf import settings
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from metrics.kpis import catalogue as kpis
from metrics.kpis import permissions as policy
from metrics.kpis import selectors as kpi_selectors
from metrics.kpis import services as kpi_services
from metrics.kpis.models import KpiDefinition, KpiDirection, KpiUnit
from metrics.rollups import selectors
from metrics.rollups.forms import DashboardFilterForm
from mops.api_base import Policy
from mops.errors import Conflict

# === KPI definitions =============================================================================


class KpiDefinitionSerializer(serializers.Serializer):
    """One KPI of the catalogue: a base measure, a built-in or (the current version of) a custom KPI."""

    code = serializers.CharField(help_text="Used in formulas, in /api/v1/kpis/?metrics=… and in exports.")
    name = serializers.CharField()
    formula = serializers.CharField(help_text="A measure's formula is its own code.")
    unit = serializers.ChoiceField(choices=KpiUnit.choices, help_text="Also how values are shown.")
    direction = serializers.ChoiceField(choices=KpiDirection.choices)
    description = serializers.CharField(help_text="The tooltip of charts and tables.")
    version = serializers.IntegerField(help_text="Built-ins and measures are version 1 for good.")
    builtin = serializers.BooleanField(help_text="A built-in KPI or a base measure: read only.")
    measure = serializers.BooleanField(help_text="A base measure (summed by the rollups).")
    is_active = serializers.BooleanField(help_text="False: a deactivated custom KPI, out of the catalogue.")


def _entry(kpi: kpis.Kpi, *, is_active: bool = True) -> dict:
    return {
        "code": kpi.code,
        "name": kpi.name,
        "formula": kpi.formula,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "description": kpi.description,
        "version": kpi.version,
        "builtin": kpi.builtin,
        "measure": kpi.measure,
        "is_active": is_active,
    }


def _definition_entry(definition: KpiDefinition) -> dict:
    return _entry(kpi_selectors.as_kpi(definition), is_active=definition.is_active)


class KpiDefinitionWriteSerializer(serializers.Serializer):
    """A new custom KPI. The rules (formula syntax, names, loops, reserved codes) are the service's;
    its messages come back field by field in a 400."""

    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=KpiDefinition._meta.get_field("name").max_length)
    formula = serializers.CharField(max_length=KpiDefinition._meta.get_field("formula").max_length)
    unit = serializers.ChoiceField(choices=KpiUnit.choices, default=KpiUnit.NUMBER)
    direction = serializers.ChoiceField(choices=KpiDirection.choices, default=KpiDirection.HIGHER)
    description = serializers.CharField(
        max_length=KpiDefinition._meta.get_field("description").max_length, required=False, allow_blank=True
    )


class KpiDefinitionChangeSerializer(serializers.Serializer):
    """A change to a custom KPI: the fields given, saved as the next version."""

    name = serializers.CharField(max_length=KpiDefinition._meta.get_field("name").max_length, required=False)
    formula = serializers.CharField(max_length=KpiDefinition._meta.get_field("formula").max_length, required=False)
    unit = serializers.ChoiceField(choices=KpiUnit.choices, required=False)
    direction = serializers.ChoiceField(choices=KpiDirection.choices, required=False)
    description = serializers.CharField(
        max_length=KpiDefinition._meta.get_field("description").max_length, required=False, allow_blank=True
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you are changing; if another was saved since, the answer is 409, not an overwrite.",
    )

    def validate(self, attrs):
        if "code" in self.initial_data and self.initial_data["code"] != self.context["code"]:
            raise serializers.ValidationError({"code": ["A KPI's code cannot change; define a new KPI instead."]})
        return attrs


class KpiVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = KpiDefinition
        fields = [
            "code",
            "version",
            "name",
            "formula",
            "unit",
            "direction",
            "description",
            "is_current",
            "is_active",
            "created_by",
            "created_at",
        ]


_INCLUDE_INACTIVE = OpenApiParameter(
    "include_inactive",
    OpenApiTypes.BOOL,
    description="Also list deactivated custom KPIs (is_active false).",
    required=False,
)


@extend_schema(tags=["kpi-definitions"])
class KpiDefinitionViewSet(viewsets.GenericViewSet):
    """The KPI catalogue: base measures, built-in KPIs, then custom KPIs by code (current versions).
    Everyone who reads KPIs reads it; ops admins define custom KPIs (POST), change them (PATCH: the
    next version becomes current, the old one stays) and deactivate them (DELETE: out of the
    catalogue, versions kept). Built-ins and measures cannot be changed (400)."""

    serializer_class = KpiDefinitionSerializer
    permission_classes = [Policy]
    policy = {
        "list": policy.can_read_kpis,
        "retrieve": policy.can_read_kpis,
        "versions": policy.can_read_kpis,
        "create": policy.can_manage_kpi_definitions,
        "partial_update": policy.can_manage_kpi_definitions,
        "destroy": policy.can_manage_kpi_definitions,
    }
    lookup_field = "code"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = KpiDefinition.objects.none()  # the schema's model; requests read the catalogue
    filter_backends = []  # the catalogue is a list, not a queryset

    def _find(self, code: str):
        """The catalogue entry (``kpis.Kpi``) or the current custom definition of ``code``; 404 if none."""
        kpi = kpi_selectors.STANDARD_BY_CODE.get(code)
        found = kpi or kpi_selectors.current_definition(code)
        if found is None:
            raise NotFound(f"There is no KPI with the code {code}.")
        self.check_object_permissions(self.request, found)
        return found

    def _custom(self, code: str) -> KpiDefinition:
        found = self._find(code)
        if isinstance(found, kpis.Kpi):
            raise serializers.ValidationError(
                {"code": [f"{code} is a built-in KPI or measure; it cannot be changed. Define a custom KPI instead."]}
            )
        return found

    @extend_schema(parameters=[_INCLUDE_INACTIVE])
    def list(self, request):
        include_inactive = request.query_params.get("include_inactive", "").lower() in ("1", "true", "yes")
        entries = [_entry(kpi) for kpi in kpi_selectors.kpi_catalogue().values()]
        if include_inactive:
            entries += [_definition_entry(d) for d in kpi_selectors.custom_definitions().filter(is_active=False)]
        standard = [e for e in entries if e["builtin"]]
        custom = sorted((e for e in entries if not e["builtin"]), key=lambda e: e["code"])
        page = self.paginate_queryset([*standard, *custom])
        return self.get_paginated_response(KpiDefinitionSerializer(page, many=True).data)

    def retrieve(self, request, code=None):
        found = self._find(code)
        entry = _entry(found) if isinstance(found, kpis.Kpi) else _definition_entry(found)
        return Response(KpiDefinitionSerializer(entry).data)

    @extend_schema(request=KpiDefinitionWriteSerializer, responses={201: KpiDefinitionSerializer})
    def create(self, request):
        body = KpiDefinitionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        definition = kpi_services.kpi_definition_create(actor=request.user, **body.validated_data)
        return Response(KpiDefinitionSerializer(_definition_entry(definition)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=KpiDefinitionChangeSerializer,
        responses={200: KpiDefinitionSerializer},
        description="Save the fields given as the next version of a custom KPI (none changed: nothing is saved).",
    )
    def partial_update(self, request, code=None):
        definition = self._custom(code)
        body = KpiDefinitionChangeSerializer(data=request.data, context={"code": code})
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        version = changes.pop("version", None)
        if version is not None and version != definition.version:
            raise Conflict(
                f"You are changing version {version} of {code}, but version {definition.version} is current; "
                "reload it and make your change again."
            )
        saved = kpi_services.kpi_definition_update(actor=request.user, definition=definition, **changes)
        return Response(KpiDefinitionSerializer(_definition_entry(saved)).data)

    @extend_schema(responses={204: None}, description="Deactivate a custom KPI (its versions are kept).")
    def destroy(self, request, code=None):
        kpi_services.kpi_definition_deactivate(actor=request.user, definition=self._custom(code))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=KpiVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, code=None):
        """Every version of a custom KPI, newest first (a built-in or measure: none)."""
        found = self._find(code)
        if isinstance(found, kpis.Kpi):
            return Response([])
        return Response(KpiVersionSerializer(kpi_selectors.definition_versions(code), many=True).data)


# === KPI reads: /kpis/ and /rollups/status/ (rollups only) ========================================

MAX_METRICS = 30
DEFAULT_METRICS = "spend,revenue,roas,cpl"


class KpiQuerySerializer(serializers.Serializer):
    metrics = serializers.CharField(
        default=DEFAULT_METRICS, help_text="Comma-separated KPI or measure codes (see /api/v1/kpi-definitions/)."
    )
    group_by = serializers.ChoiceField(choices=selectors.GROUPS, default="organisation")
    period = serializers.CharField(required=False, help_text="fy2026, q2-fy2026, m2026-03 or custom (with start/end).")
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    team = serializers.IntegerField(required=False)
    channel = serializers.IntegerField(required=False)
    program = serializers.IntegerField(required=False)
    region = serializers.IntegerField(required=False)

    def validate(self, attrs):
        request = self.context["request"]
        data = request.query_params.copy()
        if ("start" in data or "end" in data) and "period" not in data:
            data["period"] = "custom"
        form = DashboardFilterForm(data, user=request.user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    ("non_field_errors" if name == "__all__" else name): [str(e) for e in errors]
                    for name, errors in form.errors.items()
                }
            )
        catalogue = kpi_selectors.kpi_catalogue()
        codes = [code.strip() for code in attrs["metrics"].split(",") if code.strip()]
        unknown = [code for code in codes if code not in catalogue]
        if not codes or unknown:
            raise serializers.ValidationError(
                {"metrics": [f"Unknown KPI or measure: {', '.join(unknown)}." if unknown else "Name at least one."]}
            )
        if len(codes) > MAX_METRICS:
            raise serializers.ValidationError({"metrics": [f"Ask for at most {MAX_METRICS} at a time."]})
        attrs.update(filters=form.filters(), codes=list(dict.fromkeys(codes)), catalogue=catalogue)
        return attrs


def api_value(kpi: kpis.Kpi, value):
    """Money and ratios as decimal strings, counts as integers, no value as null."""
    value = kpis.quantize(kpi, value)
    if value is None:
        return None
    return int(value) if kpi.unit == "count" else str(value)


def _key(group_by: str, row: selectors.Row):
    if group_by in selectors.TIME_GROUPS:
        return row.key.isoformat()
    return row.key


class KpiView(APIView):
    """KPIs per group for a period and filters (the dashboards' filter bar), scoped to what the user
    may see (a marketer: their teams). Each result names its group (``<group_by>`` label and
    ``<group_by>_id`` key) and one value per requested KPI; ``meta`` lists each KPI's unit and the
    definition version used. Budget, allocated and committed count each dollar once, on the deepest
    budget line that holds it (grouped by budget line: each line's own budget, what it has not passed
    down to its sub-lines), so the groups add up to the organisation's and to budget vs actual."""

    permission_classes = [Policy]
    policy = {"get": policy.can_read_kpis}

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses=inline_serializer(
            "KpiResults",
            {
                "results": serializers.ListField(child=serializers.DictField()),
                "meta": serializers.DictField(),
            },
        ),
    )
    def get(self, request):
        query = KpiQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        group_by, codes, catalogue, filters = (
            params["group_by"],
            params["codes"],
            params["catalogue"],
            params["filters"],
        )
        rows = kpi_selectors.with_kpis(
            selectors.measures_by(filters, group_by, scope=selectors.scope_of(request.user)), codes, catalogue
        )
        results = [
            {
                group_by: row.label,
                f"{group_by}_id": _key(group_by, row),
                **{code: api_value(catalogue[code], row.values[code]) for code in codes},
            }
            for row in rows
        ]
        return Response(
            {
                "results": results,
                "meta": {
                    "start": filters.start,
                    "end": filters.end,
                    "group_by": group_by,
                    "currency": settings.BASE_CURRENCY,
                    "kpis": {
                        code: {
                            "name": catalogue[code].name,
                            "unit": catalogue[code].unit,
                            "version": catalogue[code].version,
                        }
                        for code in codes
                    },
                },
            }
        )


class RollupStatusView(APIView):
    """When the rollups were last refreshed, the last nightly rebuild and whether it agreed with the
    incremental path, and the changes still waiting (dirty campaign date ranges and budget lines)."""

    permission_classes = [Policy]
    policy = {"get": policy.can_read_kpis}

    @extend_schema(
        responses=inline_serializer(
            "RollupStatus",
            {
                "last_refresh": serializers.DateTimeField(allow_null=True),
                "last_full_rebuild": serializers.DateTimeField(allow_null=True),
                "last_full_agreed": serializers.BooleanField(allow_null=True),
                "pending_marks": serializers.IntegerField(),
                "pending_campaigns": serializers.IntegerField(),
                "pending_budget_lines": serializers.IntegerField(),
                "pending_ranges": serializers.ListField(child=serializers.DictField()),
            },
        ),
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="How many pending ranges to list (≤ 100).")
        ],
    )
    def get(self, request):
        try:
            limit = max(0, min(int(request.query_params.get("limit", 20)), 100))
        except ValueError:
            raise serializers.ValidationError({"limit": ["Give a whole number."]}) from None
        status = selectors.rollup_status(limit=limit)
        return Response(
            {
                "last_refresh": status.last_refresh,
                "last_full_rebuild": status.last_full_rebuild,
                "last_full_agreed": status.last_full_agreed,
                "pending_marks": status.pending_marks,
                "pending_campaigns": status.pending_campaigns,
                "pending_budget_lines": status.pending_budget_lines,
                "pending_ranges": [
                    {"campaign_id": campaign, "start": start, "end": end}
                    for campaign, start, end in status.pending_ranges
                ],
            }
        )


# === routes ======================================================================================

router = SimpleRouter()
router.register("kpi-definitions", KpiDefinitionViewSet, basename="kpi-definition")
urlpatterns = [
    *router.urls,
    path("kpis/", KpiView.as_view(), name="kpis"),
    path("rollups/status/", RollupStatusView.as_view(), name="rollup-status"),
]
