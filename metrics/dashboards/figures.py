"""Plotly figures of every dashboard as pure functions: selector output in, figure out (no database,
no request), in one house style (``_figure``).

Floats appear only here, at the Plotly boundary (STYLE.md §5); every number arrives as a Decimal or
an int and every label as text the caller already formatted, so a figure never rounds differently
from the table beside it; "no value" (None) stays a gap in a chart, never a zero.

The generic builders come first (``grouped_bars``: several measures side by side per category;
``funnel``), then the CMO dashboard's (trend with forecast, ROAS, attainment, year end) and the
finance dashboard's pacing.
"""

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import plotly.graph_objects as go

from metrics.dashboards.forecast import Forecast
from metrics.rollups import calendar
from metrics.rollups.models import Grain
from metrics.rollups.selectors import Row

# Bootstrap's palette, so charts match the page.
BLUE, GREY, ORANGE, GREEN, RED, PURPLE = "#0d6efd", "#6c757d", "#fd7e14", "#198754", "#dc3545", "#6f42c1"
SERIES_COLORS = (BLUE, GREY, ORANGE, GREEN, RED, PURPLE)  # one per series, in order
COLORS = {"spend": BLUE, "revenue": GREEN, "pipeline": PURPLE}  # one per measure, on every chart
BANDS = {
    "spend": "rgba(13, 110, 253, 0.15)",
    "revenue": "rgba(25, 135, 84, 0.15)",
    "pipeline": "rgba(111, 66, 193, 0.15)",
}
GOOD, BAD = GREEN, RED
STATUS_COLORS = {"on track": GOOD, "at risk": BAD}
MUTED = GREY
HEIGHT = 320
MIN_HEIGHT = 300  # px: what static/mops/mops.css reserves for a figure before plotly.js draws it
ROW_HEIGHT = 28  # a horizontal bar chart grows with its categories, so every campaign name stays readable
LEGEND_UNDER = {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0}  # usable at 390 px wide


FONT = {"family": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif', "size": 12}


AXIS = {"gridcolor": "#e9ecef", "zerolinecolor": "#ced4da", "linecolor": "#ced4da", "automargin": True}


def house_figure(
    traces: Sequence, *, title: str, height: int = HEIGHT, shapes=(), annotations=(), **layout
) -> go.Figure:
    """One figure in the house style, built in one go: each later ``update_layout`` or ``add_vline``
    re-validates the whole figure (ten times slower), and Plotly's named templates ("plotly_white")
    add about 50 ms and 6 KB of JSON per figure — plotly.js's defaults with these settings look the same."""
    return go.Figure(
        data=list(traces),
        layout={
            "template": "none",
            "title": {"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"},
            "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
            "height": height,
            "font": {**FONT, "color": "#212529"},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "legend": {"orientation": "h", "y": -0.15, "x": 0},
            "separators": ".,",
            "shapes": list(shapes),
            "annotations": list(annotations),
            **layout,
            "xaxis": {**AXIS, **layout.get("xaxis", {})},
            "yaxis": {**AXIS, **layout.get("yaxis", {})},
        },
    )


def _number(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def _vline(x: float, *, dash: str, label: str = "") -> tuple[dict, list[dict]]:
    """A vertical line across the plot at ``x`` (and its label above it)."""
    shape = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "paper"}
    shape["line"] = {"color": MUTED, "dash": dash, "width": 1}
    notes = (
        [
            {
                "x": x,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "text": label,
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"size": 10, "color": MUTED},
            }
        ]
        if label
        else []
    )
    return shape, notes


# --- generic ----------------------------------------------------------------------------------


