"""Campaign figures as pure functions: selector output in, Plotly figure out (no database, no request).

Floats appear only here, at the Plotly boundary (STYLE.md §5).
"""

import plotly.graph_objects as go

from campaigns.selectors import WeekPoint


def spend_and_leads_by_week(points: list[WeekPoint], *, currency: str) -> go.Figure:
    """Spend as bars (left axis) and leads as a line (right axis), one point per week."""
    weeks = [point.week.isoformat() for point in points]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=weeks,
            y=[float(point.spend) for point in points],
            name=f"Spend ({currency})",
            marker_color="#0d6efd",
            hovertemplate="Week of %{x|%d %b %Y}<br>%{y:,.2f} " + currency + "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=[point.leads for point in points],
            name="Leads",
            yaxis="y2",
            mode="lines+markers",
            line={"color": "#fd7e14"},
            hovertemplate="Week of %{x|%d %b %Y}<br>%{y} leads<extra></extra>",
        )
    )
    fig.update_layout(
        title="Spend and leads per week",
        xaxis={"type": "date", "tickformat": "%d %b"},
        yaxis={"title": currency, "rangemode": "tozero"},
        yaxis2={
            "title": "Leads",
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
            "tickformat": ",d",
        },
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 50, "r": 50, "t": 40, "b": 40},
        height=300,
        template="plotly_white",
    )
    return fig
