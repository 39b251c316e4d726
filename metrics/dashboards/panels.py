"""What every dashboard (CMO, finance, marketer, ops) shares: its inputs, panels and tiles, the words
it puts numbers and dates in, the filter summary with the rollups' freshness, and the download of
one panel's data.

A dashboard is a list of panels: a chart or table with its title, the formula behind it (shown as
a tooltip) and the data behind it, downloadable as CSV or XLSX from the same URL and filters
(``?download=<panel id>&format=csv``). Boards build panels lazily, so a download computes one panel.

Values in ``Panel.rows`` are what downloads hold (Decimal, int, date, text; None is "no value");
``display_rows`` are the same values formatted for the page by the helpers below ("—" for no value).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import plotly.graph_objects as go
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.html import format_html

from metrics.kpis import catalogue as kpis
from metrics.rollups.models import DirtyMark, RefreshRun
from metrics.rollups.selectors import Filters, Scope
from mops import exports
from mops.figures import to_html
from mops.money import money

NO_VALUE = kpis.NO_VALUE


@dataclass(frozen=True)
class Inputs:
    """What a board is built from: the filter bar's filters, the user's scope, today, the currency."""

    filters: Filters
    scope: Scope
    user: object
    today: datetime.date
    currency: str


@dataclass
class Panel:
    id: str
    title: str
    header: list[str]
    rows: list[list]
    help: str = ""  # formulas and definitions, shown as the panel's tooltip
    figure: go.Figure | None = None
    note: str = ""  # e.g. "not enough history for a forecast"
    display_rows: list[list] = field(default_factory=list)  # formatted for the page (defaults to rows)
    width: int = 6  # of 12 columns on wide screens
    table: bool = False  # a chart that also shows its table below it

    @property
    def figure_html(self) -> str:
        return to_html(self.figure, label=self.title) if self.figure is not None else ""

    @property
    def shown_rows(self) -> list[list]:
        return self.display_rows or self.rows


PanelBuilders = dict[str, Callable[[], Panel]]


@dataclass(frozen=True)
class Comparison:
    """A headline value against the previous period and against its target to date."""

    previous: Decimal | None
    change: Decimal | None  # relative (money, counts, ratios) or in points (percentages)
    change_text: str
    change_tone: str  # "good", "bad" or "neutral": the change read in the KPI's direction
    target: Decimal | None  # to date; None: no target
    target_shown: str  # the target to date, formatted
    percent_of_target: Decimal | None
    status: str  # "on track", "at risk", "no target", …

    @property
    def target_text(self) -> str:
        return f"{self.target_shown} ({percent_text(self.percent_of_target)})"


@dataclass(frozen=True)
class Tile:
    """A headline number: its label, its value as the page says it, the formula as a tooltip."""

    label: str
    text: str
    help: str = ""
    tone: str = ""  # a Bootstrap colour for the value: "danger", "warning", "success" or none
    code: str = ""  # the KPI the tile shows, where it shows one (it names the tile's test ids)
    value: Decimal | None = None  # the number behind ``text``
    unit: str = ""  # the currency code of a money value (the page sets it smaller beside the number)
    detail: str = ""  # e.g. the budget beside spend
    comparison: Comparison | None = None

    @property
    def number(self) -> str:
        """The value without its currency code."""
        return self.text.removesuffix(f" {self.unit}") if self.unit else self.text


class Board:
    """A dashboard: headline tiles, then its panels in sections, each panel built on demand.

    A board sets the class attributes and fills ``builders`` (panel id → builder, in page order)
    when it is made; ``metrics.dashboards.views.board_page`` renders it with ``template``, or answers the
    download of one panel (named ``<filename>-<start>-<end>-<panel id>``)."""

    title = ""
    intro = ""  # what the board is for, under its title
    template = "metrics/dashboards/board.html"  # the page's body (metrics/dashboards/board_page.html is the page)
    cache_seconds = 0  # > 0: the rendered body is cached (see metrics.dashboards.views._cache_key)
    filename = ""
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (heading, panel ids)
    comparison: Filters | None = None  # the period the board's changes compare with, if it shows changes

    def __init__(self, inputs: Inputs):
        self.inputs = inputs
        self.builders: PanelBuilders = {}

    def tiles(self) -> list[Tile]:
        return []

    def freshness(self) -> str:
        return read_freshness()


# --- numbers and dates in words ----------------------------------------------------------------


def rounded(value, step: str) -> Decimal:
    """``value`` to ``step`` ("0.1", "0.01"), half away from zero."""
    return Decimal(value).quantize(Decimal(step), rounding=ROUND_HALF_UP)


def money_text(value) -> str:
    return NO_VALUE if value is None else f"{money(value):,.2f}"


def count_text(value) -> str:
    return NO_VALUE if value is None else f"{value:,}"


def as_percent(fraction) -> Decimal | None:
    """A fraction (0.8523) as a percentage for downloads (85.2); None stays no value."""
    return None if fraction is None else rounded(Decimal(fraction) * 100, "0.1")


def share(numerator, denominator) -> Decimal | None:
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


def percent_text(percent) -> str:
    """A percentage (85.23) for the page: "85.2 %"."""
    return NO_VALUE if percent is None else f"{rounded(percent, '0.1'):,.1f} %"


def local_time(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def link(url: str, text: str) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


def formatted(rows: list[list], formats: list[Callable]) -> list[list]:
    return [[fmt(value) for fmt, value in zip(formats, row, strict=True)] for row in rows]


def or_dash(value) -> str:
    return NO_VALUE if value in (None, "") else str(value)


def day_range(start: datetime.date, end: datetime.date) -> str:
    """1 Jan – 23 Nov 2026; 1 Dec 2025 – 31 Jan 2026."""
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def month_range(first: datetime.date, last: datetime.date) -> str:
    """Mar 2026; Jan–Mar 2026; Dec 2025–Feb 2026."""
    if first == last:
        return f"{first:%b %Y}"
    if first.year == last.year:
        return f"{first:%b}–{last:%b %Y}"
    return f"{first:%b %Y}–{last:%b %Y}"


# --- the filter bar's summary ------------------------------------------------------------------


def filters_label(form, filters: Filters, *, comparison: Filters | None = None) -> str:
    """The filters in words: "FY2026: 1 Jan – 31 Dec 2026 · Team: EMEA", and what the changes compare
    with when the dashboard shows changes (``comparison``)."""
    data = form.cleaned_data if form.is_valid() else {}
    period = data.get("period") or form.default_period
    label = "Custom dates" if period == "custom" else dict(form.fields["period"].choices).get(period, period)
    parts = [f"{label}: {day_range(filters.start, filters.end)}"]
    for name in ("team", "channel", "program", "region"):
        if data.get(name):
            parts.append(f"{form.fields[name].label or name.capitalize()}: {data[name]}")
    if comparison is not None:
        parts.append(f"changes vs {day_range(comparison.start, comparison.end)}")
    return " · ".join(parts)


def freshness(last_refresh: datetime.datetime | None, pending_marks: int) -> str:
    """How fresh the numbers are: "rollups refreshed 3 Nov 2026 09:30 UTC, no changes waiting"."""
    if last_refresh is None:
        when = "rollups not built yet"
    else:
        local = timezone.localtime(last_refresh)
        when = f"rollups refreshed {local.day} {local:%b %Y %H:%M %Z}"
    if pending_marks:
        pending = f"{pending_marks} change{'s' if pending_marks != 1 else ''} waiting to be rolled up"
    else:
        pending = "no changes waiting"
    return f"{when}, {pending}"


def read_freshness() -> str:
    """``freshness`` from the last refresh and the pending marks (two queries, not rollup_status's six)."""
    last = RefreshRun.objects.aggregate(at=Max("finished_at"))["at"]
    return freshness(last, DirtyMark.objects.count())


# --- downloads ---------------------------------------------------------------------------------


def download(request, builders: PanelBuilders, *, filename: str) -> HttpResponse | None:
    """The data behind one panel when the request asks for it, else None."""
    panel_id = request.GET.get("download")
    if not panel_id:
        return None
    if panel_id not in builders:
        raise Http404("There is no such chart or table on this dashboard.")
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        raise Http404("Downloads are CSV or XLSX.")
    panel = builders[panel_id]()
    return exports.table_response(
        panel.header, panel.rows, filename=f"{filename}-{panel_id}", fmt=fmt, sheet=panel.title
    )
