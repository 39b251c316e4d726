"""Importing spend and results from spreadsheets and ad-platform exports (CSV, TSV, XLSX).

Rooms: ``services`` (upload, map, start, run, the requeue sweep; the flow and its faults are told
there), ``checking`` (the check of a file's rows, block by block), ``writing`` (staging and the
set-based write), ``upserts``, ``files`` (the stored upload), ``messages`` (what pages and API say
about a batch), ``selectors``, ``forms``, ``views`` (the import pages; templates in
``templates/campaigns/imports/``) and ``api`` (mounted by ``campaigns.api``). How a file is read
is ``campaigns.importers``; the Celery tasks are ``campaigns.tasks``, which call these services
(never the reverse).

May import ``campaigns.importers``, the campaign core (``campaigns.models``, ``permissions``,
``selectors``, ``hooks``) and the core (``mops``).
"""
