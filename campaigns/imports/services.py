"""The services of importing spend and results from spreadsheets and ad-platform exports.

The flow, one service each:

1. ``import_upload`` stores the file and checks every row (nothing is written to the facts).
2. ``import_map`` names the campaign behind each reference the file uses that mops does not know;
   the choice is remembered as a ``CampaignAlias`` for the next file of that format. ``None`` skips
   that reference's rows.
3. ``import_start`` queues the batch; the ``run_import`` task calls
4. ``import_run``, which checks the file again (periods may have closed, rates been added) and writes.

How a file is read and written (a 50 MB file must not need 50 MB of memory, nor a query per row,
nor a Python object per row):

- The file is read a block of rows at a time, column by column (``importers.columns``): each
  distinct date, campaign and currency of a block is read once, numbers in the usual shapes all at
  once; any row with something unusual goes through the row-by-row reading (``layouts.RowParser``),
  which remains the reference for every value and message.
- The check (``checking``) works on those columns. A run reads its file once: each block's good
  rows are staged in a temporary table as soon as they are checked (``writing.Writer.stage``).
  Between blocks only integers per campaign-day and per segment are kept (16 bytes each), never rows.
- Then the campaign-days are written in chunks (``writing``): on PostgreSQL set-based — summed,
  rounded and converted to the base currency in SQL, and one ``INSERT … ON CONFLICT DO UPDATE …
  WHERE`` the values differ per chunk and fact table, counting outcomes in the same statement;
  elsewhere compared and upserted from Python. Spend rows are keyed (campaign, day, source =
  format, ``external_key`` = format); result rows (campaign, day, source): a re-run never double
  counts, and facts that would not change are not written. Measures the file has no column for
  keep their values.
- Counts are file rows: the rows of one campaign-day share its outcome (created if a fact of the day
  was created, else updated if one changed, else unchanged), so created + updated + unchanged +
  rejected = rows read.
- All-or-nothing: the check finds any bad row → the batch fails and nothing is written; else the
  whole run is one transaction. Progress (``rows_done``: rejected rows, then the rows of each chunk
  written) is then reported over a second database connection on PostgreSQL (autocommit, so the
  import page sees it while the transaction is open); on other databases only at the end.
  Good rows: each chunk commits on its own, with its progress.
- Money is summed per campaign-day in the row's currency (the file's, else the campaign's), rounded
  once, and converted at the day's rate (the latest on or before it, as ``fx_rate_on``); pipeline
  and revenue are converted like spend. Counts summed from fractional conversions round half up.
- A reference mapped to no campaign is kept as an entry ``{"row": None, "ref": …, "rows": n, "message": …}``
  in ``ImportBatch.errors`` (the batch has no other place for it); its rows count as rejected but
  do not block an all-or-nothing import. Row errors are ``{"row": N, "message": …}``, at most
  ``MAX_ERRORS`` of them; ``rows_rejected`` keeps the true count.

Faults (tests/faults):

- A run holds a PostgreSQL advisory lock on its batch for as long as it runs, on its own session: a
  worker that dies (``kill -9``, a lost machine) loses its session and the lock with it. A batch
  left running with no run holding its lock is *stalled*
  (``import_stalled``; the import page says so): its uploader can start it again, without waiting
  for the broker to hand the lost task to another worker (an hour with Redis), and a second
  delivery of a batch that a live run holds does nothing.
- The task is sent after commit; if the broker does not take it (Redis down), the batch goes back
  to what it was and ``import_start`` says so: nothing is lost, the user starts it again later.
- A queued batch whose task the broker lost (Redis restarted without persistence) is sent again by
  the beat's sweep (``imports_requeue``) once it has waited ``IMPORT_REQUEUE_AFTER_SECONDS``.
"""

