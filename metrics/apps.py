from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """KPI definitions, rollups, targets vs actuals, forecasts, dashboards, exports."""

    name = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        from campaigns.selectors import use_fact_totals_source
        from metrics import receivers
        from metrics.fact_totals import campaign_fact_totals

        receivers.connect()
        use_fact_totals_source(campaign_fact_totals)  # the campaign list's totals from the rollup cells
