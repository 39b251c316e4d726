"""Send the weekly e-mail report by hand: what the Monday beat task ``metrics.tasks.send_weekly_report``
does, through the same service (``metrics.dashboards.report.deliver``). Recipients who already had
that week's report are skipped, so re-sending a missed week mails only those who missed it."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from metrics.dashboards import report


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--week wants a date as YYYY-MM-DD, not {value!r}.") from exc


class Command(BaseCommand):
    help = "Mail the weekly report (default: the last full week) to every CMO and finance user who has not had it."

    def add_arguments(self, parser):
        parser.add_argument("--week", type=_day, help="Any day (YYYY-MM-DD) of the week to send; it must be over.")
        parser.add_argument("--dry-run", action="store_true", help="Say who would be mailed; send and record nothing.")

    def handle(self, *args, week=None, dry_run=False, **options):
        today = timezone.localdate()
        if week is not None:
            today_for_week = report.report_date(week)
            if today_for_week > today:
                raise CommandError(f"The week of {week} is not over yet: its report can be sent from {today_for_week}.")
            today = today_for_week
        result = report.deliver(today, dry_run=dry_run)
        period = f"the week {result.week_start} – {result.week_end}"
        skipped = f"{result.already_sent} recipient(s) already had it"
        if dry_run:
            self.stdout.write(
                f"Dry run, nothing sent or recorded: {period} would go to {result.sent} recipient(s); {skipped}."
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Weekly report for {period}: {result.sent} sent; {skipped}."))
