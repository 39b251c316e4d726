from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Programs, campaigns, tactics, spend entries, results, imports, calendar, assets."""

    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from campaigns import subjects

        subjects.register()
