"""Writes to custom KPI definitions: create, change (a new version), deactivate and reactivate.

Every write validates the definition against the live catalogue (``kpis.check_definition``: syntax,
unknown names, loops, reserved codes), locks, writes and audits in one transaction. The catalogue is
one graph — a formula may name any other KPI — so writes to it take one catalogue-wide lock: two
admins saving at once cannot each pass the loop check and together make a loop, nor both take a
new code. Definition writes are rare; the lock costs nothing that matters.

Versions: a change never edits a row. It marks the current version not current and adds the next
one, so a chart or export that names "cpql v2" can still show what v2 was.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from metrics.kpis import catalogue as kpis
from metrics.kpis import selectors as kpi_selectors
from metrics.kpis.formulas import FormulaError, parse
from metrics.kpis.models import KpiDefinition, KpiDirection, KpiUnit
from metrics.kpis.permissions import can_manage_kpi_definitions
from mops.errors import Conflict
from mops.services import audit, snapshot

EDITABLE_FIELDS = ("name", "formula", "unit", "direction", "description")
AUDIT_FIELDS = ["code", "version", *EDITABLE_FIELDS, "is_current", "is_active"]
_CATALOGUE_LOCK = 0x6B706964  # "kpid": an advisory lock id of its own, apart from the rollups' lock

_NAME_MAX = KpiDefinition._meta.get_field("name").max_length
_DESCRIPTION_MAX = KpiDefinition._meta.get_field("description").max_length


def _require_manager(actor) -> None:
    if not can_manage_kpi_definitions(actor):
        raise PermissionDenied("Only ops admins can define or change KPIs.")


def _lock_catalogue() -> None:
    """Serialise definition writes until the transaction ends (PostgreSQL; SQLite serialises
    writers by itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CATALOGUE_LOCK])


def check(
    *,
    code: str,
    name: str,
    formula: str,
    unit: str,
    direction: str,
    description: str = "",
    version: int = 1,
    catalogue: dict[str, kpis.Kpi] | None = None,
) -> kpis.Kpi:
    """Validate a proposed definition without writing anything; return the catalogue entry it would be.

    Raises ValidationError keyed by field, each message in plain words (the formula's message is the
    FormulaError's). ``catalogue`` defaults to the live one; ``code`` may be an existing custom KPI's
    (a new version is checked against the others, and for loops through them).
    """
    errors: dict[str, list[str]] = {}
    name, formula, description = (name or "").strip(), (formula or "").strip(), (description or "").strip()
    if not name:
        errors["name"] = ["Give the KPI a name."]
    elif len(name) > _NAME_MAX:
        errors["name"] = [f"The name is {len(name)} characters long; the limit is {_NAME_MAX}."]
    if len(description) > _DESCRIPTION_MAX:
        errors["description"] = [
            f"The description is {len(description)} characters long; the limit is {_DESCRIPTION_MAX}."
        ]
    if unit not in KpiUnit.values:
        errors["unit"] = [f"Choose a unit: {', '.join(KpiUnit.values)}."]
    if direction not in KpiDirection.values:
        errors["direction"] = ["Choose whether higher or lower is better."]
    if not kpis.CODE.fullmatch(code or ""):
        errors["code"] = [
            f"The code {code!r} is not valid: use 2 to 40 lowercase letters, digits and _, starting with a letter."
        ]
    elif code in kpis.RESERVED_CODES:
        errors["code"] = [f"The code {code} is taken by a built-in KPI, measure or function; choose another."]
    try:
        if "code" in errors:
            parse(formula)  # still say what is wrong with the formula, if anything
        else:
            kpis.check_definition(code, formula, kpi_selectors.kpi_catalogue() if catalogue is None else catalogue)
    except FormulaError as error:
        errors["formula"] = [str(error)]
    if errors:
        raise ValidationError(errors)
    return kpis.Kpi(
        code=code,
        name=name,
        formula=formula,
        unit=unit,
        direction=direction,
        description=description or f"{name} = {formula}",
        version=version,
    )


