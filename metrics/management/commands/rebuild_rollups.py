"""Rebuild every rollup from the facts, with a progress bar, and say whether the incrementally kept
rows agreed with the rebuild."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from metrics.rollups import services


class Command(BaseCommand):
    help = "Rebuild all KPI rollups from the facts (cells, then every dimension) and check the incremental path."

    def add_arguments(self, parser):
        parser.add_argument("--no-compare", action="store_true", help="Skip the check against the current rows.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Rebuild in a transaction that is rolled back: say how many rows differ, change nothing.",
        )

    def handle(self, *args, no_compare=False, dry_run=False, **options):
        if dry_run:
            # One rolled-back transaction around the fold-in and the rebuild (rebuild_all does both).
            run = services.rebuild_all(compare=not no_compare, dry_run=True)
            differed = f"; {run.differences} rows differ from the kept ones" if run.agreed is not None else ""
            self.stdout.write(
                f"Dry run, rolled back, nothing changed: the rebuild would write {run.cells_written} cells and "
                f"{run.rollups_written} rollup rows{differed}."
            )
            return
        steps = ["pending changes", "rebuild"] if not no_compare else ["rebuild"]
        with tqdm(total=len(steps), unit="step", disable=options["verbosity"] < 1, file=self.stderr) as bar:
            if not no_compare:
                bar.set_description("Folding in pending changes")
                services.refresh_pending()
                bar.update()
            bar.set_description("Rebuilding cells and rollups")
            run = services.rebuild_all(compare=not no_compare)
            bar.update()
        summary = f"{run.cells_written} cells and {run.rollups_written} rollup rows in {run.duration_ms / 1000:.2f} s"
        if run.agreed is False:
            self.stdout.write(self.style.WARNING(f"Rebuilt {summary}; {run.differences} rows differed from before."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Rebuilt {summary}" + ("; incremental rows agreed." if run.agreed else "."))
            )
