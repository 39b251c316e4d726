"""Planning: the fiscal calendar and its periods, the taxonomy reports cut by (channels, regions,
segments), and strategic objectives with their KPI targets."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from planning.kpis import Kpi


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


class Period(models.Model):
    """A month of a fiscal year. Finance closes it to freeze spend, results and allocations dated in it."""

    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.CASCADE, related_name="periods")
    start_date = models.DateField(unique=True)  # the unique index also serves "which period holds this date"
    end_date = models.DateField()
    is_closed = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="period_end_after_start"),
        ]

    def __str__(self):
        return f"{self.start_date:%b %Y}"

    @property
    def fiscal_quarter(self) -> int:
        """1–4 within the fiscal year (quarters and halves derive from months)."""
        months_in = (self.start_date.year - self.fiscal_year.start_date.year) * 12 + (
            self.start_date.month - self.fiscal_year.start_date.month
        )
        return months_in // 3 + 1


class Region(models.Model):
    """A sales or marketing region (NA, EMEA, APAC …)."""

    name = models.CharField(max_length=80, unique=True)
    code = models.SlugField(max_length=30, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SegmentKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SEGMENT = "segment", "Customer segment"


class Segment(models.Model):
    """A product line or a customer segment campaigns can be tagged with."""

    name = models.CharField(max_length=80, unique=True)
    code = models.SlugField(max_length=30, unique=True)
    kind = models.CharField(max_length=10, choices=SegmentKind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name


class Objective(models.Model):
    """A strategic objective for a fiscal year, e.g. "Grow marketing-sourced pipeline to 12M"."""

    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="objectives")
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["fiscal_year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "name"], name="objective_unique_year_name"),
        ]

    def __str__(self):
        return self.name


class KpiTarget(models.Model):
    """The value an objective aims for on one KPI in one period — what dashboards compare actuals to."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="targets")
    kpi = models.CharField(max_length=20, choices=Kpi.choices)
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    target_value = models.DecimalField(max_digits=20, decimal_places=4)

    class Meta:
        ordering = ["objective", "kpi", "period__start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "kpi", "period"], name="kpitarget_unique_objective_kpi_period"
            ),
            models.CheckConstraint(condition=Q(target_value__gte=0), name="kpitarget_value_not_negative"),
        ]
        # Dashboards read targets by KPI and period across objectives.
        indexes = [models.Index(fields=["kpi", "period"], name="kpitarget_kpi_period_idx")]

    def __str__(self):
        return f"{self.objective}: {self.get_kpi_display()} {self.period} = {self.target_value}"
