"""The CMO dashboard: headline tiles, the monthly trend with its forecast to year end, ROI/ROAS by
channel and by program, the funnel, objectives against their targets and the best and worst
campaigns by ROI — as panels (``metrics.panels.Panel``) built by plain functions of ``Reads``.

``Reads`` holds the filters and the user's scope and reads each thing the panels need at most once
per request, lazily: the page reads a fixed set of rollup queries whatever the size of the data,
and a download (one panel) reads only what that panel needs.

Definitions the page states in its help texts:

- **Change vs the previous period** compares with the period just before, of the same length
  (``Filters.shifted_back``). While the period is still running it compares like for like: the
  previous period only as far as today is into this one (year to date against last year to the
  same day), not a whole year against part of one.
- **Target to date** is each monthly target pro-rated by the days of the month that are both in the
  filtered period and past (today included). Summed targets (pipeline, leads …) add up; targets on a
  ratio (CPL, ROI …) are averaged, weighted by those days. The tiles add up the targets of every
  objective that has one on the KPI.
- **On track** means the actual to date is at least 95 % of the target to date (for a KPI where lower
  is better, such as CAC: at most target ÷ 95 %); otherwise **at risk**. An objective with no target
  in the period says "no target".
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from metrics import figures, kpis, selectors
from metrics.calendar import add_months
from metrics.forecast import (
    DAMPED_TREND,
    MINIMUM_MONTHS,
    NOT_ENOUGH_HISTORY,
    SEASONAL_NAIVE,
    Forecast,
    forecast_monthly,
    spend_pacing,
)
from metrics.panels import Panel
from metrics.selectors import Filters, Row, Scope
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import KpiTarget, Objective

ON_TRACK = "on track"
AT_RISK = "at risk"
NO_TARGET = "no target"
NOT_STARTED = "not started"  # the period has no day in the past yet
NO_VALUE = "no value"  # the actual is a ratio with a zero denominator
ON_TRACK_SHARE = Decimal("0.95")
ZERO = Decimal("0.00")
HISTORY_YEARS = 2  # fiscal years of history before the forecast year (36 months in all)
TILES = ("spend", "pipeline", "revenue", "roi", "cac")
FORECAST_MEASURES = (("spend", "Spend"), ("pipeline", "Pipeline"), ("revenue", "Won revenue"))
TREND_MEASURES = (("spend", "Spend"), ("revenue", "Won revenue"))
FUNNEL = (
    ("leads", "Leads", None),
    ("mqls", "MQLs", "lead_to_mql"),
    ("sqls", "SQLs", "mql_to_sql"),
    ("opportunities", "Opportunities", "sql_to_opportunity"),
    ("new_customers", "Won", "opportunity_to_won"),
)
RETURN_KPIS = ("roas", "roi", "pipeline_per_spend")
CAMPAIGNS_SHOWN = 5
CHANGE_SHOWN = 999  # percent
STATUS_HELP = (
    "On track: actual to date ≥ 95 % of the target to date (for lower-is-better KPIs such as CAC: at "
    "most the target ÷ 95 %); at risk otherwise. Target to date: each monthly target pro-rated by the "
    "days of the month in the period that are past."
)


def day_range(start: datetime.date, end: datetime.date) -> str:
    """1 Jan – 23 Nov 2026; 1 Dec 2025 – 31 Jan 2026."""
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def month_range(first: datetime.date, last: datetime.date) -> str:
    if first == last:
        return f"{first:%b %Y}"
    if first.year == last.year:
        return f"{first:%b}–{last:%b %Y}"
    return f"{first:%b %Y}–{last:%b %Y}"


def _overlap_days(a_start, a_end, b_start, b_end) -> int:
    return max((min(a_end, b_end) - max(a_start, b_start)).days + 1, 0)


class Reads:
    """What the CMO dashboard reads for ``filters`` within ``scope``, each at most once."""

    def __init__(self, filters: Filters, *, scope: Scope, today: datetime.date | None = None, currency: str = ""):
        self.filters = filters
        self.scope = scope
        self.today = today or timezone.localdate()
        self.currency = currency or settings.BASE_CURRENCY
        self.catalogue = kpis.catalogue()  # the built-ins: this dashboard shows no custom KPI
        self._by: dict[str, list[Row]] = {}
        self._forecasts: dict[str, Forecast] = {}
        self.history_months: dict[str, int] = {}  # months each forecast was made from

    # --- periods ---

    @cached_property
    def in_progress(self) -> bool:
        return self.filters.start <= self.today < self.filters.end

    @cached_property
    def comparison(self) -> Filters:
        """The previous period; like for like while this one is still running."""
        previous = self.filters.shifted_back()
        if self.in_progress:
            elapsed = self.today - self.filters.start
            previous = replace(previous, end=min(previous.end, previous.start + elapsed))
        return previous

    @cached_property
    def year(self) -> tuple[datetime.date, datetime.date]:
        """The fiscal year the forecast runs to the end of: the one the filtered period ends in."""
        return fiscal_year_bounds(fiscal_year_of(self.filters.end))

    @cached_property
    def this_month(self) -> datetime.date:
        return self.today.replace(day=1)

    # --- rollup reads ---

    @cached_property
    def current(self) -> Row:
        return selectors.total(selectors.measures_by(self.filters, "organisation", scope=self.scope))

    @cached_property
    def previous(self) -> Row:
        return selectors.total(selectors.measures_by(self.comparison, "organisation", scope=self.scope))

    @cached_property
    def months(self) -> list[Row]:
        """The filtered period by month (edge months cut to the period)."""
        return selectors.series(self.filters, "month", scope=self.scope)[""]

    @cached_property
    def history(self) -> list[Row]:
        """Whole months from two fiscal years before the forecast year to its end, same filters."""
        start, end = self.year
        window = replace(self.filters, start=add_months(start, -12 * HISTORY_YEARS), end=end)
        return selectors.series(window, "month", scope=self.scope)[""]

    def by(self, group_by: str) -> list[Row]:
        """The period's measures per member of ``group_by``, with ROAS, ROI and pipeline per spend."""
        if group_by not in self._by:
            rows = selectors.measures_by(self.filters, group_by, scope=self.scope)
            self._by[group_by] = selectors.with_kpis(rows, RETURN_KPIS, self.catalogue)
        return self._by[group_by]

    # --- planning reads ---

    @cached_property
    def objectives(self) -> list[Objective]:
        """Active objectives of the fiscal years the period and the forecast year touch, with their
        monthly targets (two queries)."""
        first = min(self.filters.start, self.year[0])
        targets = KpiTarget.objects.select_related("period").order_by("kpi", "period__start_date")
        return list(
            Objective.objects.filter(
                is_active=True, fiscal_year__start_date__lte=self.year[1], fiscal_year__end_date__gte=first
            )
            .order_by("name")
            .prefetch_related(Prefetch("targets", queryset=targets))
        )

    def targets(self, code: str, objective: Objective | None = None) -> list[KpiTarget]:
        chosen = [objective] if objective is not None else self.objectives
        return [t for o in chosen for t in o.targets.all() if t.kpi == code]

    # --- forecast ---

    @cached_property
    def forecast_possible(self) -> bool:
        return self.today <= self.year[1]

    def forecast(self, code: str) -> Forecast | None:
        """The measure's monthly forecast from the whole months before this one to year end."""
        if not self.forecast_possible:
            return None
        if code not in self._forecasts:
            history = [(row.key, row.measures[code]) for row in self.history if row.key < self.this_month]
            # Months before the first booking predate the data: they are not months of zero. The first
            # month with data is left out too: the data rarely starts on its first day, and a month
            # that is half missing would read as a slump (and be repeated as one next year).
            first = next((i for i, (_, value) in enumerate(history) if value), len(history))
            self.history_months[code] = len(history[first + 1 :])
            self._forecasts[code] = forecast_monthly(history[first + 1 :], until=self.year[1])
        return self._forecasts[code]


