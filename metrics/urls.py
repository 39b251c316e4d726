"""The pages of metrics (under ``/metrics/``), each subsystem's views in turn; the API's routes are
``metrics.api``."""

from django.urls import path

from metrics.dashboards import views as dashboard_views
from metrics.kpis import views as kpi_views
from metrics.scenarios import views as scenario_views

app_name = "metrics"
urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),  # the dashboard of the user's role
    path("cmo/", dashboard_views.cmo, name="cmo"),
    path("finance/", dashboard_views.finance, name="finance"),
    path("marketing/", dashboard_views.marketer, name="marketer"),
    path("ops/", dashboard_views.ops, name="ops"),
    path("kpis/", kpi_views.kpi_list, name="kpi-list"),
    path("kpis/new/", kpi_views.kpi_create, name="kpi-create"),
    path("kpis/<slug:code>/", kpi_views.kpi_detail, name="kpi-detail"),
    path("kpis/<slug:code>/edit/", kpi_views.kpi_edit, name="kpi-edit"),
    # Scenario planning (issue 7)
    path("scenarios/", scenario_views.home, name="scenarios"),
    path("scenarios/models/new/", scenario_views.model_create, name="scenario-model-create"),
    path("scenarios/models/<int:pk>/", scenario_views.model_detail, name="scenario-model"),
    path("scenarios/new/", scenario_views.scenario_create, name="scenario-create"),
    path("scenarios/compare/", scenario_views.scenario_compare, name="scenario-compare"),
    path("scenarios/backsolve/", scenario_views.backsolve, name="scenario-backsolve"),
    path("scenarios/<int:pk>/", scenario_views.scenario_detail, name="scenario-detail"),
]
