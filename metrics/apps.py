from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """KPI definitions, rollups, targets vs actuals, forecasts, dashboards, exports."""

    name = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        from metrics import receivers

        receivers.connect()