def grouped_bars(
    categories: Sequence[str] | Sequence[datetime.date],
    series: Mapping[str, Sequence[Decimal | int | None]],
    *,
    title: str,
    value_title: str = "",
    horizontal: bool = False,
    percent: bool = False,
) -> go.Figure:
    """One bar per series for each category (e.g. budget, allocated, committed and actual per month).

    ``percent``: values are fractions (0.25 is 25 %) and the axis reads as percentages.
    ``horizontal``: categories down the side (long names such as campaigns), first one on top.
    Dates as categories (e.g. the Monday of each week) make a date axis, which labels itself
    sparsely instead of writing every one of 53 weeks.
    """
    labels = list(categories)
    dates = bool(labels) and all(isinstance(label, datetime.date) for label in labels)
    value_format = ".0%" if percent else ",.0f"
    category_axis, value_axis = ("y", "x") if horizontal else ("x", "y")
    traces = []
    for index, (name, values) in enumerate(series.items()):
        numbers = [_number(v) for v in values]
        if len(numbers) != len(labels):
            raise ValueError(f"Series {name!r} has {len(numbers)} values for {len(labels)} categories.")
        traces.append(
            {
                "type": "bar",
                "name": name,
                category_axis: labels,
                value_axis: numbers,
                "orientation": "h" if horizontal else "v",
                "marker": {"color": SERIES_COLORS[index % len(SERIES_COLORS)]},
                "hovertemplate": f"%{{{category_axis}}}<br>{name}: %{{{value_axis}:{value_format}}}<extra></extra>",
            }
        )
    values = {"title": {"text": value_title}, "tickformat": value_format, "rangemode": "tozero"}
    categories_layout = {"type": "date", "tickformat": "%d %b %Y"} if dates else {"type": "category"}
    height, xaxis, yaxis = HEIGHT, categories_layout, values
    if horizontal:
        height = max(HEIGHT, 110 + ROW_HEIGHT * len(labels) * max(1, len(series)) // 2)
        xaxis, yaxis = values, {**categories_layout, "autorange": "reversed"}
    return house_figure(
        traces, title=title, height=height, legend=LEGEND_UNDER, barmode="group", xaxis=xaxis, yaxis=yaxis
    )


# --- funnel -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    label: str
    count: int
    rate_text: str  # conversion from the stage before, formatted ("" for the first stage)


FUNNEL_COLORS = ("#0d6efd", "#3d8bfd", "#6610f2", "#6f42c1", "#198754")


def funnel(stages: Sequence[Stage], *, title: str) -> go.Figure:
    """The funnel from leads to won deals; each stage's text names its conversion from the one before."""
    trace = {
        "type": "funnel",
        "y": [stage.label for stage in stages],
        "x": [stage.count for stage in stages],
        "text": [f"{stage.count:,}" + (f" · {stage.rate_text}" if stage.rate_text else "") for stage in stages],
        "textinfo": "text",
        "textposition": "auto",
        "constraintext": "none",
        "cliponaxis": False,
        "marker": {"color": list(FUNNEL_COLORS[: len(stages)])},
        "connector": {"line": {"color": "#dee2e6"}},
        "hovertemplate": "%{y}: %{x:,}<extra></extra>",
    }
    return house_figure([trace], title=title, height=MIN_HEIGHT, showlegend=False)


# --- trend with forecast ----------------------------------------------------------------------


def trend(
    months: Sequence[Row],
    *,
    measures: Sequence[tuple[str, str]],
    forecasts: Mapping[str, Forecast],
    month_in_progress: datetime.date | None,
    currency: str,
    title: str,
) -> go.Figure:
    """Each measure by month as a solid line, the month in progress as an open marker (it is not
    over, so it would read as a drop) and the months after it left out; the forecast as a dashed
    line continuing from the last whole month, its prediction interval shaded around it.

    ``months`` are selector rows keyed by month start; ``measures`` are (code, name) pairs;
    ``forecasts`` hold a Forecast per measure code (none, or one without points: no dashed line)."""
    money = "%{y:,.2f} " + currency
    whole = [row for row in months if month_in_progress is None or row.key < month_in_progress]
    partial = [row for row in months if row.key == month_in_progress]
    traces = []
    for code, name in measures:
        color = COLORS.get(code, MUTED)
        traces.append(
            {
                "type": "scatter",
                "x": [row.key.isoformat() for row in whole],
                "y": [float(row.measures[code]) for row in whole],
                "name": name,
                "mode": "lines+markers",
                "line": {"color": color, "width": 2},
                "legendgroup": code,
                "hovertemplate": f"{name}<br>%{{x|%b %Y}}: {money}<extra></extra>",
            }
        )
        if partial:
            traces.append(
                {
                    "type": "scatter",
                    "x": [partial[0].key.isoformat()],
                    "y": [float(partial[0].measures[code])],
                    "name": f"{name}, month to date",
                    "mode": "markers",
                    "marker": {"color": color, "symbol": "circle-open", "size": 9, "line": {"width": 2}},
                    "legendgroup": code,
                    "showlegend": False,
                    "hovertemplate": f"{name}<br>%{{x|%b %Y}} to date: {money}<extra></extra>",
                }
            )
        forecast = forecasts.get(code)
        if forecast is None or not forecast.points:
            continue
        ahead = [point.month.isoformat() for point in forecast.points]
        # The dashed line starts on the last whole month so that it reads as the trend's extension.
        anchor = [row for row in whole if row.key < forecast.points[0].month][-1:]
        traces.append(
            {
                "type": "scatter",
                "x": [row.key.isoformat() for row in anchor] + ahead,
                "y": [float(row.measures[code]) for row in anchor] + [float(p.value) for p in forecast.points],
                "name": f"{name} forecast",
                "mode": "lines+markers",
                "line": {"color": color, "width": 2, "dash": "dash"},
                "marker": {"size": 5},
                "legendgroup": code,
                "customdata": [[""] for _ in anchor]
                + [[f"<br>{forecast.band_label}: {float(p.low):,.0f} – {float(p.high):,.0f}"] for p in forecast.points],
                "hovertemplate": f"{name} forecast<br>%{{x|%b %Y}}: {money}%{{customdata[0]}}<extra></extra>",
            }
        )
        band = {"mode": "lines", "line": {"width": 0, "color": color}, "legendgroup": code, "hoverinfo": "skip"}
        traces.append(
            {
                "type": "scatter",
                "x": ahead,
                "y": [float(point.high) for point in forecast.points],
                "name": f"{name} forecast, high",
                "showlegend": False,
                **band,
            }
        )
        traces.append(  # filled up to the trace before it: the band between low and high
            {
                "type": "scatter",
                "x": ahead,
                "y": [float(point.low) for point in forecast.points],
                "name": f"{name} forecast, {forecast.band_label}",
                "fill": "tonexty",
                "fillcolor": BANDS.get(code, "rgba(108, 117, 125, 0.15)"),
                **band,
            }
        )
    return house_figure(
        traces,
        title=title,
        height=360,
        xaxis={"type": "date", "tickformat": "%b %Y", "dtick": "M1"},
        yaxis={"title": {"text": currency}, "rangemode": "tozero", "tickformat": ",.0f"},
        legend={"orientation": "h", "y": -0.12, "x": 0, "traceorder": "normal"},
    )


# --- ROI / ROAS -------------------------------------------------------------------------------


def roas_bars(rows: Sequence[Row], *, title: str, currency: str, roi_text: Mapping[object, str]) -> go.Figure:
    """ROAS (won revenue ÷ spend) per member as horizontal bars, best on top, each member's ROI as the
    bar's text, and the break-even line (ROAS 1×, ROI 0 %). Rows carry ``values["roas"]``; members
    without a value (no spend) are left out — they are in the download."""
    shown = sorted((row for row in rows if row.values.get("roas") is not None), key=lambda row: row.values["roas"])
    trace = {
        "type": "bar",
        "y": [row.label for row in shown],
        "x": [float(row.values["roas"]) for row in shown],
        "orientation": "h",
        "marker": {"color": [GOOD if row.values["roas"] >= 1 else BAD for row in shown]},
        "text": [roi_text.get(row.key, "") for row in shown],
        "textposition": "auto",
        "constraintext": "none",
        "cliponaxis": False,
        "customdata": [[float(row.measures["spend"]), float(row.measures["revenue"])] for row in shown],
        "hovertemplate": (
            f"%{{y}}<br>ROAS %{{x:.2f}}×<br>%{{text}}<br>Spend %{{customdata[0]:,.2f}} {currency}"
            f"<br>Won revenue %{{customdata[1]:,.2f}} {currency}<extra></extra>"
        ),
        "name": "ROAS",
    }
    shape, notes = _vline(1, dash="dot", label="break-even")
    return house_figure(
        [trace],
        title=title,
        height=max(MIN_HEIGHT, 90 + 24 * len(shown)),
        shapes=[shape],
        annotations=notes,
        xaxis={
            "title": {"text": "ROAS (won revenue ÷ spend)"},
            "range": [0, 1.3 * max([1.0, *(float(row.values["roas"]) for row in shown)])],  # room for the text
            "ticksuffix": "×",
        },
        showlegend=False,
    )


# --- targets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attainment:
    label: str
    percent: Decimal | None  # actual ÷ target to date × 100; None: no value
    status: str  # "on track", "at risk", …
    text: str  # what the bar says (actual of target, formatted)


def attainment_bars(items: Sequence[Attainment], *, title: str, threshold: Decimal) -> go.Figure:
    """Actual as a percentage of the target to date, one bar per objective and KPI, coloured by
    status, with the on-track threshold and 100 % marked. Items without a value are left out."""
    shown = [item for item in items if item.percent is not None]
    trace = {
        "type": "bar",
        "y": [item.label for item in shown],
        "x": [float(item.percent) for item in shown],
        "orientation": "h",
        "marker": {"color": [STATUS_COLORS.get(item.status, MUTED) for item in shown]},
        "text": [item.text for item in shown],
        "textposition": "auto",
        "constraintext": "none",
        "cliponaxis": False,
        "customdata": [[item.status] for item in shown],
        "hovertemplate": "%{y}<br>%{x:.1f} % of target to date (%{customdata[0]})<extra></extra>",
    }
    on_track, on_track_notes = _vline(float(threshold), dash="dot")
    full, full_notes = _vline(100, dash="dash", label="target")
    return house_figure(
        [trace],
        title=title,
        height=max(MIN_HEIGHT, 90 + 34 * len(shown)),
        shapes=[on_track, full],
        annotations=on_track_notes + full_notes,
        xaxis={
            "title": {"text": f"% of target to date (dotted: {float(threshold):g} %, on track from there)"},
            "range": [0, 1.35 * max([100.0, *(float(item.percent) for item in shown)])],  # room for the text
            "ticksuffix": " %",
        },
        yaxis={"autorange": "reversed"},
        showlegend=False,
    )


# --- year end ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearEnd:
    code: str
    label: str
    actual: Decimal  # whole months so far
    forecast: Decimal  # the months still to come (central)
    low: Decimal  # of the year's total
    high: Decimal
    target: Decimal | None


def year_end(
    items: Sequence[YearEnd], *, title: str, currency: str, actual_label: str, forecast_label: str
) -> go.Figure:
    """Where each measure lands by year end: the actual so far and the forecast rest stacked, the
    range of the total as an error bar, the target (when there is one) as a diamond."""
    labels = [item.label for item in items]
    colors = [COLORS.get(item.code, MUTED) for item in items]
    totals = [item.actual + item.forecast for item in items]
    money = "%{x:,.2f} " + currency
    traces = [
        {
            "type": "bar",
            "y": labels,
            "x": [float(item.actual) for item in items],
            "orientation": "h",
            "name": actual_label,
            "marker": {"color": colors},
            "hovertemplate": f"%{{y}}, {actual_label}: {money}<extra></extra>",
        },
        {
            "type": "bar",
            "y": labels,
            "x": [float(item.forecast) for item in items],
            "orientation": "h",
            "name": forecast_label,
            "marker": {
                "color": [BANDS.get(item.code, "rgba(108, 117, 125, 0.15)") for item in items],
                "line": {"color": colors, "width": 1.5},
            },
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": [float(item.high - total) for item, total in zip(items, totals, strict=True)],
                "arrayminus": [float(total - item.low) for item, total in zip(items, totals, strict=True)],
                "color": "#495057",
            },
            "hovertemplate": f"%{{y}}, {forecast_label}: {money}<extra></extra>",
        },
    ]
    targets = [item for item in items if item.target is not None]
    if targets:
        traces.append(
            {
                "type": "scatter",
                "y": [item.label for item in targets],
                "x": [float(item.target) for item in targets],
                "mode": "markers",
                "name": "Target",
                "marker": {"symbol": "diamond", "size": 12, "color": "#212529"},
                "hovertemplate": f"%{{y}} target: {money}<extra></extra>",
            }
        )
    return house_figure(
        traces,
        title=title,
        height=MIN_HEIGHT,
        barmode="stack",
        xaxis={"rangemode": "tozero", "tickformat": ",.0f"},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": -0.15, "x": 0, "traceorder": "normal"},
    )


