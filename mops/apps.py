from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_reference_data(sender, **kwargs):
    # Imported here: apps.py is imported before the models are loaded, and these modules read them.
    from mops.currencies import ensure_currencies
    from mops.roles import sync_roles

    sync_roles()
    ensure_currencies()


class CoreConfig(AppConfig):
    """The core every business app shares: teams, roles, currencies and FX, audit."""

    name = "mops"
    label = "mops"
    verbose_name = "mops core"

    def ready(self):
        # Imports inside ready(): apps.py is imported before the models are loaded, and these modules read them.
        from mops import permissions as core
        from mops.navigation import MenuEntry, register

        # After every migrate (and every test flush): role groups follow the apps' ROLE_GRANTS.
        post_migrate.connect(_sync_reference_data, sender=self, dispatch_uid="mops-sync-reference-data")

        register(
            MenuEntry(90, "Teams", "mops:team-list"),
            MenuEntry(
                100,
                "FX rates",
                "mops:fx-list",
                allowed=lambda user: core.can_manage_fx_rates(user) or core.is_cmo(user),
            ),
            MenuEntry(120, "Ops admin", "mops:ops-home", allowed=core.is_ops_admin),
        )