import datetime
import functools
import logging
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from campaigns.importers import formats, layouts, shapes, sheets
from campaigns.importers.formats import IMPORTERS
from campaigns.imports import messages
from campaigns.imports.checking import Check, check_file
from campaigns.imports.files import local_file, spooled, stored_name
from campaigns.imports.writing import Writer, progress_reporter
from campaigns.models import Campaign, CampaignAlias, ImportBatch, ImportStatus
from campaigns.permissions import can_edit_campaign, can_import
from mops.celery import app
from mops.services import audit

logger = logging.getLogger(__name__)
RUN_LOCK = 0x696D7074  # "impt": the advisory lock class of import runs, with the batch id as object id
QUEUE_DOWN = (
    "The task queue is not answering just now, so the import was not started (nothing was written). "
    "Start it again in a few minutes."
)


def _task(name: str):
    """The Celery task registered as ``name``. ``campaigns.tasks`` imports this module (tasks call
    services, never the reverse), so the services find their tasks by name in Celery's registry: the
    worker registers every app's tasks when it starts, a web process (or a test) on first use. The
    task object (not ``send_task``) keeps ``always_eager`` and the retry options."""
    if name not in app.tasks:
        app.loader.import_default_modules()  # autodiscovery: imports each app's ``tasks`` module
    return app.tasks[name]


# --- the services -------------------------------------------------------------------------------


def import_upload(*, actor, file, filename: str, commit_mode: str = "all", format: str | None = None) -> ImportBatch:
    """Store an uploaded file and check it: rows, row errors, campaigns it names that mops does not
    know, what each column is read into, spend it would repeat from another source.

    Refuses (``ValidationError``, nothing stored) an empty file, a file over ``IMPORT_MAX_BYTES``,
    anything that is not a CSV/TSV/XLSX spreadsheet, a file whose columns match no format (or not
    ``format`` when given, or several formats none of which reads every column: the user chooses),
    a file past ``IMPORT_MAX_ROWS``/``IMPORT_MAX_COLUMNS`` and a file with no data rows. Writes no
    facts. A file that reads to more than ``IMPORT_CHECK_IN_REQUEST_BYTES`` is stored with its header
    read and left ``checking``: the worker checks its rows (``import_check``), not the request.
    """
    if not can_import(actor):
        raise PermissionDenied("Only marketers can import spend and results.")
    if commit_mode not in ImportBatch.CommitMode.values:
        raise ValidationError({"commit_mode": [f"Unknown commit mode {commit_mode!r}."]})
    if format is not None and format not in IMPORTERS:
        raise ValidationError({"format": [f"Unknown import format {format!r}."]})
    with spooled(file) as (path, _size, sha256):
        try:
            fmt, table = formats.sniff(path, format=format)
            layout = IMPORTERS[fmt].layout(table.header)
            in_worker = sheets.read_size(path) > settings.IMPORT_CHECK_IN_REQUEST_BYTES
            check = None if in_worker else check_file(table=table, format=fmt, actor=actor, skip=set(), final=False)
        except shapes.ImportFileError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        if check is not None and check.rows_total == 0:
            raise ValidationError({"file": ["The file has a header but no data rows."]})
        batch = ImportBatch(
            filename=filename[:255],
            file_sha256=sha256,
            format=fmt,
            commit_mode=commit_mode,
            uploaded_by=actor,
            status=ImportStatus.CHECKING if in_worker else ImportStatus.UPLOADED,
            columns=layouts.column_report(table.header, layout),
        )
        if check is not None:
            for name, value in check.fields({}).items():
                setattr(batch, name, value)
        else:
            batch.queued_at = timezone.now()
        with open(path, "rb") as fh:
            batch.file.save(stored_name(path), File(fh), save=False)
        try:
            batch.save()
        except Exception:
            batch.file.delete(save=False)
            raise
    if in_worker:
        transaction.on_commit(functools.partial(_queue_check, batch.pk))
        batch.refresh_from_db()  # checked already when the task ran here (eager, no transaction)
    return batch