# --- pacing -----------------------------------------------------------------------------------


def pacing_to_year_end(
    *,
    budget_by_month: Sequence[tuple[datetime.date, Decimal]],
    actual_by_month: Sequence[tuple[datetime.date, Decimal]],
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    spent_to_date: Decimal,
    projected: Decimal,
    currency: str,
    title: str = "Cumulative spend against budget",
) -> go.Figure:
    """Cumulative budget (by month end) and actual spend, and the run rate projected to ``end``
    as a dashed line from today's spend to the projected year-end spend.

    ``budget_by_month`` and ``actual_by_month`` hold each month's own amount (month start, amount);
    actual months are the months already over. While the year runs, the actual line ends at today
    with ``spent_to_date``; once it is over, at ``end``.
    """
    x_budget, y_budget, running = [start], [0.0], Decimal(0)
    for month, amount in budget_by_month:
        running += amount
        x_budget.append(calendar.bucket_end(Grain.MONTH, month))
        y_budget.append(float(running))
    line = {"type": "scatter", "mode": "lines"}
    traces = [
        {**line, "x": x_budget, "y": y_budget, "name": f"Budget, cumulative ({currency})", "line": {"color": GREY}}
    ]
    x_actual, y_actual, running = [start], [0.0], Decimal(0)
    for month, amount in actual_by_month:
        running += amount
        x_actual.append(min(calendar.bucket_end(Grain.MONTH, month), today))
        y_actual.append(float(running))
    if start <= today <= end:
        x_actual.append(today)
        y_actual.append(float(spent_to_date))
        traces.append(
            {
                **line,
                "x": [today, end],
                "y": [float(spent_to_date), float(projected)],
                "name": "Projected at the run rate",
                "line": {"color": BLUE, "dash": "dash"},
            }
        )
    traces.append(
        {
            **line,
            "x": x_actual,
            "y": y_actual,
            "name": f"Actual, cumulative ({currency})",
            "mode": "lines+markers",
            "line": {"color": BLUE},
        }
    )
    return house_figure(
        traces,
        title=title,
        legend=LEGEND_UNDER,
        barmode="group",
        xaxis={"type": "date", "range": [start, end], "tickformat": "%b %Y"},
        yaxis={"title": {"text": currency}, "tickformat": ",.0f", "rangemode": "tozero"},
    )
