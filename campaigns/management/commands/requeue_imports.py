"""Send again imports whose task the broker lost: what the beat task ``campaigns.tasks.requeue_imports``
does every few minutes, through the same service (``campaigns.imports.services.imports_requeue``)."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from campaigns.imports.services import imports_requeue


class Command(BaseCommand):
    help = "Send again the imports queued or being checked for longer than IMPORT_REQUEUE_AFTER_SECONDS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the imports it would send again; send and write nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        seconds = settings.IMPORT_REQUEUE_AFTER_SECONDS
        count = imports_requeue(older_than=datetime.timedelta(seconds=seconds), dry_run=dry_run)
        waiting = f"waiting longer than {seconds} s"
        if dry_run:
            self.stdout.write(f"Dry run, nothing sent: {count} import(s) {waiting} would be sent again.")
        else:
            self.stdout.write(self.style.SUCCESS(f"{count} import(s) {waiting} sent again to the workers."))
