"""A dashboard is a list of panels: a chart or table with its title, the formula behind it (shown as
a tooltip) and the data behind it, downloadable as CSV or XLSX from the same URL and filters
(``?download=<panel id>&format=csv``). Views build panels lazily, so a download computes one panel.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import plotly.graph_objects as go
from django.http import Http404, HttpResponse

from mops import exports
from mops.figures import to_html


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
