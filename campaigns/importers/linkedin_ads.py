"""LinkedIn Ads: the Campaign Manager export and the Fivetran ``ad_analytics_by_campaign`` table.

Campaign Manager: a preamble (report title, report start/end …), then ``Start Date (in UTC)``,
``Campaign Name``, ``Total Spent``, ``Impressions``, ``Clicks``, ``Leads``, ``Currency``; US dates.
Fivetran: ``campaign_id``, ``day``, ``impressions``, ``clicks``, ``one_click_leads``,
``cost_in_usd`` and ``cost_in_local_currency``. The table does not say which currency is local, so
spend is read from ``cost_in_usd`` (in USD); a row with local cost but no USD cost is refused.
"""

from decimal import Decimal

import numpy as np

from campaigns.importers import layouts, parsing, shapes, sheets
from campaigns.models import FactSource

SOURCE = FactSource.LINKEDIN_ADS
LABEL = "LinkedIn Ads"

BREAKDOWNS = ("campaign group name", "campaign group id", "ad name", "creative name", "creative id", "account name")


def _names(header):
    return [parsing.normalise_header(h) for h in header]


def _is_fivetran(names) -> bool:
    return "cost in local currency" in names or "cost in usd" in names


def detect(header: list[str]) -> bool:
    names = _names(header)
    return "start date in utc" in names or _is_fivetran(names) or ("campaign name" in names and "total spent" in names)


def layout(header: list[str]) -> layouts.Layout:
    names = _names(header)
    if _is_fivetran(names):
        ref = parsing.find_column(names, "campaign id", "campaign name")
        date = parsing.find_column(names, "day", "date")
        if ref is None or date is None:
            raise shapes.LayoutError("This LinkedIn Ads table needs campaign_id and day columns.")
        usd, local = parsing.find_column(names, "cost in usd"), parsing.find_column(names, "cost in local currency")

        def check(cells, row):
            if usd is None or not parsing.cell_text(layouts.cell(cells, usd)):
                try:
                    local_cost = parsing.parse_number(layouts.cell(cells, local)) if local is not None else None
                except ValueError:
                    return f"cost in local currency {parsing.show(layouts.cell(cells, local))!r} is not a number"
                if local_cost:
                    return "the row has a cost in local currency but none in USD, and names no currency"
                row.spend = Decimal(0)
            return None

        def no_usd(value) -> bool:
            return not parsing.cell_text(value)

        def local_cost_stated(value) -> bool:  # or unreadable: the row rule says which
            try:
                return bool(parsing.parse_number(value))
            except ValueError:
                return True

        def check_columns(column, parsed, read):
            spend = parsed["spend"]
            without_usd = np.ones(len(spend), dtype=bool) if usd is None else read(column(usd), no_usd, bool)
            if local is not None:
                refused = without_usd & read(column(local), local_cost_stated, bool)
            else:
                refused = np.zeros(len(spend), dtype=bool)
            spend[without_usd & ~refused] = "0"
            return refused

        return layouts.Layout(
            ref=[ref],
            date=date,
            spend=usd,
            currency_fixed="USD",
            measures=parsing.find_measures(
                names, {"impressions": ("impressions",), "clicks": ("clicks",), "leads": ("one click leads",)}
            ),
            check=check,
            check_columns=check_columns,
        )
    ref = [
        i for i in (parsing.find_column(names, "campaign name", "campaign"), parsing.find_column(names, "campaign id"))
    ]
    ref = [i for i in ref if i is not None]
    date = parsing.find_column(names, "start date in utc", "start date", "date")
    if not ref:
        raise shapes.LayoutError("This LinkedIn Ads export has no Campaign Name column.")
    if date is None:
        raise shapes.LayoutError("This LinkedIn Ads export has no Start Date (in UTC) column.")
    return layouts.Layout(
        ref=ref,
        date=date,
        spend=parsing.find_column(names, "total spent", "amount spent", "spend"),
        currency=parsing.find_column(names, "currency"),
        measures=parsing.find_measures(
            names, {"impressions": ("impressions",), "clicks": ("clicks",), "leads": ("leads",)}
        ),
        breakdown=[i for i, n in enumerate(names) if n in BREAKDOWNS],
        end_date=parsing.find_column(names, "end date in utc"),
    )


def parse(table: sheets.Table):
    return layouts.parse_rows(table, layout(table.header))
