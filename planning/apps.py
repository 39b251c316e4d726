from django.apps import AppConfig


class PlanningConfig(AppConfig):
    """Fiscal calendar, strategic objectives and targets, channels and other taxonomy."""

    name = "planning"
    verbose_name = "Planning"
