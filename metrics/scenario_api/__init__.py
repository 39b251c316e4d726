"""Scenario-planning API (issue 7), mounted by ``metrics.api``:

- ``/api/v1/response-models/``: list, create (= ask for a fit; the task fits it after commit), retrieve
  with status, fit quality, ranking and every curve, delete.
- ``/api/v1/scenarios/``: CRUD; ``POST …/optimise/`` (the optimiser's split, previewed or saved),
  ``POST …/{id}/accept/``, ``…/reopen/`` and ``…/propose-transfers/`` (budget transfer requests
  through the workflow; never money moved).
- ``/api/v1/backsolve/``: GET with query parameters or POST with a body.

Thin: the same services and selectors as the pages. Marketers see their teams' models and scenarios
(others' are 404), ops admins none (403).
"""

from metrics.scenario_api.backsolve import BacksolveView
from metrics.scenario_api.response_models import ResponseModelViewSet
from metrics.scenario_api.scenarios import ScenarioViewSet

__all__ = ["BacksolveView", "ResponseModelViewSet", "ScenarioViewSet"]
