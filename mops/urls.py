from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from mops import api, views

router = DefaultRouter()
router.register("teams", api.TeamViewSet, basename="team")
router.register("currencies", api.CurrencyViewSet, basename="currency")
router.register("fx-rates", api.FxRateViewSet, basename="fx-rate")

core_patterns = (
    [
        path("teams/", views.team_list, name="team-list"),
        path("teams/<slug:slug>/", views.team_detail, name="team-detail"),
        path(
            "teams/<slug:slug>/members/<int:membership_id>/remove/", views.membership_remove, name="membership-remove"
        ),
        path("fx/", views.fx_list, name="fx-list"),
        path("ops/", views.ops_home, name="ops-home"),
    ],
    "mops",
)

api_v1 = [
    path("auth/token/", api.TokenView.as_view(), name="auth-token"),
    path("me/", api.MeView.as_view(), name="me"),
    path("", include(router.urls)),
    path("", include("planning.api")),
    path("", include("campaigns.api.urls")),
    path("", include("budgets.api")),
    path("", include("workflows.api.urls")),
    path("", include("metrics.api")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include(core_patterns)),
    path("planning/", include("planning.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("budgets/", include("budgets.urls")),
    path("workflows/", include("workflows.urls")),
    path("metrics/", include("metrics.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("admin/", admin.site.urls),
]

# Every handler answers JSON under /api/ (and mops.middleware.ApiJsonErrorsMiddleware catches the rest).
handler400 = "mops.views.bad_request"
handler404 = "mops.views.not_found"
handler403 = "mops.views.forbidden"
handler500 = "mops.errors.server_error"  # a lost database is a 503 (try again), not a 500
