"""The shared core: teams and membership, currencies and FX rates, the audit trail."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class Team(models.Model):
    """A marketing team (e.g. "EMEA Demand Gen"). Campaigns, requests and budget lines belong to one."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user in a team. ``is_lead`` is what "team lead" means in workflow steps and permissions."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]
        # Team membership is checked on nearly every request ("my teams"); the unique index above
        # serves team-first lookups, this one user-first.
        indexes = [models.Index(fields=["user", "team"], name="membership_user_team_idx")]

    def __str__(self):
        return f"{self.user} in {self.team}{' (lead)' if self.is_lead else ''}"


class Currency(models.Model):
    """An ISO-4217 currency the organisation books in."""

    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=60)
    decimal_places = models.PositiveSmallIntegerField(default=2)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "currencies"
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z]{3}$"), name="currency_code_iso4217"),
        ]

    def __str__(self):
        return self.code


class FxRate(models.Model):
    """How many units of the base currency one unit of ``currency`` buys on ``date``.

    The rate for a booking is the latest one on or before its date (``selectors.fx_rate_on``).
    """

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="rates")
    date = models.DateField()
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    source = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-date"]
        constraints = [
            # The unique index (currency, date) also serves "latest on or before date" lookups.
            models.UniqueConstraint(fields=["currency", "date"], name="fxrate_unique_currency_date"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fxrate_rate_positive"),
        ]

    def __str__(self):
        return f"{self.currency_id} {self.date}: {self.rate}"


class AuditEvent(models.Model):
    """One append-only record of a change: who, when, what, before and after.

    Written by ``services.audit`` inside the caller's transaction, so the event and the change
    commit or roll back together. Never updated or deleted through the ORM.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=60)  # e.g. "team.create", "allocation.approve"
    content_type = models.ForeignKey("contenttypes.ContentType", null=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # "History of this object", shown on object pages.
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_at_idx"),
            # "What did this person do", for ops admins.
            models.Index(fields=["actor", "-at"], name="audit_actor_at_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are append-only.")
