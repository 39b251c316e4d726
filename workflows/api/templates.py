"""Subject types (what can go through a workflow) and templates (what ops admins define), with the preview."""

import rules
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from mops.api_base import Policy
from mops.models import Team
from workflows import permissions, registry, selectors, services
from workflows.api.common import TeamField, UserBriefSerializer, active_users
from workflows.models import StepKind, TemplateStep, WorkflowTemplate

# --- subject types --------------------------------------------------------------------------


class AttributeSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="decimal or text")


class SubjectTypeSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    attributes = AttributeSerializer(many=True)


class SubjectTypeViewSet(viewsets.GenericViewSet):
    """What can go through a workflow, and the attributes step conditions and previews can test."""

    serializer_class = SubjectTypeSerializer
    permission_classes = [Policy]
    policy = {"list": rules.is_authenticated, "retrieve": rules.is_authenticated}
    pagination_class = None  # a handful of registered types
    filter_backends = []
    lookup_field = "key"

    def list(self, request):
        return Response(self.get_serializer(registry.all_types(), many=True).data)

    @extend_schema(parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH)])
    def retrieve(self, request, key=None):
        try:
            subject_type = registry.get(key)
        except LookupError:
            raise Http404 from None
        self.check_object_permissions(request, subject_type)
        return Response(self.get_serializer(subject_type).data)


# --- templates ------------------------------------------------------------------------------


class TemplateStepSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=active_users(), required=False, allow_null=True)

    class Meta:
        model = TemplateStep
        fields = ["position", *services.STEP_FIELDS]
        read_only_fields = ["position"]  # the order of the list


class TemplateSerializer(serializers.ModelSerializer):
    # Required when creating; a template never changes its subject type (a new template does).
    subject_type = serializers.CharField(max_length=60, required=False)
    subject_type_label = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    steps = TemplateStepSerializer(many=True)

    class Meta:
        model = WorkflowTemplate
        fields = [
            "id",
            "slug",
            "version",
            "name",
            "description",
            "subject_type",
            "subject_type_label",
            "status",
            "created_by",
            "created_at",
            "steps",
        ]
        read_only_fields = ["id", "slug", "version", "status", "created_at"]

    def get_subject_type_label(self, template) -> str:
        try:
            return registry.get(template.subject_type).label
        except LookupError:
            return template.subject_type

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # DRF keys a bad step's field errors by list index; say "Step N" like the service does.
            steps = exc.detail.get("steps") if isinstance(exc.detail, dict) else None
            if isinstance(steps, dict):
                exc.detail["steps"] = [
                    f"Step {int(index) + 1}: {message}"
                    if field == api_settings.NON_FIELD_ERRORS_KEY
                    else f"Step {int(index) + 1}, {field}: {message}"
                    for index, errors in steps.items()
                    for field, messages in errors.items()
                    for message in messages
                ]
            raise

    def validate(self, attrs):
        if self.instance is None and not attrs.get("subject_type"):
            raise serializers.ValidationError({"subject_type": ["This field is required."]})
        if self.instance is not None and attrs.get("subject_type", self.instance.subject_type) != (
            self.instance.subject_type
        ):
            raise serializers.ValidationError(
                {"subject_type": ["A template's subject type cannot change; create a new template instead."]}
            )
        if "steps" not in attrs:  # PATCH too: a change always carries the whole step list
            raise serializers.ValidationError({"steps": ["This field is required."]})
        return attrs


class PreviewStepSerializer(serializers.Serializer):
    position = serializers.IntegerField(source="step.position")
    stage = serializers.IntegerField(source="step.stage")
    name = serializers.CharField(source="step.name")
    kind = serializers.ChoiceField(source="step.kind", choices=StepKind.choices)
    applies = serializers.BooleanField()
    assignees = UserBriefSerializer(many=True)


class PreviewQuerySerializer(serializers.Serializer):
    """``?team=&requester=&<attribute>=…``: a subject like the one described, for ``selectors.preview``."""

    team = TeamField(queryset=Team.objects.all(), required=False, help_text="Team id or slug.")
    requester = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, help_text="User id of the requester (never routed an approval)."
    )

    def validate(self, attrs):
        subject_type = registry.get(self.context["template"].subject_type)
        team = attrs.get("team")
        context, errors = {}, {}
        for attribute in subject_type.attributes:
            raw = self.initial_data.get(attribute.name)
            if attribute.name == "team":
                # The ``team`` parameter names the team that routes the steps; the attribute of that
                # name is its code, as ``subjects`` snapshots it.
                raw = team.slug if team else None
            try:
                attribute.parse(raw)
            except ValueError as exc:
                errors[attribute.name] = [str(exc)]
            context[attribute.name] = raw
        if errors:
            raise serializers.ValidationError(errors)
        requester = attrs.get("requester")
        return {
            "context": context,
            "team_id": team.pk if team else None,
            "requester_id": requester.pk if requester else None,
        }


class TemplateViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Workflow templates by slug. A detail URL names the template's latest version (the active one
    while it is live); an update of a version in use answers with the new version it created."""

    serializer_class = TemplateSerializer
    permission_classes = [Policy]
    policy = {
        "list": permissions.can_view_templates,
        "retrieve": permissions.can_view_templates,
        "preview": permissions.can_view_templates,
        "create": permissions.can_manage_templates,
        "update": permissions.can_manage_templates,
        "partial_update": permissions.can_manage_templates,
        "retire": permissions.can_manage_templates,
    }
    lookup_field = "slug"
    filterset_fields = ["subject_type"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        include_retired = self.request.query_params.get("retired", "") in ("1", "true", "yes")
        return (
            selectors.template_list(include_retired=include_retired)
            .select_related("created_by")
            .prefetch_related("steps")
        )

    def get_object(self):
        versions = selectors.template_versions(self.kwargs["slug"]).select_related("created_by")
        version = self.request.query_params.get("version", "") if self.action == "retrieve" else ""
        if version:
            if not version.isdigit():
                raise serializers.ValidationError({"version": ["Give a version number."]})
            versions = versions.filter(version=int(version))
        # Newest first: only the newest version can be active (an edit supersedes the one before).
        template = versions.prefetch_related("steps").first()
        if template is None:
            raise Http404
        self.check_object_permissions(self.request, template)
        return template

    @extend_schema(
        parameters=[
            OpenApiParameter("retired", bool, description="Include retired templates."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[OpenApiParameter("version", int, description="A given version instead of the latest.")])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.template_create(
            actor=self.request.user,
            name=data["name"],
            subject_type=data["subject_type"],
            steps=[dict(step) for step in data["steps"]],
            description=data.get("description", ""),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.template_update(
            actor=self.request.user,
            template=serializer.instance,
            steps=[dict(step) for step in data["steps"]],
            name=data.get("name"),
            description=data.get("description"),
        )

    @extend_schema(request=None, responses=TemplateSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, slug=None):
        template = services.template_retire(actor=request.user, template=self.get_object())
        return Response(self.get_serializer(template).data)

    @extend_schema(
        parameters=[
            PreviewQuerySerializer,
            OpenApiParameter(
                "amount",
                str,
                description="Any attribute of the template's subject type (see /workflow-subject-types/), "
                "e.g. amount=60000.",
            ),
        ],
        responses=PreviewStepSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def preview(self, request, slug=None):
        """Which steps would apply to a subject like the one described, and whom each would go to."""
        template = self.get_object()
        query = PreviewQuerySerializer(data=request.query_params, context={"template": template})
        query.is_valid(raise_exception=True)
        rows = selectors.preview(template, **query.validated_data)
        return Response(PreviewStepSerializer(rows, many=True).data)
