"""Running workflows: instances (resubmit, cancel) and "my tasks" with one action per decision."""

import django_filters
import rules
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from mops.api_base import Policy
from workflows import permissions, selectors, services
from workflows.api.common import CommentSerializer, active_users
from workflows.models import StepAssignment, StepKind, StepTask, WorkflowInstance

# --- instances ------------------------------------------------------------------------------


def _step_prefetch():
    """Every step of an instance with its assignees, for a whole page of instances in two queries."""
    assignments = StepAssignment.objects.select_related("user").order_by("user__username")
    return Prefetch(
        "steps",
        queryset=StepTask.objects.select_related("decided_by", "decided_for")
        .prefetch_related(Prefetch("assignments", queryset=assignments))
        .order_by("position", "-round"),
    )


def _latest_round(steps) -> list[StepTask]:
    """The latest round of each position — what ``selectors.instance_steps`` shows, taken from the
    prefetched steps so that a page of instances costs the same number of queries as one."""
    latest = {}
    for step in steps:  # ordered by position, newest round first
        latest.setdefault(step.position, step)
    return list(latest.values())


class InstanceStepSerializer(serializers.ModelSerializer):
    assignees = serializers.SerializerMethodField()
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # The assignee a delegate decided for (null when an assignee decided themselves).
    decided_for = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = StepTask
        fields = [
            "id",
            "position",
            "stage",
            "round",
            "name",
            "kind",
            "status",
            "assignees",
            "due_at",
            "overdue",
            "decided_by",
            "decided_for",
            "decided_at",
            "comment",
        ]

    def get_assignees(self, step) -> list[str]:
        return [assignment.user.username for assignment in step.assignments.all()]


class InstanceSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template.slug", read_only=True)
    template_name = serializers.CharField(source="template.name", read_only=True)
    template_version = serializers.IntegerField(source="template.version", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True, allow_null=True)
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    steps = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowInstance
        fields = [
            "id",
            "template",
            "template_name",
            "template_version",
            "subject_type",
            "subject_id",
            "subject_repr",
            "team",
            "status",
            "current_stage",
            "started_by",
            "started_at",
            "finished_at",
            "steps",
        ]

    @extend_schema_field(InstanceStepSerializer(many=True))
    def get_steps(self, instance):
        return InstanceStepSerializer(_latest_round(instance.steps.all()), many=True).data


class InstanceFilter(django_filters.FilterSet):
    template = django_filters.CharFilter(field_name="template__slug", help_text="Template slug.")

    class Meta:
        model = WorkflowInstance
        fields = ["subject_type", "subject_id", "status", "template"]


