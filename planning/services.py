"""Writes to planning data: validate, write, audit in one transaction."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify

from mops.services import audit, snapshot
from planning.fiscal import fiscal_year_bounds
from planning.models import Channel, FiscalYear
from planning.permissions import can_manage_taxonomy

CHANNEL_FIELDS = ["name", "slug", "group", "description", "is_active"]


def fiscal_year_ensure(*, year: int) -> FiscalYear:
    """The fiscal year ``year`` on the configured calendar, created if missing (idempotent)."""
    start, end = fiscal_year_bounds(year)
    fiscal_year, _ = FiscalYear.objects.get_or_create(year=year, defaults={"start_date": start, "end_date": end})
    return fiscal_year


def channel_create(*, actor, name: str, group: str, slug: str = "", description: str = "") -> Channel:
    if not can_manage_taxonomy(actor):
        raise PermissionDenied("Only ops admins can manage channels.")
    channel = Channel(name=name.strip(), slug=slug or slugify(name)[:60], group=group, description=description)
    channel.full_clean()
    with transaction.atomic():
        channel.save()
        audit(actor=actor, action="channel.create", obj=channel, after=snapshot(channel, CHANNEL_FIELDS))
    return channel


def channel_update(*, actor, channel: Channel, **changes) -> Channel:
    if not can_manage_taxonomy(actor):
        raise PermissionDenied("Only ops admins can manage channels.")
    unknown = set(changes) - set(CHANNEL_FIELDS)
    if unknown:
        raise ValueError(f"Unknown channel fields: {sorted(unknown)}")
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel.pk)
        before = snapshot(channel, CHANNEL_FIELDS)
        for field, value in changes.items():
            setattr(channel, field, value)
        channel.full_clean()
        channel.save()
        audit(actor=actor, action="channel.update", obj=channel, before=before, after=snapshot(channel, CHANNEL_FIELDS))
    return channel
