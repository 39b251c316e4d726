"""One module per source format. Each has ``SOURCE`` (a ``FactSource`` value), ``LABEL``,
``detect(header) -> bool``, ``layout(header) -> base.Layout`` (raises ``LayoutError`` naming a
missing column) and ``parse(table)`` yielding ``ParsedRow`` / ``RowError`` one row at a time.
``base.sniff`` finds the header row and the format; ``parse_file`` reads a file end to end, and
``columns.parse_blocks`` reads it a block of rows at a time, column-wise (what imports use)."""

from collections.abc import Iterator

from campaigns.importers import base, generic, google_ads, linkedin_ads, meta_ads, microsoft_ads

IMPORTERS = {module.SOURCE: module for module in (google_ads, meta_ads, linkedin_ads, microsoft_ads, generic)}


def detection_order():
    """Platform exports first (their headers are distinctive), the generic sheet last. Microsoft
    comes before Google: its UI export shares Google's "Impr." but says "Spend", not "Cost"."""
    return [microsoft_ads, google_ads, meta_ads, linkedin_ads, generic]


def parse_file(path, format: str | None = None) -> Iterator[base.ParsedRow | base.RowError]:
    format, table = base.sniff(path, format=format)
    return IMPORTERS[format].parse(table)
