"""Transfers: moves of base-currency budget between (line, month) cells — a reallocation asked by
finance or a marketer (or a plan's reallocations at once, e.g. an accepted scenario's) runs through
the "Budget transfer" workflow, whose approval writes the two ledger entries; finance's
carry-forward of a month's unspent money is written at once.

Rooms: ``services`` (ask, propose, carry forward, the workflow callbacks), ``selectors`` (the
transfers waiting in finance's queue), ``forms``, ``views`` (the pages), ``api``
(``/api/v1/transfers/``: ``TransferSerializer``, ``TransferViewSet``); templates in
``templates/budgets/transfers/``. The model (``Transfer``) and ``transfers_visible_to`` stay in
``budgets.models`` and ``budgets.permissions``.

May import: the budgets ledger core (``budgets.models``, ``services``, ``selectors``, ``permissions``,
``hooks``, ``views.require``) and the apps below budgets. Not ``budgets.requests``, nor
``budgets.subjects``, which registers these services' callbacks with the workflows registry."""
