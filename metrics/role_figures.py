"""Figures of the finance, marketer and ops dashboards, as pure functions: selector output in,
Plotly figure out (no database, no request). Floats appear only here, at the Plotly boundary
(STYLE.md §5); "no value" (None) stays a gap in the chart, never a zero.

They follow the house style of ``metrics.figures`` (its font and axes, no named template, the whole
figure built in one ``go.Figure`` call — see ``metrics.figures._figure`` for why). ``grouped_bars``
is generic (several measures side by side per category) and belongs in ``metrics.figures`` once
both dashboards settle.
"""

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal

import plotly.graph_objects as go

from metrics.figures import AXIS, FONT

# Bootstrap's palette, so charts match the page: blue, grey, orange, green, red, purple.
COLORS = ("#0d6efd", "#6c757d", "#fd7e14", "#198754", "#dc3545", "#6f42c1")
HEIGHT = 320
# A horizontal bar chart grows with its categories, so every campaign name stays readable.
ROW_HEIGHT = 28


def _number(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def _figure(traces: list[dict], *, title: str, xaxis: dict, yaxis: dict, height: int = HEIGHT) -> go.Figure:
    # A legend under the plot and small margins keep the plot usable at 390 px wide.
    return go.Figure(
        data=traces,
        layout={
            "template": "none",
            "title": {"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"},
            "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
            "height": height,
            "font": {**FONT, "color": "#212529"},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
            "separators": ".,",
            "barmode": "group",
            "xaxis": {**AXIS, **xaxis},
            "yaxis": {**AXIS, **yaxis},
        },
    )


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
                "marker": {"color": COLORS[index % len(COLORS)]},
                "hovertemplate": f"%{{{category_axis}}}<br>{name}: %{{{value_axis}:{value_format}}}<extra></extra>",
            }
        )
    values = {"title": {"text": value_title}, "tickformat": value_format, "rangemode": "tozero"}
    categories_layout = {"type": "date", "tickformat": "%d %b %Y"} if dates else {"type": "category"}
    if horizontal:
        height = max(HEIGHT, 110 + ROW_HEIGHT * len(labels) * max(1, len(series)) // 2)
        return _figure(
            traces, title=title, xaxis=values, yaxis={**categories_layout, "autorange": "reversed"}, height=height
        )
    return _figure(traces, title=title, xaxis=categories_layout, yaxis=values)


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
        x_budget.append(_month_end(month))
        y_budget.append(float(running))
    traces = [
        {
            "type": "scatter",
            "x": x_budget,
            "y": y_budget,
            "name": f"Budget, cumulative ({currency})",
            "mode": "lines",
            "line": {"color": COLORS[1]},
        }
    ]
    x_actual, y_actual, running = [start], [0.0], Decimal(0)
    for month, amount in actual_by_month:
        running += amount
        x_actual.append(min(_month_end(month), today))
        y_actual.append(float(running))
    if start <= today <= end:
        x_actual.append(today)
        y_actual.append(float(spent_to_date))
        traces.append(
            {
                "type": "scatter",
                "x": [today, end],
                "y": [float(spent_to_date), float(projected)],
                "name": "Projected at the run rate",
                "mode": "lines",
                "line": {"color": COLORS[0], "dash": "dash"},
            }
        )
    traces.append(
        {
            "type": "scatter",
            "x": x_actual,
            "y": y_actual,
            "name": f"Actual, cumulative ({currency})",
            "mode": "lines+markers",
            "line": {"color": COLORS[0]},
        }
    )
    return _figure(
        traces,
        title=title,
        xaxis={"type": "date", "range": [start, end], "tickformat": "%b %Y"},
        yaxis={"title": {"text": currency}, "tickformat": ",.0f", "rangemode": "tozero"},
    )


def _month_end(month: datetime.date) -> datetime.date:
    following = datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)
