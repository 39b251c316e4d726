"""Reading spend and results from spreadsheets and ad-platform exports, one module per source format
(``google_ads``, ``meta_ads``, ``linkedin_ads``, ``microsoft_ads``, ``generic``). Each has ``SOURCE``
(a ``FactSource`` value), ``LABEL``, ``detect(header) -> bool``, ``layout(header) -> layouts.Layout``
(raises ``LayoutError`` naming a missing column) and ``parse(table)`` yielding ``ParsedRow`` /
``RowError`` one row at a time.

Rooms: ``shapes`` (what importers yield and raise), ``parsing`` (one cell: headers, numbers, money,
dates), ``sheets`` (a file as a stream of rows), ``layouts`` (rows into ``ParsedRow``, the reference
reading), ``columns`` (``parse_blocks``: a block of rows at a time, column-wise — what imports use)
and ``formats`` (``IMPORTERS``, ``sniff``: the header row and format of a file, ``parse_file``).
The format modules import the shared ones, never ``formats``. May import ``campaigns.models``
(``FactSource`` only), settings and ``mops.money``; writing facts is ``campaigns.imports``.
"""
