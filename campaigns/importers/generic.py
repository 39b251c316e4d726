"""The generic long sheet (CSV or XLSX) a marketer keeps by hand: one row per campaign and day.

Columns, in any order and any case: a date (``Date``/``Day``), the campaign (``Campaign code`` or
``Campaign``/``Campaign name`` — a code, a name or a remembered alias), optionally ``Channel``
(checked against the campaign's), spend (``Spend``/``Cost``/``Amount``), ``Currency`` (else the
campaign's currency), and any result columns named like our measures (``Impressions``, ``MQLs``,
``Won revenue`` …; see ``base.MEASURE_SYNONYMS``). Slash dates must be unambiguous (or ISO).
Two rows for the same campaign and day are an error, not a sum.
"""

from campaigns.importers import base
from campaigns.models import FactSource

SOURCE = FactSource.GENERIC
LABEL = "Spreadsheet"

DATE = ("date", "day", "spend date", "report date", "reporting date", "activity date")
CODE = ("campaign code", "code", "campaign slug", "campaign id")
NAME = ("campaign", "campaign name", "name")
SPEND = ("spend", "cost", "amount", "amount spent", "spent", "total spent", "media spend", "spend amount")
CURRENCY = ("currency", "currency code", "ccy")


def _columns(header: list[str]) -> tuple[list[str], dict]:
    names = [base.normalise_header(h) for h in header]
    found = {
        "date": base.find_column(names, *DATE),
        "ref": [i for i in (base.find_column(names, *CODE), base.find_column(names, *NAME)) if i is not None],
        "spend": base.find_column(names, *SPEND),
        "measures": base.find_measures(names, base.MEASURE_SYNONYMS),
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


def layout(header: list[str]) -> base.Layout:
    missing = missing_columns(header)
    if missing:
        raise base.LayoutError(f"The sheet lacks {' and '.join(missing)}.")
    names, found = _columns(header)
    return base.Layout(
        ref=found["ref"],
        date=found["date"],
        spend=found["spend"],
        currency=base.find_column(names, *CURRENCY),
        measures=found["measures"],
        channel=base.find_column(names, "channel"),
        month_first=None,  # a hand-made sheet may be either way round: refuse to guess
        ref_in_breakdown=False,  # one row per campaign and day; a second one is a duplicate
    )


def parse(table: base.Table):
    return base.parse_rows(table, layout(table.header))
