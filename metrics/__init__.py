"""Metrics: KPI definitions, rollups, targets vs actuals, forecasts, dashboards, scenario planning.

Subsystems, each a package with the rooms of an app, each importing only those above it here:

- ``rollups``: summed measures by grain and dimension, kept from the facts; the reads of them.
- ``kpis``: the formula language, the KPI catalogue, custom KPI definitions (pages and API).
- ``dashboards``: the CMO, finance, marketer and ops boards and the weekly e-mail report.
- ``scenarios``: response models (``scenarios/mmm/``), scenarios, back-solve, proposed transfers.

The app's own rooms tie them together: ``models`` (the list Django and the migrations see),
``urls`` (pages) and ``api`` (routes under ``/api/v1/``), ``tasks`` (every Celery task, thin),
``receivers`` (signal and hook wiring, in ``MetricsConfig.ready``), ``demo``, ``admin``.
No other app imports metrics.
"""
