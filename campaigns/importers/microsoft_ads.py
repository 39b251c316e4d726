"""Microsoft Advertising: the report download / Reporting API and the Fivetran
``campaign_performance_daily_report`` table.

Report: a preamble ("Report Name: …", "Report Time: …", "Rows: …"), then ``TimePeriod`` (or
``Date``/``GregorianDate``), ``CampaignName`` (or ``Campaign``/``CampaignId``), ``Spend``,
``Impressions``, ``Clicks``, ``Conversions``, ``Revenue``, ``CurrencyCode``; a "©… Microsoft
Corporation" footer. Fivetran: the same in snake case (``date``, ``campaign_id``, ``currency_code`` …).
Rows are split by device, network, match type and position: the rows of one campaign-day add up.
Conversions count as leads and revenue as revenue.
"""

from campaigns.importers import layouts, parsing, shapes, sheets
from campaigns.models import FactSource

SOURCE = FactSource.MICROSOFT_ADS
LABEL = "Microsoft Advertising"

_CAMEL_SIGNATURE = {"TimePeriod", "CampaignName", "CurrencyCode", "GregorianDate", "CampaignId"}
_SEGMENTS = {"device os", "device type", "network", "ad distribution", "top vs other", "bid match type"}
BREAKDOWNS = (
    "account name",
    "account id",
    "account number",
    "device os",
    "device type",
    "network",
    "ad distribution",
    "bid match type",
    "delivered match type",
    "top vs other",
    "budget name",
    "budget association status",
    "ad group",
    "ad group name",
    "ad group id",
    "keyword",
)
MEASURES = {
    "impressions": ("impressions", "impr"),
    "clicks": ("clicks",),
    "leads": ("conversions", "conv"),
    "revenue": ("revenue",),
}


def detect(header: list[str]) -> bool:
    raw = {h.strip().lstrip("\ufeff") for h in header if h}
    names = {parsing.normalise_header(h) for h in header}
    if raw & _CAMEL_SIGNATURE and "spend" in names:
        return True
    return {"spend", "currency code", "campaign id"} <= names and bool(names & _SEGMENTS)


def layout(header: list[str]) -> layouts.Layout:
    names = [parsing.normalise_header(h) for h in header]
    ref = [
        i
        for i in (parsing.find_column(names, "campaign name", "campaign"), parsing.find_column(names, "campaign id"))
        if i is not None
    ]
    date = parsing.find_column(names, "time period", "date", "gregorian date")
    if not ref:
        raise shapes.LayoutError("This Microsoft Advertising report has no CampaignName column.")
    if date is None:
        raise shapes.LayoutError(
            "This Microsoft Advertising report has no TimePeriod column: choose the Daily aggregation."
        )
    return layouts.Layout(
        ref=ref,
        date=date,
        spend=parsing.find_column(names, "spend"),
        currency=parsing.find_column(names, "currency code", "currency"),
        measures=parsing.find_measures(names, MEASURES),
        breakdown=[i for i, n in enumerate(names) if n in BREAKDOWNS],
    )


def parse(table: sheets.Table):
    return layouts.parse_rows(table, layout(table.header))
