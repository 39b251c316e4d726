"""Metrics' part of the demo: no rows of its own — the rollups are rebuilt from the demo facts the
other apps just created (bulk-created facts announce nothing, so an incremental refresh would miss
them). Returns 0: rollups are derived data, not demo rows."""

from metrics import services


def seed(log=print) -> int:
    run = services.rebuild_all(compare=True)
    log(f"metrics: rollups rebuilt ({run.cells_written} cells, {run.rollups_written} rollup rows).")
    return 0
