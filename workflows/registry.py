"""The registry of workflow subjects. Business apps register what can go through a workflow and
what happens when it is approved, rejected or returned; the engine imports no business app.

An app registers in its ``AppConfig.ready()``::

    registry.register(SubjectType(
        key="budget_allocation", label="Budget allocation request", model="budgets.AllocationRequest",
        attributes=[Attribute("amount", "Amount (base currency)", "decimal", lambda r: r.amount_base)],
        team_of=lambda r: r.team, owner_of=lambda r: r.requested_by,
        on_approved=allocation_approved, on_rejected=allocation_rejected, on_returned=...,
    ))

Callbacks run inside the engine's transaction, so the subject's change and the workflow's
transition commit together. A callback receives the instance; ``instance.actor`` is the user whose
action fired it (the last approver, the requester who resubmitted or cancelled …), so the change the
callback makes records who made it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.apps import apps


@dataclass(frozen=True)
class Attribute:
    """A fact about a subject that step conditions and previews can test (e.g. amount, channel)."""

    name: str
    label: str
    kind: str  # "decimal" or "text"
    get: Callable = field(compare=False, repr=False)

    def parse(self, raw):
        """A typed value from user input (preview form, condition value)."""
        if raw is None or raw == "":
            return None
        if self.kind == "decimal":
            try:
                return Decimal(str(raw).replace(",", ""))
            except InvalidOperation:
                raise ValueError(f"{self.label} must be a number.") from None
        return str(raw).strip()


@dataclass(frozen=True)
class SubjectType:
    key: str
    label: str
    model: str | None = None  # "app_label.ModelName"; None while the app has not built it yet
    attributes: tuple[Attribute, ...] = ()
    team_of: Callable | None = None
    owner_of: Callable | None = None
    url_of: Callable | None = None
    on_approved: Callable | None = None
    on_rejected: Callable | None = None
    on_returned: Callable | None = None
    on_resubmitted: Callable | None = None
    on_cancelled: Callable | None = None

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def model_class(self):
        return apps.get_model(self.model) if self.model else None

    def snapshot(self, subject) -> dict:
        """The subject's attribute values as JSON-safe strings, stored on the instance at start."""
        values = {}
        for attribute in self.attributes:
            value = attribute.get(subject)
            values[attribute.name] = None if value is None else str(value)
        return values


_registry: dict[str, SubjectType] = {}


def register(subject_type: SubjectType) -> SubjectType:
    existing = _registry.get(subject_type.key)
    if existing is not None and existing != subject_type:
        raise ValueError(f"Workflow subject {subject_type.key!r} is already registered differently.")
    _registry[subject_type.key] = subject_type
    return subject_type


def get(key: str) -> SubjectType:
    try:
        return _registry[key]
    except KeyError:
        raise LookupError(f"No workflow subject type {key!r} is registered.") from None


def all_types() -> list[SubjectType]:
    return sorted(_registry.values(), key=lambda t: t.label)


def choices() -> list[tuple[str, str]]:
    return [(t.key, t.label) for t in all_types()]


def fire(subject_type_key: str, event: str, instance, *, actor=None) -> None:
    """Call the subject type's callback for ``event`` ("approved", "rejected", …), if it has one,
    with ``instance.actor`` set to ``actor`` (the user whose action fired the event)."""
    callback = getattr(get(subject_type_key), f"on_{event}")
    if callback is not None:
        instance.actor = actor
        callback(instance)
