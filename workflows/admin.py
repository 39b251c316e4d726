"""Django admin views of the engine: for inspection. Templates are edited in mops's own pages
(which version them); instances and steps change only through the engine's services."""

from django.contrib import admin

from workflows.models import Delegation, Request, StepTask, TemplateStep, WorkflowInstance, WorkflowTemplate


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TemplateStepInline(ReadOnlyInline):
    model = TemplateStep
    fields = ["position", "stage", "name", "kind", "assignee_type", "role", "user", "sla_days", "stage_rule"]
    readonly_fields = fields


@admin.register(WorkflowTemplate)
class WorkflowTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "subject_type", "status", "created_at"]
    list_filter = ["status", "subject_type"]
    search_fields = ["name", "slug"]
    readonly_fields = ["slug", "version", "subject_type", "status", "created_by", "created_at"]
    inlines = [TemplateStepInline]

    def has_add_permission(self, request):
        return False  # created in the template editor, which validates and versions


class StepTaskInline(ReadOnlyInline):
    model = StepTask
    fields = ["round", "position", "stage", "name", "kind", "status", "due_at", "decided_by", "decided_at", "comment"]
    readonly_fields = fields


@admin.register(WorkflowInstance)
class WorkflowInstanceAdmin(admin.ModelAdmin):
    list_display = ["subject_repr", "template", "status", "started_by", "started_at"]
    list_filter = ["status", "subject_type"]
    search_fields = ["subject_repr"]
    inlines = [StepTaskInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ["delegator", "delegate", "starts_on", "ends_on", "created_by"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Request)
class RequestAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "amount", "currency", "status", "requested_by", "created_at"]
    list_filter = ["status", "team"]
    search_fields = ["title"]

    def has_change_permission(self, request, obj=None):
        return False
