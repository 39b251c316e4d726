from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Workflow templates, running instances, step tasks, approvals, SLAs — knows no business app."""

    name = "workflows"
    verbose_name = "Workflows"

    def ready(self):
        # Imports inside ready(): apps.py is imported before the models are loaded, and these modules read them.
        from mops.navigation import MenuEntry, register
        from workflows import subjects
        from workflows.permissions import can_manage_templates
        from workflows.selectors import my_task_count

        subjects.register()
        register(
            MenuEntry(30, "Tasks", "workflows:my-tasks", badge=my_task_count),  # one COUNT query per page
            MenuEntry(110, "Workflows", "workflows:template-list", allowed=can_manage_templates),
        )
