"""The SLA sweep by hand: what the hourly beat task ``workflows.tasks.sla_sweep`` does, through the
same service (``workflows.services.sla_sweep``)."""

from django.core.management.base import BaseCommand

from workflows.services import sla_sweep


class Command(BaseCommand):
    help = "Mark overdue workflow steps, send today's reminders and escalate (the hourly beat task)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what the sweep would do; write nothing, send no mail."
        )

    def handle(self, *args, dry_run=False, **options):
        result = sla_sweep(dry_run=dry_run)
        counts = (
            f"{result.marked_overdue} step(s) marked overdue, {result.reminded} reminder(s) queued for mailing, "
            f"{result.escalated} step(s) escalated"
        )
        if dry_run:
            self.stdout.write(f"Dry run, nothing written or sent. The sweep would do: {counts}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"SLA sweep: {counts}."))
