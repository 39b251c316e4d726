"""Scenario planning (issue 7): response models fitted on the weekly rollups, scenarios that split a
budget across channels or programs (by the optimiser, by hand or as the current plan), the funnel
back-solve, and proposing an accepted scenario's moves as budget transfers.

Rooms:

- ``mmm/``: the marketing-mix model as pure functions (no database, no Django) — inside this package
  because scenario planning is its only user; a package of its own so that the task, the pages, the
  tests and the benchmark all call the same code without Django around it.
- ``models``: ``ResponseModel``, ``Scenario``, ``ScenarioLine``, ``ScenarioTransfer``.
- ``selectors``: the weekly series, the current plan, what each user sees.
- ``services``: ask for and fit a response model, save scenarios and move them through their states.
- ``transfers``: an accepted scenario's moves proposed as budget transfers.
- ``permissions``, ``forms``, ``figures``, ``views`` (templates in ``templates/metrics/scenarios/``),
  ``api/`` (``/api/v1/response-models/``, ``/api/v1/scenarios/``, ``/api/v1/backsolve/``).

Its Celery task is ``metrics.tasks.fit_response_model``. May import ``metrics.rollups`` and the
dashboards' shared pieces (``metrics.dashboards.figures``, ``panels``) and the lower apps.
"""
