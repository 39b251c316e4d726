"""What importers yield and raise: ``ParsedRow`` / ``RowError`` (one data row, read or refused),
the ``ImportFileError`` family (the file as a whole cannot be imported), the bounds a value must
keep and the usual names of our measures' columns. Imports nothing of the importers."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

# --- the shapes importers yield -----------------------------------------------------------------


@dataclass(slots=True)
class ParsedRow:
    """One data row of a file, read but not yet matched to a campaign."""

    row: int  # the row number a spreadsheet program shows (preamble and header rows count)
    ref: str  # how the file names the campaign: code, name or platform id
    date: datetime.date
    spend: Decimal | None  # None: the row states no spend (results only)
    currency: str | None  # None: the file names no currency; the campaign's currency applies
    measures: dict[str, Decimal]  # RESULT_MEASURES present in the file; money ones in ``currency``
    breakdown: tuple = ()  # segment values (device, network, ad …) that split one campaign-day
    channel: str = ""  # the generic format's optional channel column, checked against the campaign


@dataclass(slots=True)
class RowError:
    row: int
    message: str


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why, for the person who uploaded it."""


class NotASpreadsheet(ImportFileError):
    pass


class UnknownFormat(ImportFileError):
    pass


class LayoutError(ImportFileError):
    """A header an importer recognises but cannot use (a required column is missing)."""


class AmbiguousFormat(UnknownFormat):
    """The header fits several formats and none of them reads every column the others read."""


class LimitError(ImportFileError):
    """The file is past a limit (rows, columns, unpacked size): refused as soon as it is seen."""


# Result measures that are money (converted to the base currency like spend); the others are counts.
MONEY_MEASURES = frozenset({"pipeline", "revenue"})
# Money (spend, pipeline, revenue) is bounded by the one money bound, ``mops.money.MONEY_MAX``;
# counts by what their columns hold (a count must be below its ceiling).
MAX_COUNT = {
    "impressions": 10**15,
    "clicks": 10**15,
}
MAX_SMALL_COUNT = 2_147_483_647  # PositiveIntegerField
EARLIEST, LATEST = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)

# Column names of our measures and their usual synonyms, after ``normalise_header``.
MEASURE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "impressions": ("impressions", "impr", "imps", "impression"),
    "clicks": ("clicks", "click", "link clicks"),
    "leads": ("leads", "lead"),
    "mqls": ("mqls", "mql", "marketing qualified leads"),
    "sqls": ("sqls", "sql", "sales qualified leads"),
    "opportunities": ("opportunities", "opportunity", "opps", "opp"),
    "pipeline": ("pipeline", "pipeline value", "pipeline amount"),
    "new_customers": ("new customers", "customers", "won deals", "deals won", "closed won", "new logos"),
    "revenue": ("revenue", "won revenue", "closed won revenue", "bookings"),
}