def _queue_check(batch_id: int) -> None:
    """Send the check to the worker; a broker that is down leaves the batch checking, and the beat's
    sweep (``imports_requeue``) sends it again."""
    check_import = _task("campaigns.tasks.check_import")
    if app.conf.task_always_eager:
        check_import.delay(batch_id)
        return
    try:
        check_import.delay(batch_id)
    except (BrokerError, ConnectionError, TimeoutError, OSError):
        logger.warning("Could not queue the check of import %s; the sweep sends it again.", batch_id, exc_info=True)


def import_check(*, batch_id: int) -> ImportBatch:
    """The worker's check of a large upload (``import_upload`` or ``import_map`` left it ``checking``):
    its rows, row errors, unknown campaigns and repeated spend, as the request does for a small file. A file past
    a limit, or with no data rows, ends ``failed`` with the reason. Any other batch is left as it is."""
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    if batch.status != ImportStatus.CHECKING:
        return batch
    skipped = _skipped(batch)  # references a mapping skipped (``import_map`` of a large file)
    try:
        with local_file(batch) as path:
            table = _table(batch, path)
            check = check_file(
                table=table, format=batch.format, actor=batch.uploaded_by, skip=set(skipped), final=False
            )
    except (ValidationError, shapes.ImportFileError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _checked(batch, status=ImportStatus.FAILED, errors=[{"row": None, "message": message}])
    if check.rows_total == 0:
        message = "The file has a header but no data rows."
        return _checked(batch, status=ImportStatus.FAILED, errors=[{"row": None, "message": message}])
    return _checked(batch, status=ImportStatus.UPLOADED, **check.fields(skipped))


def _checked(batch: ImportBatch, *, status: str, **fields) -> ImportBatch:
    done = {"finished_at": timezone.now()} if status == ImportStatus.FAILED else {}
    ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.CHECKING).update(status=status, **done, **fields)
    batch.refresh_from_db()
    return batch


def import_map(*, actor, batch: ImportBatch, mapping: dict[str, Campaign | None]) -> ImportBatch:
    """Name the campaign behind references the file uses (remembered for the next file of the format);
    ``None`` skips that reference's rows. Then checks the file again (a large file: in the worker)."""
    _require_uploader(actor, batch)
    batch = ImportBatch.objects.get(pk=batch.pk)
    if batch.status != ImportStatus.UPLOADED:
        raise ValidationError(f"This import is {batch.get_status_display().lower()}: its mapping cannot change.")
    skipped = _skipped(batch)
    open_refs = set(batch.unknown_campaigns) | set(skipped)
    strangers = sorted(set(mapping) - open_refs)
    if strangers:
        raise ValidationError(f"{', '.join(repr(r) for r in strangers)}: not an unmapped campaign of this file.")
    for campaign in mapping.values():
        if campaign is not None and not can_edit_campaign(actor, campaign):
            raise PermissionDenied(f"You cannot import into {campaign.code}: it is not your team's campaign.")
    with transaction.atomic():
        for ref, campaign in mapping.items():
            if campaign is None:
                skipped.setdefault(ref, 0)
                continue
            skipped.pop(ref, None)
            alias, _ = CampaignAlias.objects.update_or_create(
                source=batch.format, external_ref=ref, defaults={"campaign": campaign, "created_by": actor}
            )
            audit(
                actor=actor,
                action="campaign_alias.set",
                obj=alias,
                after={"source": batch.format, "external_ref": ref, "campaign": campaign.code},
            )
    with local_file(batch) as path:
        if sheets.read_size(path) > settings.IMPORT_CHECK_IN_REQUEST_BYTES:
            # A large file is checked again by the worker; the skipped references wait on the batch.
            notes = Check().fields(skipped)["errors"]
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportStatus.CHECKING, queued_at=timezone.now(), errors=notes
            )
            transaction.on_commit(functools.partial(_queue_check, batch.pk))
            batch.refresh_from_db()
            return batch
        table = _table(batch, path)
        check = check_file(table=table, format=batch.format, actor=actor, skip=set(skipped), final=False)
    ImportBatch.objects.filter(pk=batch.pk).update(**check.fields(skipped))
    batch.refresh_from_db()
    return batch


