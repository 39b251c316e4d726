"""The four role dashboards (CMO, finance, marketer, ops) and the weekly e-mail report: each a board of
panels built by plain functions from the filter bar's ``Filters``, the user's ``Scope`` and today's
date (``metrics.dashboards.panels.Inputs``).

Money comes from the rollups (``metrics.rollups.selectors`` or one ``GROUP BY`` over the rollup cells);
only what the rollups do not hold is read from its own tables with one aggregate query each: pending
approvals, allocations per campaign, workflow steps, import batches and duplicate-looking spend
entries. Every read is a fixed number of queries whatever the size of the data, cached on the board,
so a page computes each once and a download (``?download=<panel id>``) only what its panel needs.

Rooms:

- ``panels``: what every board shares — ``Inputs``, ``Panel``, ``Tile``, ``Board``, numbers and dates
  in words, the filter summary, freshness and downloads (the filter bar itself is ``metrics.rollups.forms``).
- ``cmo/`` (the CMO's board, a package of its own), ``finance``, ``marketer``, ``ops``: one module per
  role board; ``common``: the reads the finance, marketer and ops boards share.
- ``figures`` (Plotly, pure functions), ``forecast`` (pure functions), ``views`` (one view renders
  every board: ``board_page``), ``permissions``, ``report`` (the weekly e-mail, sent by
  ``metrics.tasks.send_weekly_report``), ``models`` (``ReportSend``: what it has sent, once per week and
  recipient).
- Templates in ``templates/metrics/dashboards/``.

May import ``metrics.rollups`` and ``metrics.kpis`` (and the lower apps); never ``metrics.scenarios``.
"""
