"""Google Ads: the UI report download and the API / Fivetran ``campaign_stats`` table.

UI: a preamble (report name, date range) before the header; ``Campaign``, ``Day``, ``Currency code``,
``Cost``, ``Impr.``, ``Clicks``, ``Conversions``, ``Conv. value``; money may carry symbols and
thousands separators; "Total: …" rows at the end; sometimes UTF-16 and tab-separated.
API: ``id`` (campaign id) or ``campaign_name``, ``date``, ``cost_micros`` (cost × 1,000,000),
``impressions``, ``clicks``, ``conversions``, ``conversions_value``, split by ``ad_network_type``
and ``device`` (the rows of one campaign-day add up). The API table names no currency: the
campaign's currency applies.

Conversions count as leads and conversion value as revenue (converted to the base currency).
Fractional conversions (data-driven attribution) are summed per campaign-day, then rounded.
"""

from decimal import Decimal

from campaigns.importers import layouts, parsing, shapes, sheets
from campaigns.models import FactSource

SOURCE = FactSource.GOOGLE_ADS
LABEL = "Google Ads"

MICROS = Decimal("0.000001")
UI_MEASURES = {
    "impressions": ("impr", "impressions"),
    "clicks": ("clicks",),
    "leads": ("conversions", "conv"),
    "revenue": ("conv value", "conversion value", "total conv value"),
}
API_MEASURES = {
    "impressions": ("impressions", "metrics impressions"),
    "clicks": ("clicks", "metrics clicks"),
    "leads": ("conversions", "metrics conversions"),
    "revenue": ("conversions value", "metrics conversions value"),
}
SEGMENTS = (
    "device",
    "segments device",
    "network",
    "network with search partners",
    "ad network type",
    "segments ad network type",
    "ad group",
    "ad group id",
    "ad group name",
    "ad id",
    "keyword",
    "search keyword",
    "top vs other",
    "click type",
    "account",
    "customer id",
)


def _names(header):
    return [parsing.normalise_header(h) for h in header]


def _is_api(names) -> bool:
    return "cost micros" in names or "metrics cost micros" in names


def detect(header: list[str]) -> bool:
    names = _names(header)
    if _is_api(names):
        return True
    return ("impr" in names or "conv value" in names) and "cost" in names


def layout(header: list[str]) -> layouts.Layout:
    names = _names(header)
    segments = [i for i, name in enumerate(names) if name in SEGMENTS]
    if _is_api(names):
        ref = [
            i
            for i in (
                parsing.find_column(names, "campaign name"),
                parsing.find_column(names, "id", "campaign id"),
            )
            if i is not None
        ]
        date = parsing.find_column(names, "date", "segments date")
        if not ref or date is None:
            raise shapes.LayoutError("This Google Ads table needs a campaign id and a date column.")
        return layouts.Layout(
            ref=ref,
            date=date,
            spend=parsing.find_column(names, "cost micros", "metrics cost micros"),
            spend_scale=MICROS,
            currency=parsing.find_column(names, "currency code", "customer currency code"),
            measures=parsing.find_measures(names, API_MEASURES),
            breakdown=segments,
        )
    ref = [
        i for i in (parsing.find_column(names, "campaign"), parsing.find_column(names, "campaign id")) if i is not None
    ]
    date = parsing.find_column(names, "day", "date")
    if not ref:
        raise shapes.LayoutError("This Google Ads report has no Campaign column.")
    if date is None:
        raise shapes.LayoutError(
            "This Google Ads report has no Day column: add the Day segment so that each row is one day."
        )
    return layouts.Layout(
        ref=ref,
        date=date,
        spend=parsing.find_column(names, "cost"),
        currency=parsing.find_column(names, "currency code", "currency"),
        measures=parsing.find_measures(names, UI_MEASURES),
        breakdown=segments,
    )


def parse(table: sheets.Table):
    return layouts.parse_rows(table, layout(table.header))
