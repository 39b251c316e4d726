"""The CMO dashboard's panels, each a plain function of ``Reads``: the monthly trend with its
forecast to year end, where the year lands, ROI/ROAS by channel and by program, the funnel,
objectives against their targets and the best and worst campaigns by ROI."""

import datetime
from collections.abc import Callable
from decimal import Decimal

from metrics.dashboards import figures
from metrics.dashboards.cmo.reads import Reads
from metrics.dashboards.cmo.tiles import headline
from metrics.dashboards.cmo.values import (
    NO_TARGET,
    ON_TRACK_SHARE,
    STATUS_HELP,
    amount,
    header,
    number,
    status,
    target,
    text,
    unit_label,
)
from metrics.dashboards.forecast import DAMPED_TREND, MINIMUM_MONTHS, NOT_ENOUGH_HISTORY, SEASONAL_NAIVE, spend_pacing
from metrics.dashboards.panels import Panel, month_range, percent_text, rounded
from metrics.kpis import catalogue as kpis
from metrics.rollups import selectors
from metrics.rollups.calendar import add_months
from metrics.rollups.selectors import Row
from planning.fiscal import fiscal_year_of

ZERO = Decimal("0.00")
FORECAST_MEASURES = (("spend", "Spend"), ("pipeline", "Pipeline"), ("revenue", "Won revenue"))
TREND_MEASURES = (("spend", "Spend"), ("revenue", "Won revenue"))
FUNNEL = (
    ("leads", "Leads", None),
    ("mqls", "MQLs", "lead_to_mql"),
    ("sqls", "SQLs", "mql_to_sql"),
    ("opportunities", "Opportunities", "sql_to_opportunity"),
    ("new_customers", "Won", "opportunity_to_won"),
)
CAMPAIGNS_SHOWN = 5


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
                    rounded(percent, "0.01") if percent is not None else None,
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
    # This reads every campaign's row of the period (one GROUP BY over the cells) to keep ten. A
    # selector ordering by ROI in SQL with a LIMIT at each end would move less data, but it would
    # have to restate the ROI formula (metrics.kpis) in SQL and count the ranked campaigns apart;
    # worth it only once the rows of one period's campaigns get slow to fetch.
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
