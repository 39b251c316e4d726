"""Allocation requests: a marketer asks for money from a budget line for a campaign (or program), by
month; the "Budget allocation request" workflow decides, and approval turns the months into
allocations if the line still has the money.

Rooms: ``services`` (create, the workflow callbacks), ``selectors`` (the request pages, finance's
approval queue, the campaign page's budget card), ``forms``, ``views`` (the pages and the queue),
``api`` (``/api/v1/allocation-requests/``); templates in ``templates/budgets/requests/``. The
models (``AllocationRequest``, ``AllocationRequestMonth``, ``Allocation``) and the who-sees-what
(``requests_visible_to``, ``can_request_from``) stay with the ledger in ``budgets.models`` and
``budgets.permissions``.

May import: the budgets ledger core (``budgets.models``, ``services``, ``selectors``, ``permissions``,
``hooks``, ``views.require``), ``budgets.transfers.selectors`` (the queue shows waiting transfers
too), and the apps below budgets (campaigns, workflows, planning, mops). Not ``budgets.subjects``,
which registers these services' callbacks with the workflows registry."""
