"""Writes to metrics: the rollup refreshes (incremental from the dirty marks, and the full rebuild
that checks them) and custom KPI definitions."""

import contextlib
import datetime
import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from metrics.rollups import engine
from metrics.rollups.models import CellSource, DirtyMark, RefreshKind, RefreshRun
from mops.errors import is_database_unavailable

log = logging.getLogger(__name__)
MAX_MARKS_PER_RUN = 50_000
# A mark whose refresh failed is tried again after 1 minute, then 2, 4 … at most an hour apart
# (sooner when a new change to the same campaign or line arrives: a fix is picked up at once).
RETRY_FIRST_SECONDS = 60
RETRY_MAX_SECONDS = 3600
ERROR_MAX_CHARS = 1000

Unit = tuple[str, int]  # (CellSource, source id): what one refresh recomputes and what fails alone


@dataclass
class _Outcome:
    written: engine.Written = field(default_factory=engine.Written)
    failed: dict[Unit, str] = field(default_factory=dict)  # unit -> its error, in words


def retry_delay(attempts: int) -> datetime.timedelta:
    """The backoff after the ``attempts``-th failure: 1, 2, 4 … minutes, at most an hour."""
    return datetime.timedelta(seconds=min(RETRY_FIRST_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


def refresh_pending(*, dry_run: bool = False) -> RefreshRun | None:
    """Fold the pending dirty marks into the rollups.

    Everything happens in one transaction: if the run dies (a worker killed mid-way, a database
    restart) nothing is half-applied and the marks stay for the next run. Marks another run is
    folding in right now are skipped, not waited for.

    All marks are refreshed together first; if that fails, the batch is split in halves, each
    refreshed inside its own savepoint, down to single campaigns and lines, so every source whose
    refresh works lands and only the failing ones are *set aside*: their marks keep their ranges and
    get ``attempts``, ``last_error`` and ``next_attempt_at`` (``retry_delay``). Set-aside marks are
    skipped until they are due, unless a new change to the same campaign or line comes in (a fix is
    tried at once). Retrying never double counts: a refresh recomputes a source's cells from the
    facts and moves the rollups by the difference. A lost database is not a failing source: it
    fails the whole run and every mark waits, untouched; so does any error that is not the database's
    (a time limit, a bug), which no source is to blame for.

    With ``dry_run`` the same run happens and its transaction is rolled back at the end: the counts
    are the real ones (a failing source is found by failing), and no mark, cell, rollup or run row
    is left (the returned run was never saved for good). Nothing here mails or enqueues."""
    started = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            engine.lock(cursor)
        marks = _claim(started)
        if not marks:
            return None
        units: dict[Unit, list[tuple]] = {}
        for mark in marks:
            units.setdefault((mark[1], mark[2]), []).append(mark)
        outcome = _Outcome()
        _refresh_units(list(units), units, outcome)
        done = [mark[0] for unit, unit_marks in units.items() if unit not in outcome.failed for mark in unit_marks]
        for chunk in range(0, len(done), 5000):
            DirtyMark.objects.filter(id__in=done[chunk : chunk + 5000]).delete()
        set_aside = _set_aside(units, outcome.failed, started)
        run = RefreshRun.objects.create(
            kind=RefreshKind.INCREMENTAL,
            started_at=started,
            finished_at=timezone.now(),
            marks=len(done),
            campaigns=outcome.written.campaigns,
            budget_lines=outcome.written.budget_lines,
            cells_written=outcome.written.cells,
            rollups_written=outcome.written.rollups,
            set_aside=set_aside,
        )
        if dry_run:
            transaction.set_rollback(True)
        return run


def _claim(now) -> list[tuple]:
    """Lock the marks to fold in (one query): those due (never failed, or set aside until before
    ``now``) and, with them, the set-aside marks of the same campaigns and lines — one refresh
    covers them all, so a new change to a set-aside source tries it again at once."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    unit_due = Exists(DirtyMark.objects.filter(due, source=OuterRef("source"), source_id=OuterRef("source_id")))
    return list(
        DirtyMark.objects.select_for_update(skip_locked=True)
        .filter(due | (Q(attempts__gt=0) & unit_due))
        .order_by("id")
        .values_list("id", "source", "source_id", "start", "end", "attempts")[:MAX_MARKS_PER_RUN]
    )


def _work(group: list[Unit], units: dict[Unit, list[tuple]]) -> dict:
    """``engine.refresh`` arguments for a group of units: each campaign over the union of its
    marks' ranges (None: all dates), the budget lines as a set."""
    campaigns: dict[int, engine.Range] = {}
    lines: set[int] = set()
    for unit in group:
        source, source_id = unit
        if source == CellSource.BUDGET_LINE:
            lines.add(source_id)
            continue
        for _, _, _, start, end, _ in units[unit]:
            span = None if start is None else (start, end)
            if source_id not in campaigns:
                campaigns[source_id] = span
            elif campaigns[source_id] is not None:
                campaigns[source_id] = None if span is None else engine.widen(campaigns[source_id], span)
    return {"campaigns": campaigns, "budget_lines": lines}


def _refresh_units(group: list[Unit], units: dict[Unit, list[tuple]], outcome: _Outcome) -> None:
    """Refresh ``group`` in a savepoint; on failure, each half on its own (bisection: k failing
    sources among n cost about 2·k·log2(n) extra refreshes, and the good ones all land)."""
    try:
        # engine.refresh writes in its own atomic block, a savepoint inside this transaction: a
        # failure undoes exactly this group's writes and leaves the transaction usable.
        written = engine.refresh(**_work(group, units))
    except DatabaseError as exc:  # the SQL failed on this data; anything else (a time limit …) ends the run
        if is_database_unavailable(exc) or _transaction_broken(exc):
            raise  # not this source's fault: the whole run fails and every mark waits
        if len(group) == 1:
            outcome.failed[group[0]] = f"{exc.__class__.__name__}: {exc}".strip()[:ERROR_MAX_CHARS]
            return
        half = len(group) // 2
        _refresh_units(group[:half], units, outcome)
        _refresh_units(group[half:], units, outcome)
        return
    for name in ("cells", "rollups", "campaigns", "budget_lines"):
        setattr(outcome.written, name, getattr(outcome.written, name) + getattr(written, name))


def _transaction_broken(exc: DatabaseError) -> bool:
    """The error left the whole transaction unusable (raised outside the refresh's savepoint): go
    on and every later source would fail for it, so the run must stop instead."""
    return connection.needs_rollback or getattr(exc.__cause__, "pgcode", None) == "25P02"  # in failed transaction


def _set_aside(units: dict[Unit, list[tuple]], failed: dict[Unit, str], now) -> int:
    """Record the failure on each failed unit's marks; returns how many marks were set aside."""
    count = 0
    for unit, error in failed.items():
        ids = [mark[0] for mark in units[unit]]
        attempts = max(mark[5] for mark in units[unit]) + 1
        retry_at = now + retry_delay(attempts)
        DirtyMark.objects.filter(id__in=ids).update(attempts=attempts, last_error=error, next_attempt_at=retry_at)
        count += len(ids)
        log.error(
            "Rollup refresh of %s %s failed (attempt %s); its %s change(s) are set aside until %s: %s",
            CellSource(unit[0]).label.lower(),
            unit[1],
            attempts,
            len(ids),
            retry_at.isoformat(timespec="seconds"),
            error,
        )
    return count


def rebuild_all(*, compare: bool = True, dry_run: bool = False) -> RefreshRun:
    """Rebuild every rollup from the facts. With ``compare``, first fold in pending marks, so that
    the rows the rebuild has to replace are exactly where the incremental path went wrong, and record
    whether there were any.

    With ``dry_run`` the whole rebuild runs in one transaction that is rolled back: it reports how
    many rows it would replace (``differences``) and changes nothing (the returned run is not kept).
    Without it the pending marks are folded in (and committed) before the rebuild starts, as ever."""
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        if compare:
            refresh_pending()
        started = timezone.now()
        written = engine.rebuild()
        run = RefreshRun.objects.create(
            kind=RefreshKind.FULL,
            started_at=started,
            finished_at=timezone.now(),
            cells_written=written.cells,
            rollups_written=written.rollups,
            agreed=(written.changed == 0) if compare else None,
            differences=written.changed,
        )
        if dry_run:
            transaction.set_rollback(True)
    return run
