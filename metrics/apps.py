from django.apps import AppConfig


class MetricsConfig(AppConfig):
    """KPI definitions, rollups, targets vs actuals, forecasts, dashboards, exports."""

    name = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        # Imports inside ready(): apps.py is imported before the models are loaded, and these modules read them.
        from campaigns.selectors import use_fact_totals_source
        from metrics import receivers
        from metrics.dashboards.permissions import can_view_dashboards
        from metrics.rollups import marks
        from metrics.rollups.fact_totals import campaign_fact_totals
        from metrics.scenarios.permissions import can_plan_scenarios
        from mops import health
        from mops.navigation import MenuEntry, register

        receivers.connect()
        health.register("rollups", marks.health_check)  # degraded while changes are set aside
        use_fact_totals_source(campaign_fact_totals)  # the campaign list's totals from the rollup cells
        register(
            MenuEntry(10, "Dashboards", "metrics:dashboard", allowed=can_view_dashboards),
            MenuEntry(20, "Scenarios", "metrics:scenarios", allowed=can_plan_scenarios),
        )