def check_new(*, code: str, **fields) -> kpis.Kpi:
    """``check`` for a KPI about to be defined: its code must not be in use by any KPI, active or
    not — a deactivated KPI is reactivated, not redefined, so old charts keep meaning what they meant."""
    code = (code or "").strip()
    errors: dict[str, list[str]] = {}
    if KpiDefinition.objects.filter(code=code).exists():
        errors["code"] = [f"A custom KPI with the code {code} exists already (perhaps deactivated); change it instead."]
    try:
        kpi = check(code=code, **fields)
    except ValidationError as error:
        errors = {**error.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    return kpi


def kpi_definition_create(
    *,
    actor,
    code: str,
    name: str,
    formula: str,
    unit: str = KpiUnit.NUMBER,
    direction: str = KpiDirection.HIGHER,
    description: str = "",
) -> KpiDefinition:
    """Define a new custom KPI (version 1); ``check_new`` says what may be defined."""
    _require_manager(actor)
    code = (code or "").strip()
    with transaction.atomic():
        _lock_catalogue()
        kpi = check_new(code=code, name=name, formula=formula, unit=unit, direction=direction, description=description)
        try:
            with transaction.atomic():
                definition = KpiDefinition.objects.create(
                    code=code,
                    version=1,
                    name=kpi.name,
                    formula=kpi.formula,
                    unit=unit,
                    direction=direction,
                    description=(description or "").strip(),
                    created_by=actor,
                )
        except IntegrityError:  # only without the advisory lock (SQLite): a concurrent create won
            raise Conflict(f"Someone defined the KPI {code} a moment ago.") from None
        audit(actor=actor, action="kpidefinition.create", obj=definition, after=snapshot(definition, AUDIT_FIELDS))
    return definition


def kpi_definition_update(*, actor, definition: KpiDefinition, **changes) -> KpiDefinition:
    """Change a custom KPI: save the next version as current; the old one stays, not current.

    ``changes`` are any of name, formula, unit, direction and description. A change that changes
    nothing returns the current version and writes nothing. Conflict when ``definition`` is no
    longer the current version (someone saved one since) or the KPI is deactivated.
    """
    _require_manager(actor)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown KPI definition fields: {sorted(unknown)}")
    with transaction.atomic():
        _lock_catalogue()
        current = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
        if not current.is_current:
            latest = KpiDefinition.objects.filter(code=current.code, is_current=True).values_list("version", flat=True)
            raise Conflict(
                f"Version {current.version} of {current.code} is no longer current (version "
                f"{latest.first()} was saved since); reload and make your change again."
            )
        if not current.is_active:
            raise Conflict(f"{current.code} is deactivated; reactivate it before changing it.")
        values = {name: getattr(current, name) for name in EDITABLE_FIELDS}
        values.update({name: (value or "").strip() for name, value in changes.items()})
        if all(values[name] == getattr(current, name) for name in EDITABLE_FIELDS):
            return current
        kpi = check(code=current.code, version=current.version + 1, **values)
        before = snapshot(current, AUDIT_FIELDS)
        KpiDefinition.objects.filter(pk=current.pk).update(is_current=False)
        new = KpiDefinition.objects.create(
            code=current.code,
            version=current.version + 1,
            name=kpi.name,
            formula=kpi.formula,
            unit=values["unit"],
            direction=values["direction"],
            description=values["description"],
            created_by=actor,
        )
        audit(actor=actor, action="kpidefinition.update", obj=new, before=before, after=snapshot(new, AUDIT_FIELDS))
    return new


def kpi_definition_deactivate(*, actor, definition: KpiDefinition) -> KpiDefinition:
    """Take a custom KPI out of the catalogue (dashboards, API, new formulas); its versions stay.
    Conflict when it is already inactive or another active KPI's formula uses it."""
    _require_manager(actor)
    with transaction.atomic():
        _lock_catalogue()
        current = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
        if not current.is_current or not current.is_active:
            raise Conflict(f"{current.code} v{current.version} is not the active current version; reload the page.")
        users = kpi_selectors.used_by(current.code, kpi_selectors.kpi_catalogue())
        if users:
            raise Conflict(
                f"{current.code} is used in the formula of {', '.join(users)}; change or deactivate "
                f"{'that KPI' if len(users) == 1 else 'those KPIs'} first."
            )
        before = snapshot(current, AUDIT_FIELDS)
        current.is_active = False
        current.save(update_fields=["is_active"])
        audit(
            actor=actor,
            action="kpidefinition.deactivate",
            obj=current,
            before=before,
            after=snapshot(current, AUDIT_FIELDS),
        )
    return current


def kpi_definition_reactivate(*, actor, definition: KpiDefinition) -> KpiDefinition:
    """Put a deactivated custom KPI back, if its formula still checks against today's catalogue
    (a KPI it names may have been deactivated meanwhile: the formula error says which)."""
    _require_manager(actor)
    with transaction.atomic():
        _lock_catalogue()
        current = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
        if not current.is_current or current.is_active:
            raise Conflict(f"{current.code} v{current.version} is not a deactivated current version; reload the page.")
        check(
            code=current.code,
            name=current.name,
            formula=current.formula,
            unit=current.unit,
            direction=current.direction,
            description=current.description,
            version=current.version,
        )
        before = snapshot(current, AUDIT_FIELDS)
        current.is_active = True
        current.save(update_fields=["is_active"])
        audit(
            actor=actor,
            action="kpidefinition.reactivate",
            obj=current,
            before=before,
            after=snapshot(current, AUDIT_FIELDS),
        )
    return current
