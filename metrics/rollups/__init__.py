"""Rollups: summed base measures by grain (day … fiscal year) and dimension, kept from the facts and
budgets of the lower apps, and the reads every dashboard and the KPI API make of them.

Rooms:

- ``models``: the calendar buckets, cells and rollups, dirty marks and refresh runs.
- ``calendar``: the buckets of each grain, fiscal-aware.
- ``engine``: cells from the facts, rollups from the cells, each step one ``INSERT … SELECT … GROUP BY``.
- ``marks``: what changed and is not yet rolled up, the debounced refresh they start, ``/healthz``'s part.
- ``services``: the refreshes (incremental from the marks, and the full rebuild that checks them).
- ``selectors``: ``Filters``, ``Scope`` and the reads (``measures_by``, ``series``, ``rollup_status``).
- ``forms``: the filter bar, which makes the reads' ``Filters`` from a query string.
- ``fact_totals``: the campaign list's totals from the rollup cells (registered with campaigns).

Its Celery tasks are ``metrics.tasks.refresh_rollups`` and ``rebuild_rollups``; the signals that mark
changes are connected by ``metrics.receivers``. The bottom of metrics: it imports the lower apps and
no other metrics subsystem.
"""
