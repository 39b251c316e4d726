"""Campaign facts (spend entries and daily results) beyond the campaign page's hand entry: the keyed
spend upsert and all-or-nothing batches of spend and result rows (``services``), each campaign's
fact totals for lists in one query (``selectors``) and the spend and results API (``api``, mounted
by ``campaigns.api``). Logging spend and results by hand (``campaigns.services.spend_log`` /
``results_log``, the campaign page's spend and results pages) is the campaign core, which these
build on; spreadsheet imports are ``campaigns.imports``.

May import the campaign core (``campaigns.models``, ``permissions``, ``services``, ``hooks``,
``api.common``), ``planning`` and the core (``mops``).
"""
