"""The metrics API's routes, mounted under ``/api/v1/`` by ``mops.urls``: each subsystem's endpoints
live in its own ``api`` (serializers, views and their routes) and are put together here.

- ``metrics.kpis.api``: ``/kpi-definitions/``, ``/kpis/`` and ``/rollups/status/``.
- ``metrics.scenarios.api``: ``/response-models/``, ``/scenarios/`` and ``/backsolve/``.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("metrics.kpis.api")),
    path("", include("metrics.scenarios.api.urls")),
]
