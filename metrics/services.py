"""Writes to metrics: the rollup refreshes (incremental from the dirty marks, and the full rebuild
that checks them) and custom KPI definitions."""

from django.db import connection, transaction
from django.utils import timezone

from metrics import rollups
from metrics.models import CellSource, DirtyMark, RefreshKind, RefreshRun

MAX_MARKS_PER_RUN = 50_000


def refresh_pending() -> RefreshRun | None:
    """Fold the pending dirty marks into the rollups, in one transaction: if it fails (a worker killed
    mid-way, a database restart) nothing is half-applied and the marks stay for the next run. Marks
    another run is folding in right now are skipped, not waited for."""
    started = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            rollups.lock(cursor)
        marks = list(
            DirtyMark.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "source", "source_id", "start", "end")[:MAX_MARKS_PER_RUN]
        )
        if not marks:
            return None
        campaigns: dict[int, rollups.Range] = {}
        lines: set[int] = set()
        for _, source, source_id, start, end in marks:
            if source == CellSource.BUDGET_LINE:
                lines.add(source_id)
                continue
            span = None if start is None else (start, end)
            if source_id not in campaigns:
                campaigns[source_id] = span
            elif campaigns[source_id] is not None:
                campaigns[source_id] = None if span is None else rollups.widen(campaigns[source_id], span)
        written = rollups.refresh(campaigns=campaigns, budget_lines=lines)
        ids = [mark[0] for mark in marks]
        for chunk in range(0, len(ids), 5000):
            DirtyMark.objects.filter(id__in=ids[chunk : chunk + 5000]).delete()
        return RefreshRun.objects.create(
            kind=RefreshKind.INCREMENTAL,
            started_at=started,
            finished_at=timezone.now(),
            marks=len(marks),
            campaigns=written.campaigns,
            budget_lines=written.budget_lines,
            cells_written=written.cells,
            rollups_written=written.rollups,
        )


def rebuild_all(*, compare: bool = True) -> RefreshRun:
    """Rebuild every rollup from the facts. With ``compare``, first fold in pending marks, so that
    the rows the rebuild has to replace are exactly where the incremental path went wrong, and record
    whether there were any."""
    if compare:
        refresh_pending()
    started = timezone.now()
    written = rollups.rebuild()
    return RefreshRun.objects.create(
        kind=RefreshKind.FULL,
        started_at=started,
        finished_at=timezone.now(),
        cells_written=written.cells,
        rollups_written=written.rollups,
        agreed=(written.changed == 0) if compare else None,
        differences=written.changed,
    )