def import_start(*, actor, batch: ImportBatch, allow_repeated_spend: bool = False) -> ImportBatch:
    """Queue a checked, failed or stalled import (``import_stalled``); the worker runs ``import_run``
    after commit. If the broker does not take the task, the batch is left as it was and the
    ``ValidationError`` says so.

    Refused while campaigns remain unmapped, in all-or-nothing mode while rows have errors, and
    while the file repeats spend stored under another source (``ImportBatch.repeats``) unless
    ``allow_repeated_spend`` says the user has seen it and it is other money.
    """
    _require_uploader(actor, batch)
    sent = {}
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        previous = batch.status
        if previous == ImportStatus.RUNNING and not import_stalled(batch):
            raise ValidationError(
                f"This import is running ({batch.rows_done} of {batch.rows_total} rows): it cannot be started again."
            )
        if previous == ImportStatus.CHECKING:
            raise ValidationError("This import is still being checked: start it once the check is done.")
        if previous not in (ImportStatus.UPLOADED, ImportStatus.FAILED, ImportStatus.RUNNING):
            raise ValidationError(f"This import is {batch.get_status_display().lower()}: it cannot be started.")
        if batch.unknown_campaigns:
            names = ", ".join(repr(r) for r in batch.unknown_campaigns[:5])
            more = f" and {len(batch.unknown_campaigns) - 5} more" if len(batch.unknown_campaigns) > 5 else ""
            raise ValidationError(f"Say which campaign {names}{more} is (or skip it) before starting the import.")
        if batch.commit_mode == ImportBatch.CommitMode.ALL_OR_NOTHING and _has_row_errors(batch):
            raise ValidationError(messages.row_errors_block_start(batch))
        if batch.repeat_count and not allow_repeated_spend and previous == ImportStatus.UPLOADED:
            raise ValidationError(messages.repeats_block_start(batch), code="repeated_spend")
        # A stalled run may have committed chunks: ``finished_at`` tells the next run it is a restart.
        stalled = {"finished_at": timezone.now()} if previous == ImportStatus.RUNNING else {}
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED, queued_at=timezone.now(), **stalled)
        transaction.on_commit(functools.partial(_queue, batch.pk, previous, sent))
    if sent.get("ok") is False:  # the callback ran (no outer transaction) and the broker refused
        raise ValidationError(QUEUE_DOWN)
    batch.refresh_from_db()
    return batch


def _queue(batch_id: int, previous: str, sent: dict) -> None:
    """Send the run to the worker; if the broker does not take it, put the batch back as it was."""
    run_import = _task("campaigns.tasks.run_import")
    if app.conf.task_always_eager:
        run_import.delay(batch_id)  # runs here and now; its errors are the caller's
        sent["ok"] = True
        return
    try:
        run_import.delay(batch_id)
    except (BrokerError, ConnectionError, TimeoutError, OSError):
        logger.warning("Could not queue import %s; it is left %s.", batch_id, previous, exc_info=True)
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(status=previous)
        sent["ok"] = False
    else:
        sent["ok"] = True


