"""Planning: fiscal years and the channel taxonomy that reports cut by."""

from django.db import models
from django.db.models import F, Q


class FiscalYear(models.Model):
    """A fiscal year, e.g. FY2027 = 2026-07-01 … 2027-06-30 with a July start."""

    year = models.PositiveSmallIntegerField(unique=True)  # named by the calendar year it ends in
    start_date = models.DateField(unique=True)
    end_date = models.DateField(unique=True)

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="fiscalyear_end_after_start"),
        ]

    def __str__(self):
        return f"FY{self.year}"


class ChannelGroup(models.TextChoices):
    PAID_MEDIA = "paid_media", "Paid media"  # bought reach: search, social, display, …
    OWNED = "owned", "Owned"  # channels we run: email, content, website
    EARNED = "earned", "Earned"  # PR, reviews, organic social
    EVENTS = "events", "Events"  # trade shows, field events, webinars
    PARTNERS = "partners", "Partners"  # co-marketing, resellers, affiliates


class Channel(models.Model):
    """A marketing channel (paid search, email, events …), grouped for reporting."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    group = models.CharField(max_length=20, choices=ChannelGroup.choices)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["group", "name"]

    def __str__(self):
        return self.name