# --- numbers and words ------------------------------------------------------------------------


def text(reads: Reads, code: str, value) -> str:
    """A KPI value for the page: "—" for no value, money with the base currency code."""
    kpi = reads.catalogue[code]
    shown = kpis.display(kpi, value)
    return f"{shown} {reads.currency}" if kpi.unit == "money" and value is not None else shown


def number(reads: Reads, code: str, value):
    """A KPI value for a download: money to the cent, percentages as percent (12.34), ratios to 4
    places, counts whole; None stays None (the export writes "—")."""
    if value is None:
        return None
    kpi = reads.catalogue[code]
    if kpi.unit == "percent":
        return (Decimal(value) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return kpis.quantize(kpi, value)


def amount(reads: Reads, code: str, value) -> str:
    """A KPI value for a table cell whose header names the unit: "1,234.50", "12.3", "3.45", "—"."""
    return kpis.display(reads.catalogue[code], value).removesuffix(" %").removesuffix("×")


def unit_label(reads: Reads, code: str) -> str:
    return {"money": reads.currency, "percent": "%", "ratio": "×", "count": "count"}.get(reads.catalogue[code].unit, "")


def header(reads: Reads, code: str, name: str | None = None) -> str:
    """A download column header with its unit: "Spend (USD)", "ROI (%)"."""
    label = name or reads.catalogue[code].name
    unit = unit_label(reads, code)
    return f"{label} ({unit})" if unit and unit != "count" else label


@dataclass(frozen=True)
class Target:
    to_date: Decimal | None  # pro-rated to the days past; None: no target
    period: Decimal | None  # for the whole filtered period


def target(reads: Reads, code: str, targets: list[KpiTarget], start=None, end=None) -> Target:
    """The target on ``code`` for [start, end] (default: the filtered period) from monthly targets:
    summed measures add up the months' targets pro-rated by their days in the range; ratios take the
    mean of the months' targets weighted by those days. None where no target month overlaps."""
    start = start or reads.filters.start
    end = end or reads.filters.end
    additive = reads.catalogue[code].measure

    def over(last: datetime.date) -> Decimal | None:
        total, days_counted = Decimal(0), 0
        for t in targets:
            days = _overlap_days(t.period.start_date, t.period.end_date, start, last)
            if days:
                month_days = (t.period.end_date - t.period.start_date).days + 1
                total += t.target_value * days / month_days if additive else t.target_value * days
                days_counted += days
        if not days_counted:
            return None
        return total if additive else total / days_counted

    return Target(to_date=over(min(end, reads.today)), period=over(end))


def status(reads: Reads, code: str, actual, goal: Target) -> tuple[Decimal | None, str]:
    """(% of target to date, status)."""
    if goal.period is None:
        return None, NO_TARGET
    if goal.to_date is None:
        return None, NOT_STARTED
    if actual is None:
        return None, NO_VALUE
    percent = (Decimal(actual) / goal.to_date * 100) if goal.to_date else None
    if reads.catalogue[code].direction == "higher":
        on_track = actual >= ON_TRACK_SHARE * goal.to_date
    else:
        on_track = ON_TRACK_SHARE * actual <= goal.to_date
    return percent, ON_TRACK if on_track else AT_RISK


def percent_text(value: Decimal | None) -> str:
    return kpis.NO_VALUE if value is None else f"{_round(value, '0.1'):,.1f} %"


def _round(value: Decimal, step: str) -> Decimal:
    return Decimal(value).quantize(Decimal(step), rounding=ROUND_HALF_UP)


# --- headline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    code: str
    title: str
    value: Decimal | None
    text: str
    help: str
    detail: str  # e.g. the budget beside spend
    previous: Decimal | None
    change: Decimal | None  # relative (money, counts, ratios) or in points (percentages)
    change_text: str
    tone: str  # "good", "bad" or "neutral": the change read in the KPI's direction
    target: Target
    percent_of_target: Decimal | None
    status: str
    target_shown: str = ""  # the target to date, formatted
    unit: str = ""  # the currency code of a money value

    @property
    def number(self) -> str:
        """The value without its currency code (the page sets the code smaller beside it)."""
        return self.text.removesuffix(f" {self.unit}") if self.unit else self.text

    @property
    def target_text(self) -> str:
        return f"{self.target_shown} ({percent_text(self.percent_of_target)})"


TILE_TITLES = {
    "spend": "Spend vs budget",
    "pipeline": "Pipeline",
    "revenue": "Won revenue",
    "roi": "ROI",
    "cac": "CAC",
}


def tiles(reads: Reads) -> list[Tile]:
    codes = [*TILES, "budget_utilisation"]
    now = kpis.evaluate(codes, reads.current.measures, reads.catalogue)
    before = kpis.evaluate(codes, reads.previous.measures, reads.catalogue)
    result = []
    for code in TILES:
        kpi = reads.catalogue[code]
        value, previous = now[code], before[code]
        change, change_text = _change(kpi, value, previous)
        tone = "neutral"
        if change and code != "spend":  # more spend is neither good nor bad in itself
            tone = "good" if (change > 0) == (kpi.direction == "higher") else "bad"
        goal = target(reads, code, reads.targets(code))
        percent, state = status(reads, code, value, goal)
        detail = ""
        help_text = kpi.description
        if code == "spend":
            budget = reads.current.measures["budget"]
            utilisation = text(reads, "budget_utilisation", now["budget_utilisation"])
            detail = f"Budget {text(reads, 'budget', budget)} · utilisation {utilisation}"
            help_text = f"{kpi.description}; {reads.catalogue['budget_utilisation'].description}"
        result.append(
            Tile(
                code=code,
                title=TILE_TITLES[code],
                value=value,
                text=text(reads, code, value),
                help=help_text,
                detail=detail,
                previous=previous,
                change=change,
                change_text=change_text,
                tone=tone,
                target=goal,
                percent_of_target=percent,
                status=state,
                target_shown=text(reads, code, goal.to_date),
                unit=reads.currency if kpi.unit == "money" and value is not None else "",
            )
        )
    return result


def _change(kpi: kpis.Kpi, value, previous) -> tuple[Decimal | None, str]:
    """Percentages change by points; everything else by a share of the previous value."""
    if value is None or previous is None:
        return None, kpis.NO_VALUE
    if kpi.unit == "percent":
        points = _round((Decimal(value) - Decimal(previous)) * 100, "0.1")
        return points, f"{points:+,.1f} pts"
    if not previous:
        return None, kpis.NO_VALUE
    change = _round((Decimal(value) - Decimal(previous)) / abs(Decimal(previous)) * 100, "0.1")
    if abs(change) > CHANGE_SHOWN:  # 140,000 % says no more than "many times"; the download has it
        return change, f"{'>+' if change > 0 else '<−'}{CHANGE_SHOWN:,} %"
    return change, f"{change:+,.1f} %"


def headline(reads: Reads) -> Panel:
    """The tiles' numbers as a table (the page draws them as tiles; this is their download)."""
    comparison = day_range(reads.comparison.start, reads.comparison.end)
    rows = []
    for tile in tiles(reads):
        unit = reads.catalogue[tile.code].unit
        rows.append(
            [
                reads.catalogue[tile.code].name,
                unit_label(reads, tile.code),
                number(reads, tile.code, tile.value),
                number(reads, tile.code, tile.previous),
                tile.change,
                "pts" if unit == "percent" else "%",
                number(reads, tile.code, tile.target.to_date),
                _round(tile.percent_of_target, "0.01") if tile.percent_of_target is not None else None,
                tile.status,
                tile.help,
            ]
        )
    return Panel(
        id="headline",
        title="Headline numbers",
        header=[
            "KPI",
            "Unit",
            "This period",
            f"Previous period ({comparison})",
            "Change",
            "Change unit",
            "Target to date",
            "% of target to date",
            "Status",
            "Formula",
        ],
        rows=rows,
        help=f"Change vs {comparison}. {STATUS_HELP}",
    )


# --- trend and forecast -----------------------------------------------------------------------


def trend(reads: Reads) -> Panel:
    months = reads.months
    shows_forecast = reads.forecast_possible and reads.filters.end >= reads.this_month
    forecasts = {code: reads.forecast(code) for code, _ in TREND_MEASURES} if shows_forecast else {}
    note = ""
    if not reads.forecast_possible:
        note = f"FY{fiscal_year_of(reads.year[1])} is over: there is nothing left to forecast."
    elif not shows_forecast:
        note = "The period ends before this month, so its chart shows no forecast (the year-end forecast below does)."
    else:
        note = _forecast_notes(reads, forecasts, dict(TREND_MEASURES))
    figure = figures.trend(
        months,
        measures=TREND_MEASURES,
        forecasts={code: f for code, f in forecasts.items() if f is not None},
        month_in_progress=reads.this_month,
        currency=reads.currency,
        title=f"Spend and won revenue by month ({reads.currency})",
    )
    by_month: dict[datetime.date, list] = {}
    for row in months:
        past = row.key <= reads.this_month
        by_month[row.key] = [
            row.label + (" (to date)" if row.key == reads.this_month else ""),
            row.measures["spend"] if past else None,
            row.measures["revenue"] if past else None,
        ] + [None] * 6
    for offset, (code, _) in enumerate(TREND_MEASURES):
        forecast = forecasts.get(code)
        for point in forecast.points if forecast else ():
            line = by_month.setdefault(point.month, [f"{point.month:%b %Y}", None, None] + [None] * 6)
            line[3 + 3 * offset : 6 + 3 * offset] = [point.value, point.low, point.high]
    rows = [by_month[key] for key in sorted(by_month)]
    band = next((f.band_label for f in forecasts.values() if f), "80 % prediction interval")
    return Panel(
        id="trend",
        title="Spend and won revenue by month, with the forecast to year end",
        header=[
            "Month",
            header(reads, "spend"),
            header(reads, "revenue", "Won revenue"),
            f"Spend forecast ({reads.currency})",
            "Spend forecast low",
            "Spend forecast high",
            f"Won revenue forecast ({reads.currency})",
            "Won revenue forecast low",
            "Won revenue forecast high",
        ],
        rows=rows,
        figure=figure,
        note=note,
        help=(
            f"{reads.catalogue['spend'].description}; {reads.catalogue['revenue'].description}. Dashed: the "
            f"forecast to the end of FY{fiscal_year_of(reads.year[1])} from up to three years of monthly history "
            f"({_methods(forecasts)}); shaded: its {band}. The open marker is the month so far."
        ),
        width=12,
    )


CAVEATS = {
    DAMPED_TREND: "less than a year of history, so the forecast follows the recent level and trend and "
    "cannot show seasonal peaks.",
    SEASONAL_NAIVE: "less than two years of history, so the forecast repeats last year's months, scaled by "
    "the growth since then.",
    NOT_ENOUGH_HISTORY: f"fewer than {MINIMUM_MONTHS} whole months of history: no forecast.",
}


def _forecast_notes(reads: Reads, forecasts: dict, names: dict) -> str:
    """The forecasts' caveats, one sentence per method: "Spend (11 months) and won revenue (9
    months): less than a year of history, so …"."""
    by_method: dict[str, list[str]] = {}
    for code, forecast in forecasts.items():
        if forecast is not None and forecast.method in CAVEATS:
            months = reads.history_months.get(code, 0)
            by_method.setdefault(forecast.method, []).append(
                f"{names[code].lower()} ({months} month{'s' * (months != 1)})"
            )
    sentences = []
    for method, measures in by_method.items():
        listed = measures[0] if len(measures) == 1 else f"{', '.join(measures[:-1])} and {measures[-1]}"
        sentences.append(f"{listed[0].upper()}{listed[1:]}: {CAVEATS[method]}")
    return " ".join(sentences)


def _methods(forecasts: dict) -> str:
    methods = sorted({f.method for f in forecasts.values() if f})
    return ", ".join(methods) or "no forecast"


def year_end(reads: Reads) -> Panel:
    year_start, year_last = reads.year
    label = f"FY{fiscal_year_of(year_last)}"
    whole = [row for row in reads.history if year_start <= row.key < min(reads.this_month, add_months(year_last, 1))]
    actual_label = f"Actual {month_range(whole[0].key, whole[-1].key)}" if whole else "Actual"
    items, rows = [], []
    forecast_label = "Forecast"
    methods = set()
    for code, name in FORECAST_MEASURES:
        actual = sum((row.measures[code] for row in whole), Decimal("0.00"))
        forecast = reads.forecast(code)
        points = [p for p in forecast.points if year_start <= p.month] if forecast else []
        if points:
            forecast_label = f"Forecast {month_range(points[0].month, points[-1].month)}"
            methods.add(forecast.method)
        ahead = sum((p.value for p in points), Decimal("0.00"))
        low = actual + sum((p.low for p in points), Decimal("0.00"))
        high = actual + sum((p.high for p in points), Decimal("0.00"))
        goal = target(reads, code, reads.targets(code), year_start, year_last).period
        budget = sum((row.measures["budget"] for row in reads.history if row.key >= year_start), Decimal("0.00"))
        items.append(
            figures.YearEnd(code=code, label=name, actual=actual, forecast=ahead, low=low, high=high, target=goal)
        )
        rows.append(
            [
                name,
                actual,
                ahead if points else None,
                low if points else None,
                high if points else None,
                actual + ahead,
                number(reads, code, goal),
                budget if code == "spend" else None,
            ]
        )
    if not reads.forecast_possible:
        note = f"{label} is over: these are its actual totals."
    else:
        forecasts = {code: reads.forecast(code) for code, _ in FORECAST_MEASURES}
        note = " ".join(filter(None, [_pacing(reads), _forecast_notes(reads, forecasts, dict(FORECAST_MEASURES))]))
    shown = [[row[0]] + [amount(reads, "spend", v) for v in row[1:]] for row in rows]
    return Panel(
        id="forecast",
        title=f"Forecast to the end of {label}",
        header=[
            "Measure",
            f"{actual_label} ({reads.currency})",
            f"{forecast_label} ({reads.currency})",
            f"{label} low",
            f"{label} high",
            f"Projected {label}",
            f"Target {label}",
            f"Budget {label}",
        ],
        rows=rows,
        display_rows=shown,
        figure=figures.year_end(
            items,
            title=f"Where {label} lands ({reads.currency})",
            currency=reads.currency,
            actual_label=actual_label,
            forecast_label=forecast_label,
        ),
        table=True,
        width=12,
        note=note,
        help=(
            "Projected = whole months so far + the forecast of the months left "
            f"({', '.join(sorted(methods)) or 'none'}); "
            "low and high add up the monthly 80 % prediction intervals, so the range is wide on purpose. "
            "Targets: the objectives' targets for the year, added up."
        ),
    )


def _pacing(reads: Reads) -> str:
    """Spend pacing to year end at the run rate so far, against the year's budget."""
    year_start, year_last = reads.year
    budget = sum((row.measures["budget"] for row in reads.history if row.key >= year_start), Decimal("0.00"))
    if reads.today < year_start or not budget:
        return ""
    spent = sum((row.measures["spend"] for row in reads.history if year_start <= row.key <= reads.this_month), ZERO)
    pacing = spend_pacing(spent=spent, start=year_start, end=year_last, today=reads.today, allocation=budget)
    return (
        f"Spend pacing: at the run rate so far ({text(reads, 'spend', pacing.run_rate_per_day)} a day) the year's "
        f"spend lands at {text(reads, 'spend', pacing.projected)} against a budget of "
        f"{text(reads, 'budget', budget)} ({pacing.status})."
    )


# --- returns by channel and program -----------------------------------------------------------


def returns_by(reads: Reads, group_by: str, title: str) -> Panel:
    rows = reads.by(group_by)
    roi_text = {row.key: f"ROI {text(reads, 'roi', row.values['roi'])}" for row in rows}
    name = group_by.capitalize()
    return Panel(
        id=f"{group_by}s",
        title=title,
        header=[
            name,
            header(reads, "spend"),
            header(reads, "revenue", "Won revenue"),
            header(reads, "roas", "ROAS"),
            header(reads, "roi", "ROI"),
            header(reads, "pipeline"),
            header(reads, "pipeline_per_spend"),
        ],
        rows=[
            [
                row.label,
                row.measures["spend"],
                row.measures["revenue"],
                number(reads, "roas", row.values["roas"]),
                number(reads, "roi", row.values["roi"]),
                row.measures["pipeline"],
                number(reads, "pipeline_per_spend", row.values["pipeline_per_spend"]),
            ]
            for row in rows
        ],
        figure=figures.roas_bars(rows, title=title, currency=reads.currency, roi_text=roi_text)
        if any(row.values["roas"] is not None for row in rows)
        else None,
        note="" if rows else "Nothing was spent or won in this period.",
        help=f"{reads.catalogue['roas'].description}; {reads.catalogue['roi'].description}. "
        f"{name}s without spend have no ROAS or ROI (—) and are only in the download.",
    )


# --- funnel -----------------------------------------------------------------------------------


def funnel(reads: Reads) -> Panel:
    measures = reads.current.measures
    values = kpis.evaluate([code for _, _, code in FUNNEL if code], measures, reads.catalogue)
    stages, rows, shown = [], [], []
    for measure, label, rate in FUNNEL:
        rate_value = values[rate] if rate else None
        rate_text = text(reads, rate, rate_value) if rate else ""
        stages.append(figures.Stage(label=label, count=measures[measure], rate_text=rate_text))
        formula = reads.catalogue[rate].description if rate else reads.catalogue[measure].description
        rows.append([label, measures[measure], number(reads, rate, rate_value) if rate else None, formula])
        shown.append([label, f"{measures[measure]:,}", amount(reads, rate, rate_value) if rate else "", formula])
    return Panel(
        id="funnel",
        title="Funnel from leads to won deals",
        header=["Stage", "Count", "Conversion (%)", "Formula"],
        rows=rows,
        display_rows=shown,
        figure=figures.funnel(stages, title="Leads → MQLs → SQLs → opportunities → won"),
        table=True,
        help="Stage conversion = the stage's count ÷ the count of the stage before, over the period's sums.",
    )


# --- objectives -------------------------------------------------------------------------------


def objectives(reads: Reads) -> Panel:
    objectives = reads.objectives
    actuals = {row.key: row for row in reads.by("objective")}
    rows, shown, bars = [], [], []
    for objective in objectives:
        row = actuals.get(objective.pk)
        measures = row.measures if row else selectors.empty_measures()
        objective_codes = sorted({t.kpi for t in objective.targets.all()})
        values = kpis.evaluate(objective_codes, measures, reads.catalogue)
        goals = {code: target(reads, code, reads.targets(code, objective)) for code in objective_codes}
        in_period = [code for code in objective_codes if goals[code].period is not None]
        if not in_period:
            rows.append([objective.name, None, None, None, None, NO_TARGET, None])
            shown.append([objective.name, *[kpis.NO_VALUE] * 4, NO_TARGET, kpis.NO_VALUE])
            continue
        for code in in_period:
            goal, actual = goals[code], values[code]
            percent, state = status(reads, code, actual, goal)
            kpi_name = reads.catalogue[code].name
            rows.append(
                [
                    objective.name,
                    f"{kpi_name} ({unit_label(reads, code)})",
                    number(reads, code, actual),
                    number(reads, code, goal.to_date),
                    _round(percent, "0.01") if percent is not None else None,
                    state,
                    number(reads, code, goal.period),
                ]
            )
            shown.append(
                [
                    objective.name,
                    kpi_name,
                    text(reads, code, actual),
                    text(reads, code, goal.to_date),
                    percent_text(percent),
                    state,
                    text(reads, code, goal.period),
                ]
            )
            bars.append(
                figures.Attainment(
                    label=_short(objective.name, 48) + f" · {kpi_name}",
                    percent=percent,
                    status=state,
                    text=f"{text(reads, code, actual)} of {text(reads, code, goal.to_date)}",
                )
            )
    note = ""
    if reads.filters.narrowed:
        note = "Targets are for all of marketing; with a filter the actuals are only the filtered part."
    if not objectives:
        note = "There are no objectives for this period."
    return Panel(
        id="objectives",
        title="Objectives — actual to date vs target to date",
        header=[
            "Objective",
            "KPI",
            "Actual to date",
            "Target to date",
            "% of target to date",
            "Status",
            "Target for the period",
        ],
        rows=rows,
        display_rows=shown,
        figure=figures.attainment_bars(bars, title="% of target to date", threshold=ON_TRACK_SHARE * 100)
        if any(b.percent is not None for b in bars)
        else None,
        table=True,
        note=note,
        help=STATUS_HELP + " Actuals are the campaigns' (and their programs') objectives.",
        width=12,
    )


def _short(name: str, length: int) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


# --- campaigns --------------------------------------------------------------------------------


def ranked_campaigns(reads: Reads) -> tuple[list[tuple[int, Row]], int]:
    """The best and the worst campaigns by ROI among those with spend, best first, each with its
    rank; and how many were ranked. A campaign is listed once even when fewer than ten spent."""
    spent = [row for row in reads.by("campaign") if row.measures["spend"] > 0]
    ranked = list(enumerate(sorted(spent, key=lambda row: (-row.values["roi"], row.label.lower())), start=1))
    if len(ranked) <= 2 * CAMPAIGNS_SHOWN:
        return ranked, len(ranked)
    return ranked[:CAMPAIGNS_SHOWN] + ranked[-CAMPAIGNS_SHOWN:], len(ranked)


def campaigns(reads: Reads) -> Panel:
    chosen, count = ranked_campaigns(reads)
    rows = [
        [
            row.label,
            rank,
            row.measures["spend"],
            row.measures["revenue"],
            number(reads, "roi", row.values["roi"]),
            number(reads, "roas", row.values["roas"]),
        ]
        for rank, row in chosen
    ]
    shown = [
        [
            row.label,
            rank,
            amount(reads, "spend", row.measures["spend"]),
            amount(reads, "revenue", row.measures["revenue"]),
            amount(reads, "roi", row.values["roi"]),
            amount(reads, "roas", row.values["roas"]),
        ]
        for rank, row in chosen
    ]
    note = ""
    if 0 < count <= 2 * CAMPAIGNS_SHOWN:
        note = f"Only {count} campaign{'s' * (count != 1)} spent in this period: all are listed."
    return Panel(
        id="campaigns",
        title=f"Top and bottom {CAMPAIGNS_SHOWN} campaigns by ROI",
        header=[
            "Campaign",
            f"Rank (of {count})",
            header(reads, "spend"),
            header(reads, "revenue", "Won revenue"),
            header(reads, "roi", "ROI"),
            header(reads, "roas", "ROAS"),
        ],
        rows=rows,
        display_rows=shown,
        note=note,
        help=f"{reads.catalogue['roi'].description}. Ranked among the campaigns with spend in the period, "
        f"best first: the {CAMPAIGNS_SHOWN} best, then the {CAMPAIGNS_SHOWN} worst.",
    )


# --- the dashboard ----------------------------------------------------------------------------


def builders(reads: Reads) -> dict[str, Callable[[], Panel]]:
    """Every panel of the dashboard by id, in page order (after the headline tiles)."""
    return {
        "headline": lambda: headline(reads),
        "trend": lambda: trend(reads),
        "forecast": lambda: year_end(reads),
        "objectives": lambda: objectives(reads),
        "channels": lambda: returns_by(reads, "channel", "ROI and ROAS by channel"),
        "programs": lambda: returns_by(reads, "program", "ROI and ROAS by program"),
        "funnel": lambda: funnel(reads),
        "campaigns": lambda: campaigns(reads),
    }


def filters_label(form, filters: Filters, *, comparison: Filters) -> str:
    """The filter summary: the period, what narrows it and what the changes compare with."""
    data = form.cleaned_data if form.is_valid() else {}
    period = data.get("period") or form.default_period
    label = "Custom dates" if period == "custom" else dict(form.fields["period"].choices).get(period, period)
    parts = [f"{label}: {day_range(filters.start, filters.end)}"]
    for name in ("team", "channel", "program", "region"):
        if data.get(name):
            parts.append(f"{form.fields[name].label or name.capitalize()}: {data[name]}")
    parts.append(f"changes vs {day_range(comparison.start, comparison.end)}")
    return " · ".join(parts)


def freshness(status: selectors.RollupStatus) -> str:
    if status.last_refresh is None:
        when = "rollups not built yet"
    else:
        local = timezone.localtime(status.last_refresh)
        when = f"rollups refreshed {local.day} {local:%b %Y %H:%M %Z}"
    if status.pending_marks:
        pending = f"{status.pending_marks} change{'s' if status.pending_marks != 1 else ''} waiting to be rolled up"
    else:
        pending = "no changes waiting"
    return f"{when}, {pending}"
