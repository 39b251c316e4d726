from django.apps import AppConfig


class PlanningConfig(AppConfig):
    """Fiscal calendar, strategic objectives and targets, channels and other taxonomy."""

    name = "planning"
    verbose_name = "Planning"

    def ready(self):
        # Imports inside ready(): apps.py is imported before the models are loaded, and these modules read them.
        from mops.navigation import MenuEntry, register

        register(MenuEntry(80, "Planning", "planning:home"))
