"""Plotly figures as pure functions: selector output in, figure out (no database, no request).

Floats appear only here, at the Plotly boundary (STYLE.md §5).
"""

import plotly.graph_objects as go


def bar(pairs: list[tuple[str, float]], *, title: str, y_title: str = "") -> go.Figure:
    labels = [label for label, _ in pairs]
    values = [float(value) for _, value in pairs]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color="#0d6efd"))
    fig.update_layout(
        title=title,
        yaxis_title=y_title,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        height=300,
        template="plotly_white",
    )
    return fig
