"""Custom KPI definitions: an ops admin's KPIs, one row per version (the built-ins and base measures
live in code, ``metrics.kpis.catalogue``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class KpiUnit(models.TextChoices):
    MONEY = "money", "Money"
    RATIO = "ratio", "Ratio (×)"
    PERCENT = "percent", "Percent"
    COUNT = "count", "Count"
    NUMBER = "number", "Number"


class KpiDirection(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class KpiDefinition(models.Model):
    """A custom KPI defined by an ops admin: a formula over base measures and other KPIs. Editing
    one adds a version; charts name the version they used."""

    code = models.SlugField(max_length=40)
    version = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=80)
    formula = models.CharField(max_length=500)
    unit = models.CharField(max_length=8, choices=KpiUnit.choices, default=KpiUnit.NUMBER)
    direction = models.CharField(max_length=6, choices=KpiDirection.choices, default=KpiDirection.HIGHER)
    description = models.CharField(max_length=200, blank=True)
    is_current = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="kpidefinition_unique_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(is_current=True), name="kpidefinition_one_current_version"
            ),
        ]

    def __str__(self):
        return f"{self.name} (v{self.version})"
