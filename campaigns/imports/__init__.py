"""Importing spend and results from spreadsheets and ad-platform exports (CSV, TSV, XLSX).

Rooms: ``services`` (upload, map, start, run, the requeue sweep; the flow and its faults are
told there), ``checking`` (the check of a file's rows, block by block), ``writing`` (staging and
the set-based write), ``upserts``, ``files`` (the stored upload) and ``messages`` (what the pages
say about a batch). How a file is read is ``campaigns.importers``; the Celery tasks are
``campaigns.tasks``, which call these services (never the reverse).

May import: ``campaigns.importers``, ``campaigns.models``, ``campaigns.permissions``,
``campaigns.hooks`` and the core (``mops``).
"""
