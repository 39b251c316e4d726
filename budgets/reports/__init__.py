"""Budget vs actual: budget, allocated, committed, actual and available per group (line, team,
channel, program, campaign or month) and month of a budget version, with the spend no line funds as
its own row, the drill-down to what lies behind a cell, CSV/XLSX downloads of exactly the grid shown,
and the same numbers as JSON.

Rooms: ``selectors`` (the report, its table, a cell's detail), ``forms`` (the page's filter),
``views`` (the grid, the drill-down), ``api`` (``/api/v1/budget-vs-actual/``); templates in
``templates/budgets/reports/``. Every line-month is ``budgets.selectors.ledger_cells``' — the
figures the approvals check — so this package only reads.

May import: the budgets ledger core (``budgets.models``, ``selectors``, ``permissions``) and the
apps below budgets; no budgets service and no other budgets subsystem."""
