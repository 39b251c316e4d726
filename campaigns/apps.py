from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Programs, campaigns, tactics, spend entries, results, imports, calendar, assets."""

    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        # Imports inside ready(): apps.py is imported before the models are loaded, and these modules read them.
        from campaigns import subjects
        from campaigns.permissions import can_view_campaigns
        from mops.navigation import MenuEntry, register

        subjects.register()
        register(MenuEntry(40, "Campaigns", "campaigns:home", allowed=can_view_campaigns))