class InstanceViewSet(viewsets.ReadOnlyModelViewSet):
    """Workflows the user may see: their own, their teams', those they have a step in (all for the
    CMO, finance and ops admins). The requester resubmits or cancels through the actions."""

    serializer_class = InstanceSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        # The services decide who may, and say why not (403 with the reason).
        "resubmit": rules.is_authenticated,
        "cancel": rules.is_authenticated,
    }
    filterset_class = InstanceFilter
    ordering_fields = ["started_at", "finished_at"]

    def get_queryset(self):
        return (
            permissions.instances_visible_to(self.request.user)
            .select_related("template", "started_by", "team")
            .prefetch_related(_step_prefetch())
        )

    def _respond(self, instance):
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    @extend_schema(request=CommentSerializer, responses=InstanceSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        """The requester sends a returned workflow round again, from the stage that sent it back."""
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        instance = services.instance_resubmit(actor=request.user, instance=self.get_object(), **body.validated_data)
        return self._respond(instance)

    @extend_schema(request=CommentSerializer, responses=InstanceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        instance = services.instance_cancel(actor=request.user, instance=self.get_object(), **body.validated_data)
        return self._respond(instance)


# --- tasks ----------------------------------------------------------------------------------


def _tasks_readable_by(user):
    """Steps of the instances a user may see (which include those waiting for them, also as a
    delegate, and those they decided)."""
    return StepTask.objects.filter(instance__in=permissions.instances_visible_to(user))


class TaskQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StepKind.choices, required=False, allow_blank=True)
    overdue = serializers.BooleanField(required=False, default=False, help_text="Only steps past their due time.")
    subject_type = serializers.CharField(required=False, allow_blank=True)


class TaskSerializer(serializers.ModelSerializer):
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    instance_status = serializers.CharField(source="instance.status", read_only=True)
    subject_type = serializers.CharField(source="instance.subject_type", read_only=True)
    subject_id = serializers.CharField(source="instance.subject_id", read_only=True)
    subject_repr = serializers.CharField(source="instance.subject_repr", read_only=True)
    template_name = serializers.CharField(source="instance.template.name", read_only=True)
    requester = serializers.CharField(source="instance.started_by.username", read_only=True)
    team = serializers.CharField(source="instance.team.slug", read_only=True, allow_null=True)
    assignees = serializers.SerializerMethodField()
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # The assignee a delegate decided for (null when an assignee decided themselves).
    decided_for = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = StepTask
        fields = [
            "id",
            "name",
            "kind",
            "stage",
            "round",
            "status",
            "activated_at",
            "due_at",
            "overdue",
            "assignees",
            "instance",
            "instance_status",
            "subject_type",
            "subject_id",
            "subject_repr",
            "template_name",
            "requester",
            "team",
            "decided_by",
            "decided_for",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields

    def get_assignees(self, task) -> list[str]:
        return [assignment.user.username for assignment in task.assignments.all()]


class ReassignSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=active_users())
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def _with_task_relations(queryset):
    assignments = StepAssignment.objects.select_related("user").order_by("user__username")
    return queryset.select_related(
        "instance__template", "instance__started_by", "instance__team", "decided_by", "decided_for"
    ).prefetch_related(Prefetch("assignments", queryset=assignments))


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """The list is "my tasks": active steps waiting for the user (also as a delegate). One action per
    decision; who may act, and why not, is the service's answer (403 with the reason, 409 when the
    step was decided already)."""

    serializer_class = TaskSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,
        "retrieve": rules.is_authenticated,
        "complete": rules.is_authenticated,
        "approve": rules.is_authenticated,
        "reject": rules.is_authenticated,
        "return_": rules.is_authenticated,
        "reassign": rules.is_authenticated,
    }
    filter_backends = []  # the list's filters are my_tasks' own parameters

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StepTask.objects.none()
        return _with_task_relations(_tasks_readable_by(self.request.user))

    @extend_schema(parameters=[TaskQuerySerializer])
    def list(self, request, *args, **kwargs):
        query = TaskQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tasks = _with_task_relations(selectors.my_tasks(request.user, **query.validated_data))
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _act(self, request, action_name):
        task = self.get_object()
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.task_act(actor=request.user, task=task, action=action_name, **body.validated_data)
        # Read back without the visibility filter: whoever just acted may see what they did.
        return Response(self.get_serializer(_with_task_relations(StepTask.objects).get(pk=result.task.pk)).data)

    @extend_schema(request=CommentSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark a task step done."""
        return self._act(request, "complete")

    @extend_schema(request=CommentSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._act(request, "approve")

    @extend_schema(request=CommentSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the request (a comment is required): the workflow ends."""
        return self._act(request, "reject")

    @extend_schema(request=CommentSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """Send the request back to the requester (a comment is required)."""
        return self._act(request, "return")

    @extend_schema(request=ReassignSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Give an active step to someone else (ops admins, the lead of the subject's team)."""
        task = self.get_object()
        body = ReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            task = services.task_reassign(
                actor=request.user,
                task=task,
                to_user=body.validated_data["user"],
                comment=body.validated_data["comment"],
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "to_user" in exc.error_dict:
                raise serializers.ValidationError({"user": exc.message_dict["to_user"]}) from None
            raise
        return Response(self.get_serializer(_with_task_relations(StepTask.objects).get(pk=task.pk)).data)