def imports_requeue(*, older_than: datetime.timedelta, dry_run: bool = False) -> int:
    """Send again every batch queued longer than ``older_than`` ago; returns how many were sent.

    A queued batch's task lives only in the broker: a Redis that restarts without persistence loses
    it, and the batch would say "waiting for a worker" for ever. Sending it again is safe — a run
    of a batch that is done or running does nothing, and facts are upserted — so the beat calls this
    every few minutes (``campaigns-import-requeue``); a broker that is still down leaves them for the
    next sweep. With ``dry_run``, only counts the batches it would send again (nothing sent or written)."""
    stale = ImportBatch.objects.filter(queued_at__lt=timezone.now() - older_than)
    if dry_run:
        return stale.filter(status__in=[ImportStatus.CHECKING, ImportStatus.QUEUED]).count()
    check_import, run_import = _task("campaigns.tasks.check_import"), _task("campaigns.tasks.run_import")
    checking = list(stale.filter(status=ImportStatus.CHECKING).values_list("pk", flat=True))
    for batch_id in checking:
        check_import.apply_async([batch_id], ignore_result=True)
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.CHECKING).update(queued_at=timezone.now())
        logger.info("Import %s was still being checked: its check was sent again.", batch_id)
    due = list(stale.filter(status=ImportStatus.QUEUED).values_list("pk", flat=True))
    for batch_id in due:
        run_import.apply_async([batch_id], ignore_result=True)
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(queued_at=timezone.now())
        logger.info("Import %s was still queued: sent again.", batch_id)
    return len(due) + len(checking)


def import_stalled(batch: ImportBatch) -> bool:
    """Running, and no run holds it: the worker that had it died. (A queued batch is waiting for a
    worker; if the broker lost its task, ``imports_requeue`` sends it again.)

    Only PostgreSQL can tell (the run's advisory lock); elsewhere a running batch is taken to be alive
    and is left to its task's redelivery."""
    if batch.status != ImportStatus.RUNNING or connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 2)",
            [RUN_LOCK, _lock_object(batch.pk)],
        )
        return cursor.fetchone()[0]


def _lock_object(batch_id: int) -> int:
    return batch_id & 0x7FFFFFFF


