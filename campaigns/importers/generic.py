"""The generic long sheet (CSV or XLSX) a marketer keeps by hand: one row per campaign and day.

Columns, in any order and any case: a date (``Date``/``Day``), the campaign (``Campaign code`` or
``Campaign``/``Campaign name`` — a code, a name or a remembered alias), optionally ``Channel``
(checked against the campaign's), spend (``Spend``/``Cost``/``Amount``), ``Currency`` (else the
campaign's currency), and any result columns named like our measures (``Impressions``, ``MQLs``,
``Won revenue`` …; see ``shapes.MEASURE_SYNONYMS``). Slash dates must be unambiguous (or ISO).
Two rows for the same campaign and day are an error, not a sum.
"""

from campaigns.importers import layouts, parsing, shapes, sheets
from campaigns.models import FactSource

SOURCE = FactSource.GENERIC
LABEL = "Spreadsheet"

DATE = ("date", "day", "spend date", "report date", "reporting date", "activity date")
CODE = ("campaign code", "code", "campaign slug", "campaign id")
NAME = ("campaign", "campaign name", "name")
SPEND = ("spend", "cost", "amount", "amount spent", "spent", "total spent", "media spend", "spend amount")
CURRENCY = ("currency", "currency code", "ccy")


def _columns(header: list[str]) -> tuple[list[str], dict]:
    names = [parsing.normalise_header(h) for h in header]
    found = {
        "date": parsing.find_column(names, *DATE),
        "ref": [i for i in (parsing.find_column(names, *CODE), parsing.find_column(names, *NAME)) if i is not None],
        "spend": parsing.find_column(names, *SPEND),
        "measures": parsing.find_measures(names, shapes.MEASURE_SYNONYMS),
    }
    return names, found


def missing_columns(header: list[str]) -> list[str]:
    _, found = _columns(header)
    missing = []
    if found["date"] is None:
        missing.append("a date column")
    if not found["ref"]:
        missing.append("a campaign column")
    if found["spend"] is None and not found["measures"]:
        missing.append("a spend or result column")
    return missing


def detect(header: list[str]) -> bool:
    return not missing_columns(header)


def layout(header: list[str]) -> layouts.Layout:
    missing = missing_columns(header)
    if missing:
        raise shapes.LayoutError(f"The sheet lacks {' and '.join(missing)}.")
    names, found = _columns(header)
    return layouts.Layout(
        ref=found["ref"],
        date=found["date"],
        spend=found["spend"],
        currency=parsing.find_column(names, *CURRENCY),
        measures=found["measures"],
        channel=parsing.find_column(names, "channel"),
        month_first=None,  # a hand-made sheet may be either way round: refuse to guess
        ref_in_breakdown=False,  # one row per campaign and day; a second one is a duplicate
    )


def parse(table: sheets.Table):
    return layouts.parse_rows(table, layout(table.header))
