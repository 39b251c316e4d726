"""The finance, marketer and ops dashboards: each a board of panels built by plain functions from
the filter bar's ``Filters``, the user's ``Scope`` and today's date (``metrics.panels.Inputs``).

Money comes from the rollups (``metrics.selectors`` or one ``GROUP BY`` over the rollup cells here);
only what the rollups do not hold is read from its own tables with one aggregate query each: pending
approvals, allocations per campaign, workflow steps, import batches and duplicate-looking spend
entries. Every read is a fixed number of queries whatever the size of the data, cached on the board,
so a page computes each once and a download (``?download=<panel id>``) only what its panel needs.

Each is a ``metrics.panels.Board``, as the CMO's is (``metrics.cmo.CmoBoard``): one view renders them
all (``metrics.views.board_page``), and what they share (tiles, formatting, the filter summary and
freshness) is in ``metrics.panels``.
"""

from metrics.role_panels.finance import FinanceBoard
from metrics.role_panels.marketer import MarketerBoard
from metrics.role_panels.ops import OpsBoard

__all__ = ["FinanceBoard", "MarketerBoard", "OpsBoard"]
