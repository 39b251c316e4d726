"""Scenario-planning API (issue 7), mounted by ``metrics.api`` (routes in ``urls``):

- ``/api/v1/response-models/``: list, create (= ask for a fit; the task fits it after commit), retrieve
  with status, fit quality, ranking and every curve, delete.
- ``/api/v1/scenarios/``: CRUD; ``POST …/optimise/`` (the optimiser's split, previewed or saved),
  ``POST …/{id}/accept/``, ``…/reopen/`` and ``…/propose-transfers/`` (budget transfer requests
  through the workflow; never money moved).
- ``/api/v1/backsolve/``: GET with query parameters or POST with a body.

Thin: the same services and selectors as the pages. Marketers see their teams' models and scenarios
(others' are 404), ops admins none (403).

Modules: ``fields`` (shared serializers), ``response_models``, ``scenarios``, ``backsolve``, ``urls``.
"""
