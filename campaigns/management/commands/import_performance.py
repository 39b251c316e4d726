"""Import a spend and results file from the command line, the same way the import page does:
upload (check) → map unknown campaigns → start → run, synchronously.

    python manage.py import_performance FILE --user alice [--format google_ads] [--commit-mode good]
        [--map "Brand US=brand-us" --map "Old test="]

``--map "NAME=CODE"`` names the campaign behind a reference the file uses (remembered for the next
file of that format); ``--map "NAME="`` skips that reference's rows. Exits non-zero when the import
does not finish.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from campaigns.importers.formats import IMPORTERS
from campaigns.imports.services import import_check, import_map, import_run, import_start, import_upload
from campaigns.models import Campaign, ImportBatch, ImportStatus
from mops.celery import app as celery_app


class Command(BaseCommand):
    help = "Import spend and results from a spreadsheet or an ad-platform export."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="username of the marketer importing")
        parser.add_argument("--format", choices=sorted(IMPORTERS), help="skip detection and read the file as this")
        parser.add_argument("--commit-mode", choices=ImportBatch.CommitMode.values, default="all")
        parser.add_argument(
            "--allow-repeated-spend",
            action="store_true",
            help="import even the spend that repeats, to the cent, spend stored under another source",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="NAME=CODE",
            help="the campaign (code) behind a name or id in the file; an empty code skips its rows",
        )

    def handle(self, *args, file: Path, user: str, format, commit_mode, map, allow_repeated_spend, **options):
        try:
            actor = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {user!r}.") from None
        if not file.is_file():
            raise CommandError(f"No file {file}.")
        mapping = self._mapping(map)
        try:
            with file.open("rb") as fh:
                batch = import_upload(actor=actor, file=fh, filename=file.name, commit_mode=commit_mode, format=format)
            if batch.status == ImportStatus.CHECKING:  # a large file: the command is the worker
                batch = import_check(batch_id=batch.pk)
            self._columns(batch)
            self.stdout.write(f"{file.name}: {batch.get_format_display()}, {_rows(batch.rows_total)}")
            wanted = {ref: mapping[ref] for ref in batch.unknown_campaigns if ref in mapping}
            if wanted:
                batch = import_map(actor=actor, batch=batch, mapping=wanted)
            if batch.unknown_campaigns:
                self._report(batch)
                names = ", ".join(repr(r) for r in batch.unknown_campaigns)
                raise CommandError(f'Unknown campaigns: {names}. Name them with --map "NAME=CODE" (or "NAME=").')
            # Run the task here and now, whatever the broker: the command is the worker.
            previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
            celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
            try:
                batch = import_start(actor=actor, batch=batch, allow_repeated_spend=allow_repeated_spend)
            finally:
                celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
            if batch.status == ImportStatus.QUEUED:
                # Called inside a transaction, the task waits for its commit: run it now instead
                # (the waiting one will find the batch done).
                batch = import_run(batch_id=batch.pk)
        except (ValidationError, PermissionDenied) as exc:
            if "batch" in locals():
                self._report(batch)
            raise CommandError("; ".join(_messages(exc))) from None
        batch.refresh_from_db()
        self._report(batch)
        if batch.status != ImportStatus.DONE:
            raise CommandError(f"The import {batch.get_status_display().lower()}.")

    def _mapping(self, items: list[str]) -> dict:
        mapping = {}
        for item in items:
            ref, sep, code = item.rpartition("=")
            if not sep or not ref.strip():
                raise CommandError(f'--map {item!r}: write it as "NAME=CODE".')
            code = code.strip()
            if code:
                try:
                    mapping[ref.strip()] = Campaign.objects.get(code=code)
                except Campaign.DoesNotExist:
                    raise CommandError(f"--map {item!r}: no campaign with the code {code!r}.") from None
            else:
                mapping[ref.strip()] = None
        return mapping

    def _columns(self, batch: ImportBatch) -> None:
        read = [f"{c['column']} → {c['field']}" for c in batch.columns if c["field"]]
        ignored = [c["column"] for c in batch.columns if not c["field"]]
        self.stdout.write(f"  columns read: {', '.join(read)}")
        if ignored:
            self.stdout.write(f"  columns ignored: {', '.join(ignored)}")

    def _report(self, batch: ImportBatch) -> None:
        self.stdout.write(
            f"status {batch.status}: {_rows(batch.rows_total)} read, {batch.rows_created} created, "
            f"{batch.rows_updated} updated, {batch.rows_unchanged} unchanged, {batch.rows_rejected} rejected"
        )
        for error in batch.errors:
            where = f"row {error['row']}: " if error.get("row") is not None else ""
            self.stdout.write(f"  {where}{error['message']}")
        shown = sum(1 for e in batch.errors if e.get("row") is not None)
        rows_with_errors = batch.rows_rejected - sum(e.get("rows", 0) for e in batch.errors if e.get("row") is None)
        if rows_with_errors > shown:
            self.stdout.write(f"  … and {_rows(rows_with_errors - shown, 'more row')} with errors")


def _rows(count: int, noun: str = "row") -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _messages(exc) -> list[str]:
    if isinstance(exc, ValidationError):
        return exc.messages
    return [str(exc)]
