"""Workflow API: templates (and their preview), subject types, instances, "my tasks" with one action
per decision, general approval requests and delegations.

Every write goes through ``workflows.services`` (or ``workflows.subjects.request_create``); the
errors they raise become 400 / 403 / 409 bodies in ``mops.api_base.exception_handler``.

Modules: ``templates``, ``runs`` (instances and tasks), ``requests`` (requests and delegations),
``common`` and ``urls`` (the router, mounted by ``mops.urls``).
"""
