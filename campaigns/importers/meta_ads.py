"""Meta (Facebook) Ads: the Ads Manager export and the Fivetran ``basic_ad`` / ``basic_campaign`` tables.

Ads Manager: ``Reporting starts`` / ``Reporting ends`` (each row must be one day: export with the
Day breakdown), ``Campaign name``, ``Amount spent (USD)`` — the currency is in the header —,
``Impressions``, ``Link clicks``, ``Leads`` or ``Results`` (counted as leads when the
``Result indicator`` is a lead, or when there is none).
Fivetran: ``ad_id`` (or ``campaign_id``), ``date``, ``spend``, ``impressions``,
``inline_link_clicks``; no currency, so the campaign's currency applies; ad ids are mapped to
campaigns once and remembered, and the ads of one campaign-day add up.
"""

import re
from decimal import Decimal

from campaigns.importers import layouts, parsing, shapes, sheets
from campaigns.models import FactSource

SOURCE = FactSource.META_ADS
LABEL = "Meta Ads"

_AMOUNT_SPENT = re.compile(r"^amount spent(?: ([a-z]{3}))?$")
BREAKDOWNS = (
    "ad set name",
    "ad set id",
    "ad name",
    "ad id",
    "age",
    "gender",
    "placement",
    "platform",
    "publisher platform",
    "platform position",
    "device platform",
    "impression device",
    "region",
    "country",
    "account name",
    "account id",
)


def _names(header):
    return [parsing.normalise_header(h) for h in header]


def _is_fivetran(names) -> bool:
    return "inline link clicks" in names and "spend" in names and "date" in names


def detect(header: list[str]) -> bool:
    names = _names(header)
    return "reporting starts" in names or any(_AMOUNT_SPENT.match(n) for n in names) or _is_fivetran(names)


def layout(header: list[str]) -> layouts.Layout:
    names = _names(header)
    if _is_fivetran(names) and "reporting starts" not in names:
        ref = parsing.find_column(names, "campaign id", "ad id")
        if ref is None:
            raise shapes.LayoutError("This Meta Ads table needs an ad_id or campaign_id column.")
        return layouts.Layout(
            ref=[ref],
            date=names.index("date"),
            spend=names.index("spend"),
            currency=parsing.find_column(names, "account currency", "currency"),
            measures=parsing.find_measures(
                names, {"impressions": ("impressions",), "clicks": ("inline link clicks",), "leads": ("leads",)}
            ),
            breakdown=[i for i, n in enumerate(names) if n in BREAKDOWNS and i != ref],
        )
    ref = [
        i
        for i in (parsing.find_column(names, "campaign name"), parsing.find_column(names, "campaign id"))
        if i is not None
    ]
    date = parsing.find_column(names, "reporting starts", "day", "date")
    if not ref:
        raise shapes.LayoutError("This Meta Ads export has no Campaign name column.")
    if date is None:
        raise shapes.LayoutError("This Meta Ads export has no Reporting starts column.")
    spend, currency_fixed = None, None
    for index, (raw, name) in enumerate(zip(header, names, strict=True)):
        match = _AMOUNT_SPENT.match(name)
        if match:
            spend = index
            code = re.search(r"\(([A-Za-z]{3})\)", raw)
            currency_fixed = code.group(1).upper() if code else None
            break
    measures = parsing.find_measures(names, {"impressions": ("impressions",), "clicks": ("link clicks", "clicks all")})
    leads = parsing.find_column(names, "leads", "on facebook leads", "website leads")
    results = parsing.find_column(names, "results")
    indicator = parsing.find_column(names, "result indicator", "result type")
    check = check_columns = None
    if leads is not None:
        measures["leads"] = leads
    elif results is not None:
        measures["leads"] = results
        if indicator is not None:

            def not_leads(value) -> bool:
                # "Results" counts whatever the campaign optimises for; only lead results are leads.
                kind = str(value if value else "").lower()
                return bool(kind) and "lead" not in kind

            def check(cells, row):
                if not_leads(cells[indicator] if indicator < len(cells) else None):
                    row.measures["leads"] = Decimal(0)
                return None

            def check_columns(column, parsed, read):
                parsed["measures"]["leads"][read(column(indicator), not_leads, bool)] = "0"
                return None

    return layouts.Layout(
        ref=ref,
        date=date,
        spend=spend,
        currency=parsing.find_column(names, "currency"),
        currency_fixed=currency_fixed,
        measures=measures,
        breakdown=[i for i, n in enumerate(names) if n in BREAKDOWNS],
        end_date=parsing.find_column(names, "reporting ends"),
        check=check,
        check_columns=check_columns,
        also_reads={indicator: "which results are leads"} if check is not None else {},
    )


def parse(table: sheets.Table):
    return layouts.parse_rows(table, layout(table.header))
