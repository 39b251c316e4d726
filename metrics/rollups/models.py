"""Models of the rollups: the calendar the rollups bucket by, the rollup tables, the dirty marks that
drive incremental refreshes and the record of each refresh.

Rollups are derived data: every row can be rebuilt from the facts (``metrics.rollups.engine``). They hold
ids of the dimensions they cut by as plain integers, not foreign keys, so that a rollup never blocks
or cascades a change to the things it describes.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Grain(models.TextChoices):
    DAY = "d", "Day"
    WEEK = "w", "Week"
    MONTH = "m", "Month"
    QUARTER = "q", "Fiscal quarter"
    YEAR = "y", "Fiscal year"


class Dimension(models.TextChoices):
    ORGANISATION = "org", "Organisation"
    CAMPAIGN = "campaign", "Campaign"
    PROGRAM = "program", "Program"
    CHANNEL = "channel", "Channel"
    CHANNEL_GROUP = "channel_group", "Channel group"
    TEAM = "team", "Team"
    REGION = "region", "Region"
    OBJECTIVE = "objective", "Objective"
    BUDGET_LINE = "budget_line", "Budget line"


class CalendarBucket(models.Model):
    """Which bucket of each grain a day falls in: five rows per day (fiscal-aware quarters and
    years). Joining facts to it buckets them in plain SQL on PostgreSQL and SQLite alike."""

    date = models.DateField()
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period_start = models.DateField()
    ordinal = models.IntegerField()  # date.toordinal(): day arithmetic in SQL that runs on both databases

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "grain"], name="calendarbucket_unique_date_grain")]

    def __str__(self):
        return f"{self.date} {self.grain} {self.period_start}"


class CellSource(models.TextChoices):
    CAMPAIGN = "c", "Campaign facts"  # spend, planned cost and results
    BUDGET_LINE = "b", "Budget line"  # budget, allocated, committed


MEASURE_FIELDS = (
    "spend",
    "planned_cost",
    "budget",
    "allocated",
    "committed",
    "impressions",
    "clicks",
    "leads",
    "mqls",
    "sqls",
    "opportunities",
    "pipeline",
    "new_customers",
    "revenue",
)
MONEY_MEASURES = ("spend", "planned_cost", "budget", "allocated", "committed", "pipeline", "revenue")


def SumField(**kwargs) -> models.DecimalField:  # noqa: N802 — reads like a field class at call sites
    """A sum of money amounts: the money precision with MONEY_SUM_MAX_DIGITS digits, wide enough for
    the sum of every amount the bound (``mops.money.MONEY_MAX``) allows, so a refresh never overflows.
    No bound validator: a sum is not an amount anyone types."""
    return models.DecimalField(
        max_digits=settings.MONEY_SUM_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )


class Measures(models.Model):
    """The summed base measures (money in the base currency, as sums: ``SumField``)."""

    spend = SumField(default=0)
    planned_cost = SumField(default=0)
    budget = SumField(default=0)
    allocated = SumField(default=0)
    committed = SumField(default=0)
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    leads = models.BigIntegerField(default=0)
    mqls = models.BigIntegerField(default=0)
    sqls = models.BigIntegerField(default=0)
    opportunities = models.BigIntegerField(default=0)
    pipeline = SumField(default=0)
    new_customers = models.BigIntegerField(default=0)
    revenue = SumField(default=0)

    class Meta:
        abstract = True


class Cell(Measures):
    """The finest rollup: one campaign's facts on one channel (tactics may use another channel than
    their campaign), or one budget line, per bucket of a grain. It carries the campaign's or line's
    dimensions so that any filter or grouping is one ``GROUP BY`` over cells."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period_start = models.DateField()
    source = models.CharField(max_length=1, choices=CellSource.choices)
    source_id = models.IntegerField()
    channel_id = models.IntegerField(null=True)
    channel_group = models.CharField(max_length=20, null=True)
    team_id = models.IntegerField(null=True)
    program_id = models.IntegerField(null=True)
    region_id = models.IntegerField(null=True)
    objective_id = models.IntegerField(null=True)

    class Meta:
        indexes = [
            # Refreshes delete and rebuild a source's cells over a range of buckets.
            models.Index(fields=["source", "source_id", "grain", "period_start"], name="cell_source_idx"),
            # Filtered dashboard reads: a grain over a date range, then the filter columns.
            models.Index(fields=["grain", "period_start", "team_id"], name="cell_grain_period_team_idx"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.source_id} {self.grain} {self.period_start}"


class Rollup(Measures):
    """Summed measures of one member of one dimension per bucket. ``member`` is the member's id
    (or channel group code) as text; "" is the organisation, or "none" (a campaign without a program,
    region or objective; a budget line without a team, channel or program). The campaign and budget
    line dimensions need no rows here: the cells are already per campaign and per line."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period_start = models.DateField()
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    member = models.CharField(max_length=32)
    cell_count = models.IntegerField(default=0)  # cells summed here; 0 after a refresh: the row goes

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "grain", "member", "period_start"], name="rollup_unique_member_bucket"
            )
        ]
        indexes = [models.Index(fields=["grain"], condition=Q(cell_count=0), name="rollup_emptied_idx")]

    def __str__(self):
        return f"{self.dimension} {self.member or 'all'} {self.grain} {self.period_start}"


class DirtyMark(models.Model):
    """Facts of a campaign (between two dates; no dates: all of them) or a budget line changed and
    the rollups have not caught up yet. Written in the database so that nothing is lost while the
    broker or the workers are down; the refresh task deletes the marks it has folded in.

    A mark whose refresh failed (its campaign's or line's SQL raised) is *set aside*: ``attempts``
    counts the failures, ``last_error`` says the last one, and the refresh leaves it alone until
    ``next_attempt_at`` (a backoff that doubles) unless a new change to the same campaign or line
    arrives, so one bad source never blocks the others (``metrics.rollups.services.refresh_pending``)."""

    source = models.CharField(max_length=1, choices=CellSource.choices)
    source_id = models.IntegerField()
    start = models.DateField(null=True)
    end = models.DateField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)  # failed refreshes of this mark
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # None: due now (never failed)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True) | Q(start__lte=models.F("end")),
                name="dirtymark_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(attempts=0, next_attempt_at__isnull=True)
                | Q(attempts__gt=0, next_attempt_at__isnull=False),
                name="dirtymark_set_aside_has_retry",
            ),
        ]
        indexes = [
            # The set-aside marks (few): the refresh skips those not yet due, health and ops list them.
            models.Index(fields=["next_attempt_at"], condition=Q(attempts__gt=0), name="dirtymark_set_aside_idx"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.source_id} {self.start or '…'}–{self.end or '…'}"


class RefreshKind(models.TextChoices):
    INCREMENTAL = "incremental", "Incremental"
    FULL = "full", "Full rebuild"


class RefreshRun(models.Model):
    """One refresh of the rollups: what it covered, how long it took and, for a full rebuild, whether
    the rows it replaced (kept incrementally) agreed with the rebuilt ones."""

    kind = models.CharField(max_length=12, choices=RefreshKind.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    marks = models.PositiveIntegerField(default=0)
    campaigns = models.PositiveIntegerField(default=0)
    budget_lines = models.PositiveIntegerField(default=0)
    cells_written = models.PositiveIntegerField(default=0)
    rollups_written = models.PositiveIntegerField(default=0)
    agreed = models.BooleanField(null=True)  # full rebuilds only
    differences = models.PositiveIntegerField(default=0)
    set_aside = models.PositiveIntegerField(default=0)  # marks whose refresh failed in this run (retried later)

    class Meta:
        ordering = ["-finished_at"]
        indexes = [models.Index(fields=["kind", "-finished_at"], name="refreshrun_kind_finished_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.finished_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration_ms(self) -> float:
        return (self.finished_at - self.started_at).total_seconds() * 1000
