"""KPIs: the formula language, the catalogue (base measures, built-in and custom KPIs) and the ops
admin's custom KPI definitions, with their pages and API. Every KPI is a formula evaluated on summed
measures (``catalogue.evaluate``), so a ratio is always sum ÷ sum.

Rooms:

- ``formulas``: the parsed whitelist a formula is written in (never ``eval``).
- ``catalogue``: ``Kpi``, the measures and built-ins, ``evaluate``, ``display`` and ``check_definition``.
- ``models``: ``KpiDefinition`` (one row per version of a custom KPI).
- ``selectors``: the catalogue with the current custom KPIs, the KPIs of rollup rows, versions, previews.
- ``services``: define, change, deactivate and reactivate a custom KPI.
- ``permissions``, ``forms``, ``views`` (templates in ``templates/metrics/kpis/``), ``api``
  (``/api/v1/kpi-definitions/``, ``/api/v1/kpis/`` and ``/api/v1/rollups/status/``).

May import ``metrics.rollups`` (and the lower apps); never the dashboards or scenarios.
"""
