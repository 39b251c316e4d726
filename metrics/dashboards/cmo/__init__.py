"""The CMO dashboard: headline tiles, the monthly trend with its forecast to year end, ROI/ROAS by
channel and by program, the funnel, objectives against their targets and the best and worst
campaigns by ROI — as panels (``metrics.dashboards.panels.Panel``) built by plain functions of ``Reads``.

- ``reads``: ``Reads`` holds the filters and the user's scope and reads each thing the panels need
  at most once per request, lazily.
- ``values``: KPI values in words and numbers, targets pro-rated to the period, on track or at risk.
- ``tiles``: the headline tiles and their download.
- ``panels``: every other panel, and ``builders`` (panel id → builder, in page order).
- ``board``: ``CmoBoard``, the page: the tiles, then the panels in ``builders``' order.

Definitions the page states in its help texts:

- **Change vs the previous period** compares with the period just before, of the same length
  (``Filters.shifted_back``). While the period is still running it compares like for like: the
  previous period only as far as today is into this one (year to date against last year to the
  same day), not a whole year against part of one.
- **Target to date** is each monthly target pro-rated by the days of the month that are both in the
  filtered period and past (today included). Summed targets (pipeline, leads …) add up; targets on a
  ratio (CPL, ROI …) are averaged, weighted by those days. The tiles add up the targets of every
  objective that has one on the KPI.
- **On track** means the actual to date is at least 95 % of the target to date (for a KPI where lower
  is better, such as CAC: at most target ÷ 95 %); otherwise **at risk**. An objective with no target
  in the period says "no target".
"""
