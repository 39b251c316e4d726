"""The scenario-planning API's routes (mounted under ``/api/v1/`` by ``metrics.api``)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from metrics.scenarios.api.backsolve import BacksolveView
from metrics.scenarios.api.response_models import ResponseModelViewSet
from metrics.scenarios.api.scenarios import ScenarioViewSet

router = SimpleRouter()
router.register("response-models", ResponseModelViewSet, basename="response-model")
router.register("scenarios", ScenarioViewSet, basename="scenario")
urlpatterns = [
    *router.urls,
    path("backsolve/", BacksolveView.as_view(), name="backsolve"),
]
