"""Writes to planning data: validate, lock, write, audit — in one transaction."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from mops.errors import Conflict
from mops.money import check_money_bound
from mops.services import audit, snapshot
from planning.fiscal import fiscal_months, fiscal_year_bounds
from planning.kpis import MONEY_KPIS, Kpi
from planning.models import Channel, FiscalYear, KpiTarget, Objective, Period, Region, Segment
from planning.permissions import can_close_periods, can_manage_objectives, can_manage_taxonomy

CHANNEL_FIELDS = ["name", "slug", "group", "description", "is_active"]
REGION_FIELDS = ["name", "code", "is_active"]
SEGMENT_FIELDS = ["name", "code", "kind", "is_active"]
OBJECTIVE_FIELDS = ["fiscal_year", "name", "description", "owner", "is_active"]


def fiscal_year_ensure(*, year: int) -> FiscalYear:
    """Fiscal year ``year`` on the configured calendar with its twelve monthly periods (idempotent)."""
    start, end = fiscal_year_bounds(year)
    with transaction.atomic():
        fiscal_year, _ = FiscalYear.objects.get_or_create(year=year, defaults={"start_date": start, "end_date": end})
        months = fiscal_months(year)
        for first, following in zip(months, [*months[1:], end + datetime.timedelta(days=1)], strict=True):
            Period.objects.get_or_create(
                start_date=first,
                defaults={"fiscal_year": fiscal_year, "end_date": following - datetime.timedelta(days=1)},
            )
    return fiscal_year


# --- periods --------------------------------------------------------------------------------


def _set_period_closed(*, actor, period: Period, closed: bool) -> Period:
    if not can_close_periods(actor):
        raise PermissionDenied("Only finance can close or reopen periods.")
    with transaction.atomic():
        # Conditional update: closing an already closed month (two finance users at once) is a conflict.
        updated = Period.objects.filter(pk=period.pk, is_closed=not closed).update(
            is_closed=closed, closed_at=timezone.now() if closed else None, closed_by=actor if closed else None
        )
        if not updated:
            raise Conflict(f"{period} is already {'closed' if closed else 'open'}.")
        period.refresh_from_db()
        audit(
            actor=actor,
            action="period.close" if closed else "period.reopen",
            obj=period,
            before={"is_closed": not closed},
            after={"is_closed": closed},
        )
    return period


def period_close(*, actor, period: Period) -> Period:
    """Freeze a month: spend, results and allocations dated in it are refused from now on."""
    return _set_period_closed(actor=actor, period=period, closed=True)


def period_reopen(*, actor, period: Period) -> Period:
    return _set_period_closed(actor=actor, period=period, closed=False)


# --- taxonomy -------------------------------------------------------------------------------


def _require_taxonomy_admin(actor, what: str):
    if not can_manage_taxonomy(actor):
        raise PermissionDenied(f"Only ops admins can manage {what}.")


def _create(*, actor, model, fields: list[str], action: str, values: dict):
    obj = model(**{field: value for field, value in values.items() if field in fields})
    obj.full_clean()
    with transaction.atomic():
        obj.save()
        audit(actor=actor, action=action, obj=obj, after=snapshot(obj, fields))
    return obj


def _update(*, actor, obj, fields: list[str], action: str, changes: dict):
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValueError(f"Unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        obj = type(obj).objects.select_for_update().get(pk=obj.pk)
        before = snapshot(obj, fields)
        for field, value in changes.items():
            setattr(obj, field, value)
        obj.full_clean()
        obj.save()
        audit(actor=actor, action=action, obj=obj, before=before, after=snapshot(obj, fields))
    return obj


def channel_create(
    *, actor, name: str, group: str, slug: str = "", description: str = "", is_active: bool = True
) -> Channel:
    _require_taxonomy_admin(actor, "channels")
    values = {
        "name": name.strip(),
        "slug": slug or slugify(name)[:60],
        "group": group,
        "description": description,
        "is_active": is_active,
    }
    return _create(actor=actor, model=Channel, fields=CHANNEL_FIELDS, action="channel.create", values=values)


def channel_update(*, actor, channel: Channel, **changes) -> Channel:
    _require_taxonomy_admin(actor, "channels")
    return _update(actor=actor, obj=channel, fields=CHANNEL_FIELDS, action="channel.update", changes=changes)


def region_create(*, actor, name: str, code: str = "", is_active: bool = True) -> Region:
    _require_taxonomy_admin(actor, "regions")
    values = {"name": name.strip(), "code": code or slugify(name)[:30], "is_active": is_active}
    return _create(actor=actor, model=Region, fields=REGION_FIELDS, action="region.create", values=values)


def region_update(*, actor, region: Region, **changes) -> Region:
    _require_taxonomy_admin(actor, "regions")
    return _update(actor=actor, obj=region, fields=REGION_FIELDS, action="region.update", changes=changes)


def segment_create(*, actor, name: str, kind: str, code: str = "", is_active: bool = True) -> Segment:
    _require_taxonomy_admin(actor, "products and segments")
    values = {"name": name.strip(), "code": code or slugify(name)[:30], "kind": kind, "is_active": is_active}
    return _create(actor=actor, model=Segment, fields=SEGMENT_FIELDS, action="segment.create", values=values)


def segment_update(*, actor, segment: Segment, **changes) -> Segment:
    _require_taxonomy_admin(actor, "products and segments")
    return _update(actor=actor, obj=segment, fields=SEGMENT_FIELDS, action="segment.update", changes=changes)


# --- objectives and targets -----------------------------------------------------------------


def _require_objective_manager(actor):
    if not can_manage_objectives(actor):
        raise PermissionDenied("Only the CMO and ops admins can set objectives and targets.")


def objective_create(*, actor, fiscal_year: FiscalYear, name: str, description: str = "", owner=None) -> Objective:
    _require_objective_manager(actor)
    values = {"fiscal_year": fiscal_year, "name": name.strip(), "description": description, "owner": owner}
    return _create(actor=actor, model=Objective, fields=OBJECTIVE_FIELDS, action="objective.create", values=values)


def objective_update(*, actor, objective: Objective, **changes) -> Objective:
    _require_objective_manager(actor)
    return _update(actor=actor, obj=objective, fields=OBJECTIVE_FIELDS, action="objective.update", changes=changes)


def targets_set(*, actor, objective: Objective, kpi: str, values: dict[Period, Decimal | None]) -> list[KpiTarget]:
    """Set an objective's target for ``kpi`` in each period given; ``None`` removes that month's target.

    Periods must belong to the objective's fiscal year; a target on a money KPI (``MONEY_KPIS``) is
    within the money bound. One audit event records the whole change.
    """
    _require_objective_manager(actor)
    if kpi not in Kpi.values:
        raise ValidationError({"kpi": [f"Unknown KPI {kpi!r}."]})
    errors = []
    for period, value in values.items():
        if period.fiscal_year_id != objective.fiscal_year_id:
            errors.append(f"{period} is not in {objective.fiscal_year}.")
        if value is None:
            continue
        if kpi in MONEY_KPIS:
            try:
                check_money_bound(value, what=f"{period}: the target")
            except ValidationError as exc:
                errors.extend(exc.messages)
                continue
        elif not Decimal(value).is_finite():
            errors.append(f"{period}: the target must be a number.")
            continue
        if value < 0:
            errors.append(f"{period}: a target cannot be negative.")
    if errors:
        raise ValidationError({"values": errors})
    with transaction.atomic():
        existing = {
            t.period_id: t
            for t in KpiTarget.objects.select_for_update().filter(objective=objective, kpi=kpi, period__in=list(values))
        }
        before = {str(p): (str(existing[p.pk].target_value) if p.pk in existing else None) for p in values}
        kept = []
        for period, value in values.items():
            target = existing.get(period.pk)
            if value is None:
                if target is not None:
                    target.delete()
            elif target is None:
                kept.append(KpiTarget.objects.create(objective=objective, kpi=kpi, period=period, target_value=value))
            else:
                target.target_value = value
                target.save(update_fields=["target_value"])
                kept.append(target)
        after = {str(p): (None if v is None else str(v)) for p, v in values.items()}
        audit(
            actor=actor,
            action="kpitarget.set",
            obj=objective,
            before={"kpi": kpi, **before},
            after={"kpi": kpi, **after},
        )
    return kept
