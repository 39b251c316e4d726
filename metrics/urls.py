from django.urls import path

from metrics import kpi_views, role_views, views

app_name = "metrics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),  # the dashboard of the user's role
    path("cmo/", views.cmo, name="cmo"),
    path("finance/", role_views.finance, name="finance"),
    path("marketing/", role_views.marketer, name="marketer"),
    path("ops/", role_views.ops, name="ops"),
    path("kpis/", kpi_views.kpi_list, name="kpi-list"),
    path("kpis/new/", kpi_views.kpi_create, name="kpi-create"),
    path("kpis/<slug:code>/", kpi_views.kpi_detail, name="kpi-detail"),
    path("kpis/<slug:code>/edit/", kpi_views.kpi_edit, name="kpi-edit"),
]
