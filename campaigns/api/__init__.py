"""Campaigns API: programs, campaigns (with their totals; one action per status command), spend and
results (single rows and all-or-nothing bulk posts), spreadsheet imports and campaign files.

Serializers check the shape of a request; every write goes through ``campaigns.services``,
``campaigns.facts.services``, ``campaigns.attachments.services`` or ``campaigns.imports.services``,
whose errors become 400 / 403 / 409 bodies in ``mops.api_base.exception_handler``.

Here: ``plan`` (programs and campaigns), ``common`` (fields every endpoint shares) and ``urls``
(the router, mounted by ``mops.urls``); the subsystems' endpoints live with them
(``facts.api``, ``imports.api``, ``attachments.api``).
"""
