"""Writes of facts that ``campaigns.services`` does not cover: the keyed spend upsert (idempotent
re-posts from the API) and all-or-nothing batches of spend and result rows.

Every row still goes through the same rules as a single entry — the marketer must edit the
campaign, the month must be open, an exchange rate must exist — and every change is audited and
announced through ``hooks.facts_changed_on_commit``.
"""

import datetime
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from campaigns import hooks, services
from campaigns.models import Campaign, FactSource, SpendEntry, Tactic
from campaigns.permissions import can_edit_campaign
from mops.money import money
from mops.selectors import FxRateMissing, fx_rate_on
from mops.services import audit, snapshot
from planning.selectors import PeriodClosed, assert_open, closed_periods_between

# The amounts a fact row may carry (spend: amount; results: pipeline and revenue).
_AMOUNTS = ("amount", *services.RESULT_AMOUNTS)
# The values of a keyed spend row an upsert may change (the key itself never changes).
_SPEND_VALUES = ["amount", "currency", "amount_base", "tactic", "vendor", "reference", "note"]


@dataclass(frozen=True)
class SpendUpserted:
    entry: SpendEntry
    outcome: str  # "created", "updated" or "unchanged"


def spend_upsert(
    *,
    actor,
    campaign: Campaign,
    date: datetime.date,
    external_key: str,
    amount: Decimal,
    currency: str,
    tactic: Tactic | None = None,
    vendor: str = "",
    reference: str = "",
    note: str = "",
    source: str = FactSource.API,
) -> SpendUpserted:
    """Create or update the one spend row keyed (campaign, date, source, external_key).

    Posting the same row twice leaves one row (the second post is "unchanged"); a changed amount
    updates it in place. Refused like ``spend_log``: not the actor's campaign, a closed month, no
    exchange rate for the date, an amount past the money bound (as given or in base currency).
    """
    if not can_edit_campaign(actor, campaign):
        raise PermissionDenied("Only marketers of the campaign's team can change it, its spend or its results.")
    if not external_key:
        raise ValidationError({"external_key": ["An upsert needs an external key."]})
    if tactic is not None and tactic.campaign_id != campaign.pk:
        raise ValidationError({"tactic": ["That tactic belongs to another campaign."]})
    assert_open(date)
    amount_base = services.bounded_base(amount, currency, date, field="amount", rate_field="currency")
    keys = {"campaign": campaign, "date": date, "source": source, "external_key": external_key}
    values = {
        "amount": money(amount),  # as stored, so the audit and the "unchanged" test see the same value
        "currency": currency,
        "amount_base": amount_base,
        "tactic": tactic,
        "vendor": vendor,
        "reference": reference,
        "note": note,
    }
    # Field checks only: the unique key is the upsert's target, not an error.
    SpendEntry(**keys, **values, created_by=actor).full_clean(validate_unique=False, validate_constraints=False)
    if amount < 0:
        raise ValidationError({"amount": ["Cannot be negative."]})
    with transaction.atomic():
        existing = SpendEntry.objects.select_for_update().filter(**keys).first()
        before = snapshot(existing, services.SPEND_FIELDS) if existing else None
        if existing is not None and _same_values(existing, values):
            return SpendUpserted(existing, "unchanged")
        # A concurrent first post of the same key: update_or_create's get-or-create retries the
        # read after the unique constraint refuses the second insert, so one row remains.
        entry, created = SpendEntry.objects.update_or_create(
            **keys, defaults=values, create_defaults={**values, "created_by": actor}
        )
        audit(
            actor=actor,
            action="spend.create" if created else "spend.update",
            obj=entry,
            before=before,
            after=snapshot(entry, services.SPEND_FIELDS),
        )
        hooks.facts_changed_on_commit({campaign.pk}, date, date)
    return SpendUpserted(entry, "created" if created else "updated")


def _same_values(entry: SpendEntry, values: dict) -> bool:
    for field, value in values.items():
        current = entry.tactic_id if field == "tactic" else getattr(entry, field)
        wanted = value.pk if field == "tactic" and value is not None else value
        if current != wanted:
            return False
    return True


# --- batches --------------------------------------------------------------------------------


class BatchInvalid(Exception):
    """Some rows of a batch would be refused; nothing was written. ``errors``: {index: {field: [..]}}."""

    def __init__(self, errors: Mapping[int, dict]):
        self.errors = dict(sorted(errors.items()))
        super().__init__(f"{len(self.errors)} invalid row(s)")


def _error_dict(exc: Exception, *, permission_field: str = "campaign") -> dict[str, list[str]]:
    if isinstance(exc, PermissionDenied):
        return {permission_field: [str(exc) or "You may not change this campaign."]}
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


