from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Workflow templates, running instances, step tasks, approvals, SLAs — knows no business app."""

    name = "workflows"
    verbose_name = "Workflows"

    def ready(self):
        from workflows import subjects

        subjects.register()
