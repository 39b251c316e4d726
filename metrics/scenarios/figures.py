"""Figures and tables of the scenario-planning pages, as pure functions: a fitted model or saved
scenarios in, a Plotly figure (or header and rows for a download) out — no database, no request.

Floats appear only here and inside the model (STYLE.md §5): amounts arrive as Decimals and leave
as floats for Plotly only.
"""

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from metrics.dashboards.figures import BLUE, GREEN, GREY, RED, house_figure
from metrics.scenarios.mmm.backsolve import Backsolve
from metrics.scenarios.mmm.results import ChannelFit, FitResult

BAND = "rgba(13, 110, 253, 0.15)"
PALETTE = ("#6c757d", "#0d6efd", "#198754", "#fd7e14", "#6f42c1")
CURVE_POINTS = 41


# --- a response model -------------------------------------------------------------------------------


def spend_grid(channel: ChannelFit) -> np.ndarray:
    """Weekly spend levels a curve is drawn over: from 0 to 1.5 × the highest week (or 2 × current)."""
    top = max(float(channel.max_weekly_spend) * 1.5, float(channel.current_weekly_spend) * 2, 1.0)
    return np.linspace(0.0, top, CURVE_POINTS)


def response_curve(channel: ChannelFit, *, outcome: str) -> go.Figure:
    """A channel's weekly response to a steady weekly spend, its 90 % bootstrap band, where current
    spend sits (with its marginal return) and the highest week seen (beyond it: extrapolation)."""
    spend = spend_grid(channel)
    curve = channel.curve(spend)
    current = float(channel.current_weekly_spend)
    at_current = float(channel.response(current))
    highest = float(channel.max_weekly_spend)
    traces = [
        go.Scatter(x=spend, y=curve.high, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False),
        go.Scatter(
            x=spend,
            y=curve.low,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND,
            name="90 % band",
            hoverinfo="skip",
        ),
        go.Scatter(x=spend, y=curve.value, mode="lines", line={"color": BLUE}, name=f"weekly {outcome}"),
        go.Scatter(
            x=[current],
            y=[at_current],
            mode="markers",
            marker={"color": RED, "size": 10},
            name=f"now: {current:,.0f} a week, +{channel.marginal_return.value:,.2f} per extra 1",
        ),
    ]
    shapes = [
        {
            "type": "line",
            "x0": highest,
            "x1": highest,
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "line": {"color": GREY, "dash": "dot", "width": 1},
        }
    ]
    annotations = [
        {
            "x": highest,
            "y": 1,
            "yref": "paper",
            "text": "highest week",
            "showarrow": False,
            "yanchor": "bottom",
            "font": {"size": 10, "color": GREY},
        }
    ]
    return house_figure(
        traces,
        title=str(channel.key),
        height=280,
        shapes=shapes,
        annotations=annotations,
        xaxis={"title": {"text": "steady weekly spend"}},
        yaxis={"title": {"text": f"weekly {outcome}"}, "rangemode": "tozero"},
        # Inside the plot, top left: curves rise to the right, and below the plot it meets the axis title.
        legend={"x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top", "bgcolor": "rgba(255,255,255,0.8)"},
    )


CHANNEL_HEADER = [
    "Rank",
    "Name",
    "Current weekly spend",
    "Marginal return",
    "Marginal return, low",
    "Marginal return, high",
    "Keeps its rank (share of draws)",
    "Contribution",
    "Contribution share",
    "Carry-over (decay)",
    "Half-saturation (weekly spend)",
    "Shape",
    "Highest weekly spend",
]


def channel_rows(result: FitResult) -> list[list]:
    """One row per modelled member, best marginal return first (the download and the page's table)."""
    rows = []
    for key in result.ranking:
        c = result.channel(key)
        rows.append(
            [
                c.rank,
                c.key,
                c.current_weekly_spend,
                round(c.marginal_return.value, 4),
                round(c.marginal_return.low, 4),
                round(c.marginal_return.high, 4),
                round(c.rank_stability, 3),
                round(c.contribution, 2),
                round(c.contribution_share, 4),
                round(c.decay, 3),
                round(c.half_saturation, 2),
                round(c.shape, 3),
                c.max_weekly_spend,
            ]
        )
    return rows


CURVE_HEADER = ["Name", "Weekly spend", "Weekly response", "Response, low", "Response, high", "Marginal return"]


