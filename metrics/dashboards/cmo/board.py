"""The CMO dashboard as a ``metrics.dashboards.panels.Board`` (see the package's docstring for what
it shows and the definitions it states)."""

from metrics.dashboards.cmo.panels import builders
from metrics.dashboards.cmo.reads import Reads
from metrics.dashboards.cmo.tiles import tiles
from metrics.dashboards.panels import Board, Inputs, Tile


class CmoBoard(Board):
    """The CMO dashboard as a board: the headline tiles (their table is the "headline" download),
    then one section of panels."""

    title = "CMO dashboard"
    template = "metrics/dashboards/cmo.html"
    filename = "cmo-dashboard"
    cache_seconds = 60  # the busiest page: rendered once per rollup refresh and minute, not per request

    def __init__(self, inputs: Inputs):
        super().__init__(inputs)
        self.reads = Reads(inputs.filters, scope=inputs.scope, today=inputs.today, currency=inputs.currency)
        self.builders = builders(self.reads)
        self.sections = (("", tuple(panel_id for panel_id in self.builders if panel_id != "headline")),)
        self.comparison = self.reads.comparison

    def tiles(self) -> list[Tile]:
        return tiles(self.reads)
