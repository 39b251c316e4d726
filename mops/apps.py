from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The core every business app shares: teams, roles, currencies and FX, audit."""

    name = "mops"
    label = "mops"
    verbose_name = "mops core"