def fact_batch_errors(*, actor, rows: Mapping[int, Mapping]) -> dict[int, dict[str, list[str]]]:
    """What the services would refuse in a batch of fact rows, found before anything is written.

    ``rows`` maps each row's index to its values: ``campaign`` and ``date``, and for spend
    ``currency`` (and perhaps ``tactic``). Checked per row: the actor may edit the campaign, the
    date is in an open month, an exchange rate exists for the currency on the date, the tactic is
    the campaign's, its amounts (when given) are within the money bound (in base currency too: the
    spend services check that as they write). One query finds the closed months of the whole batch;
    permissions are looked up once per team and exchange rates (usually) once per currency.
    """
    errors: dict[int, dict[str, list[str]]] = {}
    if not rows:
        return errors
    dates = [row["date"] for row in rows.values()]
    closed = closed_periods_between(min(dates), max(dates))
    missing_rate = _missing_rates({(row["currency"], row["date"]) for row in rows.values() if row.get("currency")})
    may_edit: dict[int, bool] = {}
    for index, row in rows.items():
        campaign, day = row["campaign"], row["date"]
        problems: dict[str, list[str]] = {}
        if campaign.team_id not in may_edit:
            may_edit[campaign.team_id] = bool(can_edit_campaign(actor, campaign))
        if not may_edit[campaign.team_id]:
            problems["campaign"] = [f"You may not change the campaign “{campaign.code}” (not one of your teams)."]
        if any(period.start_date <= day <= period.end_date for period in closed):
            try:
                assert_open(day)  # the same message as a single entry gets
            except PeriodClosed as exc:
                problems.update(exc.message_dict)
        if (row.get("currency"), day) in missing_rate:
            problems["currency"] = [missing_rate[row["currency"], day]]
        tactic = row.get("tactic")
        if tactic is not None and tactic.campaign_id != campaign.pk:
            problems["tactic"] = ["That tactic belongs to another campaign."]
        try:
            services.check_amounts(**{field: row[field] for field in _AMOUNTS if field in row})
        except ValidationError as exc:
            problems.update(exc.message_dict)
        if problems:
            errors[index] = problems
    return errors


def _missing_rates(pairs: set[tuple[str, datetime.date]]) -> dict[tuple[str, datetime.date], str]:
    """(currency, date) pairs with no exchange rate → the message. A rate on or before a currency's
    earliest date covers all its later dates too, so the usual batch costs one lookup per currency."""
    missing = {}
    for currency in {currency for currency, _ in pairs}:
        days = sorted(day for code, day in pairs if code == currency)
        try:
            fx_rate_on(currency, days[0])
            continue
        except FxRateMissing:
            pass
        for day in days:
            try:
                fx_rate_on(currency, day)
                break  # and every later day has a rate too
            except FxRateMissing as exc:
                missing[currency, day] = str(exc)
    return missing


def _write_batch(*, actor, rows: Sequence[Mapping], write) -> Counter:
    errors = fact_batch_errors(actor=actor, rows=dict(enumerate(rows)))
    if errors:
        raise BatchInvalid(errors)
    outcomes: Counter = Counter()
    with transaction.atomic():
        for index, row in enumerate(rows):
            try:
                outcomes[write(dict(row))] += 1
            except (ValidationError, PermissionDenied) as exc:
                # Checked above, so only a race gets here (a month closed meanwhile): undo it all.
                raise BatchInvalid({index: _error_dict(exc)}) from exc
    return outcomes


def spend_batch_write(*, actor, rows: Sequence[Mapping]) -> Counter:
    """Write a batch of spend rows all or nothing, in one transaction; return outcome counts.

    A row with an ``external_key`` is upserted on (campaign, date, "api", key), so re-posting a
    batch changes nothing; a row without one is a new entry each time (``services.spend_log``).
    Raises ``BatchInvalid`` naming every refused row before anything is written.
    """

    def write(row) -> str:
        key = row.pop("external_key", None)
        if key:
            return spend_upsert(actor=actor, external_key=key, source=FactSource.API, **row).outcome
        services.spend_log(actor=actor, source=FactSource.API, **row)
        return "created"

    return _write_batch(actor=actor, rows=rows, write=write)


def results_batch_write(*, actor, rows: Sequence[Mapping]) -> Counter:
    """Upsert a batch of daily result rows (``services.results_log``) all or nothing; return outcome counts."""

    def write(row) -> str:
        return services.results_log(actor=actor, **row).outcome

    return _write_batch(actor=actor, rows=rows, write=write)
