"""Rendering server-built Plotly figures into pages: shared by every app that draws one."""

import plotly.graph_objects as go
from django.utils.html import format_html


def to_html(fig: go.Figure, *, label: str = "") -> str:
    """The figure as a ``<div>`` carrying its JSON; ``static/mops/figures.js`` draws it with the
    plotly.js we serve ourselves. No inline script, so pages keep a strict Content-Security-Policy."""
    return format_html(
        '<div class="mops-figure" role="figure" aria-label="{}" data-figure="{}"></div>',
        label or fig.layout.title.text or "chart",
        fig.to_json(),
    )