@contextmanager
def _run_lock(batch_id: int):
    """Held while a run of the batch runs (PostgreSQL, on the run's session); yields whether this
    run got it. Elsewhere (SQLite, one process) it is always granted."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK, _lock_object(batch_id)])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held and not (connection.in_atomic_block and connection.needs_rollback):
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK, _lock_object(batch_id)])
            except Exception:  # the session is gone, and its lock with it
                logger.warning("Could not release the run lock of import %s.", batch_id, exc_info=True)


def import_run(*, batch_id: int) -> ImportBatch:
    """The worker's job: check the file again, then write its facts (see the module's docstring).

    Runs queued batches, and batches a lost worker left running or an error left failed; any other
    batch, or one another live run holds, is returned as it is. Raises what it cannot handle (after
    marking the batch failed), so that the task's retries apply.
    """
    with _run_lock(batch_id) as mine:
        if not mine:
            logger.info("Import %s is being run by another worker: nothing to do here.", batch_id)
            return ImportBatch.objects.get(pk=batch_id)
        return _run(batch_id)


def _run(batch_id: int) -> ImportBatch:
    previous = ImportBatch.objects.filter(pk=batch_id).values_list("status", "finished_at").first()
    if previous is None:
        raise ImportBatch.DoesNotExist(f"No import batch {batch_id}.")
    runnable = (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.FAILED)
    started = ImportBatch.objects.filter(pk=batch_id, status__in=runnable).update(
        status=ImportStatus.RUNNING, rows_done=0
    )
    batch = ImportBatch.objects.select_related("uploaded_by").get(pk=batch_id)
    if not started:
        logger.info("Import %s is %s: nothing to run.", batch_id, batch.status)
        return batch
    # A batch run before may have committed chunks that were never announced: announce all it holds.
    restarted = previous[0] != ImportStatus.QUEUED or previous[1] is not None
    try:
        with local_file(batch) as path:
            table = _table(batch, path)
            skipped = _skipped(batch)
            writer = Writer(batch, IMPORTERS[batch.format].layout(table.header), restarted=restarted)
            try:
                return _check_and_write(batch, table, skipped, writer)
            finally:
                writer.close()
    except shapes.ImportFileError as exc:  # the file itself (a limit): no retry will change that
        _mark_stopped(batch, exc, message=str(exc))
        batch.refresh_from_db()
        return batch
    except Exception as exc:
        _mark_stopped(batch, exc)
        raise


def _check_and_write(batch: ImportBatch, table: sheets.Table, skipped: dict, writer: Writer) -> ImportBatch:
    """One reading of the file: each block is checked and its good rows staged; then, unless an
    all-or-nothing import found a bad row, the staged rows are written."""

    def check():
        return check_file(
            table=table,
            format=batch.format,
            actor=batch.uploaded_by,
            skip=set(skipped),
            final=True,
            on_rows=writer.stage,
        )

    if batch.commit_mode == ImportBatch.CommitMode.ALL_OR_NOTHING:
        with progress_reporter(batch) as report, transaction.atomic():
            checked = check()
            if not checked.error_count:
                writer.run(checked, report)
                return _finish_done(batch, checked, skipped, writer)
            transaction.set_rollback(True)  # nothing but the staged rows was written: let them go
        return _finish_failed(batch, checked, skipped)
    checked = check()
    writer.run(checked, None)
    with transaction.atomic():
        return _finish_done(batch, checked, skipped, writer)


# --- ending a run -------------------------------------------------------------------------------


def _finish_done(batch: ImportBatch, check: Check, skipped: dict, writer: Writer) -> ImportBatch:
    fields = check.fields(skipped)
    counts = {
        "rows_total": check.rows_total,
        "rows_done": check.rows_total,
        "rows_created": writer.counts["created"],
        "rows_updated": writer.counts["updated"],
        "rows_unchanged": writer.counts["unchanged"],
        "rows_rejected": fields["rows_rejected"],
    }
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.DONE,
        finished_at=timezone.now(),
        errors=fields["errors"],
        unknown_campaigns=[],
        **counts,
    )
    batch.refresh_from_db()
    audit(actor=batch.uploaded_by, action="import.run", obj=batch, after={"status": batch.status, **counts})
    writer.announce()
    return batch


def _finish_failed(batch: ImportBatch, check: Check, skipped: dict) -> ImportBatch:
    fields = check.fields(skipped)
    counts = {"rows_total": check.rows_total, "rows_rejected": fields["rows_rejected"]}
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            errors=fields["errors"],
            rows_done=0,
            rows_created=0,
            rows_updated=0,
            rows_unchanged=0,
            **counts,
        )
        batch.refresh_from_db()
        audit(actor=batch.uploaded_by, action="import.run", obj=batch, after={"status": batch.status, **counts})
    return batch


def _mark_stopped(batch: ImportBatch, exc: Exception, *, message: str | None = None) -> None:
    """The run broke (database gone, time limit, a limit of the file …): say so on the batch,
    outside any transaction."""
    if connection.in_atomic_block and connection.needs_rollback:
        return  # the caller's transaction is broken; its rollback undoes our status anyway
    written = (
        "nothing was written"
        if batch.commit_mode == ImportBatch.CommitMode.ALL_OR_NOTHING
        else "the rows before it may have been written; starting it again finishes the job without double counting"
    )
    if message is None:
        message = f"The import stopped ({exc.__class__.__name__}: {str(exc)[:200]}); {written}."
    errors = [e for e in ImportBatch.objects.get(pk=batch.pk).errors if e.get("row") is not None or "ref" in e]
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.FAILED, finished_at=timezone.now(), errors=[{"row": None, "message": message}, *errors]
    )


# --- helpers ------------------------------------------------------------------------------------


def _require_uploader(actor, batch: ImportBatch) -> None:
    if batch.uploaded_by_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the person who uploaded the file can map or start its import.")


def _skipped(batch: ImportBatch) -> dict[str, int]:
    return {e["ref"]: 0 for e in batch.errors if e.get("row") is None and "ref" in e}


def _has_row_errors(batch: ImportBatch) -> bool:
    return any(e.get("row") is not None for e in batch.errors)


def _table(batch: ImportBatch, path) -> sheets.Table:
    try:
        return formats.sniff(path, format=batch.format)[1]
    except shapes.ImportFileError as exc:
        raise ValidationError({"file": [str(exc)]}) from None
