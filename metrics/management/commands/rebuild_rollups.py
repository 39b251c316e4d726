"""Rebuild every rollup from the facts, with a progress bar, and say whether the incrementally kept
rows agreed with the rebuild."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from metrics.rollups import services


class Command(BaseCommand):
    help = "Rebuild all KPI rollups from the facts (cells, then every dimension) and check the incremental path."

    def add_arguments(self, parser):
        parser.add_argument("--no-compare", action="store_true", help="Skip the check against the current rows.")

    def handle(self, *args, no_compare=False, **options):
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