def curve_rows(result: FitResult) -> list[list]:
    """The points behind every curve chart (the download of the curves)."""
    rows = []
    for c in result.channels:
        spend = spend_grid(c)
        curve, slope = c.curve(spend), c.slope(spend)
        for j, level in enumerate(spend):
            rows.append(
                [
                    c.key,
                    round(float(level), 2),
                    round(float(curve.value[j]), 2),
                    round(float(curve.low[j]), 2),
                    round(float(curve.high[j]), 2),
                    round(float(slope[j]), 4) if np.isfinite(slope[j]) else None,
                ]
            )
    return rows


# --- scenarios --------------------------------------------------------------------------------------


def plan_vs_scenario(lines: Sequence, *, title: str = "Current plan and scenario") -> go.Figure:
    """Amount per member in the current plan and in the scenario (``lines``: ScenarioLine-like)."""
    names = [line.member for line in lines]
    traces = [
        go.Bar(x=names, y=[float(line.plan_amount) for line in lines], name="current plan", marker_color=GREY),
        go.Bar(x=names, y=[float(line.amount) for line in lines], name="scenario", marker_color=BLUE),
    ]
    return house_figure(traces, title=title, barmode="group", yaxis={"title": {"text": "budget for the period"}})


def marginal_returns(lines: Sequence, equalised: float | None) -> go.Figure:
    """Each member's marginal return at its scenario amount; at an optimum the free ones meet at λ."""
    names = [line.member for line in lines]
    colors = [GREY if line.constraint != "free" else GREEN for line in lines]
    traces = [go.Bar(x=names, y=[line.marginal_return for line in lines], marker_color=colors, name="marginal return")]
    shapes, annotations = [], []
    if equalised is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": equalised,
                "y1": equalised,
                "line": {"color": RED, "dash": "dash", "width": 1},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "y": equalised,
                "text": f"equalised: {equalised:,.3f}",
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "bottom",
                "font": {"size": 10, "color": RED},
            }
        )
    return house_figure(
        traces,
        title="Marginal return at the scenario's amounts (green: free to move)",
        shapes=shapes,
        annotations=annotations,
        yaxis={"title": {"text": "outcome per extra 1 spent"}, "rangemode": "tozero"},
        showlegend=False,
    )


def compare_amounts(scenarios: Sequence, members: Sequence[str]) -> go.Figure:
    """Amount per member in each scenario (2–4), side by side."""
    traces = []
    for j, scenario in enumerate(scenarios):
        amounts = {line.member: float(line.amount) for line in scenario.lines.all()}
        traces.append(
            go.Bar(
                x=list(members),
                y=[amounts.get(m, 0.0) for m in members],
                name=scenario.name,
                marker_color=PALETTE[j % len(PALETTE)],
            )
        )
    return house_figure(traces, title="Budget per member", barmode="group", yaxis={"title": {"text": "for the period"}})


def compare_outcomes(scenarios: Sequence, *, outcome: str) -> go.Figure:
    """Predicted outcome of each scenario with its 90 % band (error bars), and of the current plan."""
    names = [s.name for s in scenarios]
    value = [float(s.predicted) for s in scenarios]
    traces = [
        go.Bar(
            x=names,
            y=value,
            name="scenario",
            marker_color=BLUE,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [float(s.predicted_high - s.predicted) for s in scenarios],
                "arrayminus": [float(s.predicted - s.predicted_low) for s in scenarios],
            },
        ),
        go.Bar(x=names, y=[float(s.plan_predicted) for s in scenarios], name="its current plan", marker_color=GREY),
    ]
    return house_figure(traces, title=f"Predicted {outcome} with its 90 % band", barmode="group")


# --- back-solve -------------------------------------------------------------------------------------


def funnel(result: Backsolve) -> go.Figure:
    stages = [("Leads", result.leads), ("MQLs", result.mqls), ("SQLs", result.sqls)]
    stages.append(("Opportunities", result.opportunities))
    if result.new_customers is not None:
        stages.append(("New customers", result.new_customers))
    trace = go.Funnel(y=[s[0] for s in stages], x=[s[1] for s in stages], textinfo="value", marker={"color": BLUE})
    return house_figure([trace], title="What the target takes", height=280)


def spend_needed(result: Backsolve, budgets: dict) -> go.Figure:
    """Spend needed per channel beside its current budget in the target period."""
    names = [str(line.key) for line in result.lines]
    traces = [
        go.Bar(x=names, y=[float(line.spend) for line in result.lines], name="spend needed", marker_color=BLUE),
        go.Bar(x=names, y=[float(budgets.get(line.key, 0)) for line in result.lines], name="budget", marker_color=GREY),
    ]
    return house_figure(traces, title="Spend needed and current budget per channel", barmode="group")
