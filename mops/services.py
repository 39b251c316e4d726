"""Every write to the core: validate, lock, write, audit — in one transaction."""

import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils.text import slugify

from mops.models import AuditEvent, Currency, FxRate, Membership, Team
from mops.permissions import can_manage_fx_rates, can_manage_teams


def snapshot(obj, fields=None) -> dict:
    """The state of ``obj`` for an audit record (JSON-safe via the event's encoder)."""
    return model_to_dict(obj, fields=fields)


def audit(*, actor, action: str, obj=None, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Record an audit event in the caller's transaction.

    Must be called inside ``transaction.atomic`` with the change it records, so both commit or
    both roll back; calling it outside one is a programming error.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit() must run inside the transaction of the change it records.")
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
    )


def _require(predicate, actor, message):
    if not predicate(actor):
        raise PermissionDenied(message)


TEAM_FIELDS = ["name", "slug", "description", "is_active"]


def team_create(*, actor, name: str, slug: str = "", description: str = "", is_active: bool = True) -> Team:
    _require(can_manage_teams, actor, "Only ops admins can create teams.")
    team = Team(name=name.strip(), slug=slug or slugify(name)[:60], description=description, is_active=is_active)
    team.full_clean()
    with transaction.atomic():
        team.save()
        audit(actor=actor, action="team.create", obj=team, after=snapshot(team, TEAM_FIELDS))
    return team


def team_update(*, actor, team: Team, **changes) -> Team:
    _require(can_manage_teams, actor, "Only ops admins can change teams.")
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise ValueError(f"Unknown team fields: {sorted(unknown)}")
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        before = snapshot(team, TEAM_FIELDS)
        for field, value in changes.items():
            setattr(team, field, value)
        team.full_clean()
        team.save()
        audit(actor=actor, action="team.update", obj=team, before=before, after=snapshot(team, TEAM_FIELDS))
    return team


def membership_set(*, actor, team: Team, user, is_lead: bool = False) -> Membership:
    """Add ``user`` to ``team`` or change whether they lead it."""
    _require(can_manage_teams, actor, "Only ops admins can change team membership.")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
        before = {"is_lead": membership.is_lead} if membership else None
        if membership is None:
            membership = Membership.objects.create(team=team, user=user, is_lead=is_lead)
        else:
            membership.is_lead = is_lead
            membership.save(update_fields=["is_lead"])
        audit(actor=actor, action="membership.set", obj=membership, before=before, after={"is_lead": is_lead})
    return membership


def membership_remove(*, actor, membership: Membership) -> None:
    _require(can_manage_teams, actor, "Only ops admins can change team membership.")
    with transaction.atomic():
        audit(actor=actor, action="membership.remove", obj=membership, before={"is_lead": membership.is_lead})
        membership.delete()


def fx_rate_set(*, actor, currency: str, date: datetime.date, rate: Decimal, source: str = "") -> FxRate:
    """Set the rate of ``currency`` on ``date`` (replacing that day's rate, audited)."""
    _require(can_manage_fx_rates, actor, "Only finance and ops admins can set exchange rates.")
    if rate is None or Decimal(rate) <= 0:
        raise ValidationError({"rate": ["The rate must be greater than zero."]})
    if not Currency.objects.filter(code=currency).exists():
        raise ValidationError({"currency": [f"Unknown currency {currency!r}."]})
    with transaction.atomic():
        existing = FxRate.objects.select_for_update().filter(currency_id=currency, date=date).first()
        before = {"rate": existing.rate} if existing else None
        try:
            with transaction.atomic():
                fx, _ = FxRate.objects.update_or_create(
                    currency_id=currency, date=date, defaults={"rate": rate, "source": source}
                )
        except IntegrityError:  # a concurrent insert of the same day won; ours becomes an update
            fx = FxRate.objects.select_for_update().get(currency_id=currency, date=date)
            fx.rate, fx.source = rate, source
            fx.save(update_fields=["rate", "source"])
        audit(actor=actor, action="fxrate.set", obj=fx, before=before, after={"rate": fx.rate})
    return fx
