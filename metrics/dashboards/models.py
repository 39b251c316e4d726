"""The dashboards' one table: what the scheduled e-mail reports have sent, so a send runs once per
period and recipient however often it is started (a beat retry, a resend by hand)."""

from django.conf import settings
from django.db import models


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", "Weekly report"  # metrics.dashboards.report, Monday to Sunday


class ReportSend(models.Model):
    """One report of one period mailed to one user: written right after the backend accepted the
    message, so a run that fails half-way and its retry mail each recipient once."""

    report = models.CharField(max_length=20, choices=ReportKind.choices)
    period_start = models.DateField()  # the week's Monday for the weekly report
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    address = models.EmailField()  # where it went (the user's address may change later)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "period_start", "recipient"], name="reportsend_once_per_period_recipient"
            )
        ]

    def __str__(self):
        return f"{self.get_report_display()} {self.period_start} to {self.recipient}"
