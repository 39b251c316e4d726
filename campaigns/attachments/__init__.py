"""A campaign's files (briefs, creative, contracts and POs, reports): what a file really is, told
from its content (``filetypes``), the writes (``services``), the page's upload form (``forms``),
the upload, download and delete pages (``views``) and the API (``api``, mounted by
``campaigns.api``). Who may see or change a file is ``campaigns.permissions``; the model is
``campaigns.models.CampaignAttachment``.

May import the campaign core (``campaigns.models``, ``permissions``, ``selectors``, ``services``,
``api.common``) and the core (``mops``); the campaign core imports only ``forms`` from here (the
campaign page shows the upload form).
"""
