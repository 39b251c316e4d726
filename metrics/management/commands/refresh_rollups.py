"""Fold the pending changes into the rollups by hand: what the every-minute beat sweep
``metrics.tasks.refresh_rollups`` does, through the same service (``metrics.rollups.services.refresh_pending``)."""

from django.core.management.base import BaseCommand

from metrics.rollups import services


class Command(BaseCommand):
    help = "Fold pending dirty marks into the KPI rollups (the every-minute beat sweep)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Run the refresh in a transaction that is rolled back: the real counts, nothing kept.",
        )

    def handle(self, *args, dry_run=False, **options):
        run = services.refresh_pending(dry_run=dry_run)
        if run is None:
            self.stdout.write("No pending changes: the rollups are up to date.")
            return
        summary = (
            f"{run.marks} change mark(s) folded in ({run.campaigns} campaign(s), {run.budget_lines} budget "
            f"line(s), {run.cells_written} cells, {run.rollups_written} rollup rows); "
            f"{run.set_aside} mark(s) set aside after a failure"
        )
        if dry_run:
            self.stdout.write(f"Dry run, rolled back, nothing kept. Would have: {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Refreshed: {summary}."))
