"""Every write to programs and campaigns (with their tactics, spend and results): validate
(including closed periods and FX), lock, write, audit, and announce changed facts after commit
(``hooks.facts_changed``). A campaign's files are ``campaigns.attachments.services``; keyed and
bulk fact writes ``campaigns.facts.services``."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from campaigns import hooks
from campaigns.models import (
    RESULT_MEASURES,
    Campaign,
    CampaignStatus,
    FactSource,
    Program,
    ResultFact,
    SpendEntry,
    Tactic,
)
from campaigns.permissions import (
    can_create_campaign_for,
    can_edit_campaign,
    can_edit_program,
    can_give_program_to,
    can_manage_programs,
)
from campaigns.subjects import CAMPAIGN_LAUNCH
from mops.errors import Conflict
from mops.money import check_money_bound
from mops.selectors import FxRateMissing, to_base_currency
from mops.services import audit, snapshot
from planning.selectors import assert_open
from workflows.selectors import active_template_for
from workflows.services import instance_start

CAMPAIGN_FIELDS = [
    "name",
    "code",
    "program",
    "team",
    "owner",
    "channel",
    "region",
    "segment",
    "objective",
    "start_date",
    "end_date",
    "description",
    "planned_cost",
    "currency",
    "expected_leads",
    "expected_mqls",
    "expected_pipeline",
    "expected_revenue",
    "landing_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
]
# The plan's amounts, each within the money bound (planned_cost also once converted).
_CAMPAIGN_AMOUNTS = ["planned_cost", "expected_pipeline", "expected_revenue"]
SPEND_FIELDS = [
    "campaign",
    "tactic",
    "date",
    "amount",
    "currency",
    "amount_base",
    "vendor",
    "reference",
    "source",
    "note",
]


def require_edit(actor, campaign):
    if not can_edit_campaign(actor, campaign):
        raise PermissionDenied("Only marketers of the campaign's team can change it, its spend or its results.")


def _base(amount: Decimal, currency: str, on: datetime.date, field: str) -> Decimal:
    try:
        return to_base_currency(amount, currency, on)
    except FxRateMissing as exc:
        raise ValidationError({field: [str(exc)]}) from None


def check_amounts(**amounts) -> None:
    """Every amount given (field=value; None skipped) within the money bound — NaN, Infinity and
    1e308 included — or one ValidationError naming the limit on each field past it. Checked before
    any arithmetic on the amounts (a conversion of 1e308 would fail with a 500)."""
    errors: dict[str, list[str]] = {}
    for field, value in amounts.items():
        if value is None:
            continue
        try:
            check_money_bound(value, what=field.replace("_", " ").capitalize(), field=field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def bounded_base(amount: Decimal, currency: str, on: datetime.date, *, field: str, rate_field: str) -> Decimal:
    """``amount`` in base currency at ``on``'s rate, both the amount and its conversion within the money
    bound: a foreign amount within it can exceed it in base currency. Errors on ``field``; a missing
    exchange rate on ``rate_field``."""
    check_amounts(**{field: amount})
    base = _base(amount, currency, on, rate_field)
    if currency != settings.BASE_CURRENCY:
        what = f"{field.replace('_', ' ').capitalize()} in {settings.BASE_CURRENCY} at the rate of {on:%d %b %Y}"
        check_money_bound(base, what=what, field=field)
    return base


# --- programs (the initiatives campaigns roll up to) -------------------------------------
# Marketers and ops admins manage programs (``can_manage_programs``); a marketer keeps the
# programs of their own teams.

PROGRAM_FIELDS = ["name", "code", "team", "objective", "owner", "description", "is_active"]


def _require_manager(actor):
    if not can_manage_programs(actor):
        raise PermissionDenied("Only marketers and ops admins can create or change programs.")


def _require_team(actor, team):
    if not can_give_program_to(actor, team):
        raise PermissionDenied("Marketers keep programs of their own teams only.")


def program_create(*, actor, name: str, code: str = "", **fields) -> Program:
    """Create a program; the code defaults to the slugified name (and must be unique)."""
    _require_manager(actor)
    unknown = set(fields) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValueError(f"Unknown program fields: {sorted(unknown)}")
    _require_team(actor, fields.get("team"))
    program = Program(name=name.strip(), code=code or slugify(name)[:40], **fields)
    program.full_clean()
    with transaction.atomic():
        program.save()
        audit(actor=actor, action="program.create", obj=program, after=snapshot(program, PROGRAM_FIELDS))
    return program


def program_update(*, actor, program: Program, **changes) -> Program:
    _require_manager(actor)
    if not can_edit_program(actor, program):
        raise PermissionDenied("Only the team's marketers and ops admins can change a team's program.")
    if "team" in changes:
        _require_team(actor, changes["team"])
    unknown = set(changes) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValueError(f"Unknown program fields: {sorted(unknown)}")
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=program.pk)
        before = snapshot(program, PROGRAM_FIELDS)
        for field, value in changes.items():
            setattr(program, field, value)
        program.full_clean()
        program.save()
        audit(actor=actor, action="program.update", obj=program, before=before, after=snapshot(program, PROGRAM_FIELDS))
    return program


# --- campaigns ------------------------------------------------------------------------------


def campaign_create(*, actor, team, **fields) -> Campaign:
    if not can_create_campaign_for(actor, team):
        raise PermissionDenied("You can create campaigns only for your own teams.")
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"Unknown campaign fields: {sorted(unknown)}")
    fields.setdefault("owner", actor)
    fields.setdefault("code", slugify(fields.get("name", ""))[:60])
    fields.setdefault("utm_campaign", fields["code"])
    campaign = Campaign(team=team, status=CampaignStatus.DRAFT, **fields)
    if not campaign.currency:
        campaign.currency = settings.BASE_CURRENCY
    check_amounts(**{field: getattr(campaign, field) for field in _CAMPAIGN_AMOUNTS})
    campaign.full_clean(exclude=["planned_cost_base"])
    campaign.planned_cost_base = bounded_base(
        campaign.planned_cost, campaign.currency, campaign.start_date, field="planned_cost", rate_field="planned_cost"
    )
    with transaction.atomic():
        campaign.save()
        audit(
            actor=actor, action="campaign.create", obj=campaign, after=snapshot(campaign, [*CAMPAIGN_FIELDS, "status"])
        )
    return campaign


def campaign_update(*, actor, campaign: Campaign, **changes) -> Campaign:
    require_edit(actor, campaign)
    unknown = set(changes) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValueError(f"Unknown campaign fields: {sorted(unknown)}")
    if "team" in changes and not can_create_campaign_for(actor, changes["team"]):
        raise PermissionDenied("You can move a campaign only to one of your own teams.")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        before = snapshot(campaign, [*CAMPAIGN_FIELDS, "status"])
        for field, value in changes.items():
            setattr(campaign, field, value)
        check_amounts(**{field: getattr(campaign, field) for field in _CAMPAIGN_AMOUNTS})
        campaign.full_clean(exclude=["planned_cost_base"])
        campaign.planned_cost_base = bounded_base(
            campaign.planned_cost,
            campaign.currency,
            campaign.start_date,
            field="planned_cost",
            rate_field="planned_cost",
        )
        campaign.save()
        audit(
            actor=actor,
            action="campaign.update",
            obj=campaign,
            before=before,
            after=snapshot(campaign, [*CAMPAIGN_FIELDS, "status"]),
        )
    return campaign


# Status moves a marketer makes by hand. The launch workflow moves planned → in launch review →
# live (or back to planned) through its callbacks; with no launch template, planned → live is direct.
MANUAL_TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.PLANNED, CampaignStatus.CANCELLED},
    CampaignStatus.PLANNED: {CampaignStatus.DRAFT, CampaignStatus.LIVE, CampaignStatus.CANCELLED},
    CampaignStatus.LIVE: {CampaignStatus.COMPLETED, CampaignStatus.CANCELLED},
    CampaignStatus.COMPLETED: {CampaignStatus.LIVE},
}


def campaign_set_status(*, actor, campaign: Campaign, status: str) -> Campaign:
    require_edit(actor, campaign)

    if status not in CampaignStatus.values:
        raise ValidationError({"status": [f"Unknown status {status!r}."]})
    allowed = MANUAL_TRANSITIONS.get(campaign.status, set())
    if status not in allowed:
        now, wanted = campaign.get_status_display().lower(), CampaignStatus(status).label.lower()
        raise ValidationError({"status": [f"A {now} campaign cannot become {wanted}."]})
    if (
        status == CampaignStatus.LIVE
        and campaign.status == CampaignStatus.PLANNED
        and active_template_for(CAMPAIGN_LAUNCH)
    ):
        raise ValidationError({"status": ["This campaign goes live through launch review: submit it for launch."]})
    with transaction.atomic():
        updated = Campaign.objects.filter(pk=campaign.pk, status=campaign.status).update(status=status)
        if not updated:
            raise Conflict("The campaign changed meanwhile; reload and try again.")
        audit(
            actor=actor,
            action="campaign.status",
            obj=campaign,
            before={"status": campaign.status},
            after={"status": status},
        )
        campaign.status = status
    return campaign


def campaign_submit_for_launch(*, actor, campaign: Campaign):
    """Start the launch workflow: the campaign is in launch review until it approves (→ live)."""

    require_edit(actor, campaign)
    if campaign.status != CampaignStatus.PLANNED:
        raise ValidationError({"status": ["Only a planned campaign can be submitted for launch."]})
    with transaction.atomic():
        updated = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PLANNED).update(
            status=CampaignStatus.IN_LAUNCH_REVIEW
        )
        if not updated:
            raise Conflict("The campaign changed meanwhile; reload and try again.")
        campaign.status = CampaignStatus.IN_LAUNCH_REVIEW
        audit(
            actor=actor,
            action="campaign.status",
            obj=campaign,
            before={"status": "planned"},
            after={"status": campaign.status},
        )
        instance = instance_start(actor=actor, subject=campaign, subject_type=CAMPAIGN_LAUNCH)
    return instance


def tactic_create(*, actor, campaign: Campaign, name: str, channel=None, planned_cost=Decimal(0)) -> Tactic:
    require_edit(actor, campaign)
    check_amounts(planned_cost=planned_cost)
    tactic = Tactic(campaign=campaign, name=name.strip(), channel=channel, planned_cost=planned_cost)
    tactic.full_clean()
    with transaction.atomic():
        tactic.save()
        audit(
            actor=actor, action="tactic.create", obj=tactic, after=snapshot(tactic, ["name", "channel", "planned_cost"])
        )
    return tactic


# --- spend ----------------------------------------------------------------------------------


def spend_log(
    *,
    actor,
    campaign: Campaign,
    date: datetime.date,
    amount: Decimal,
    currency: str,
    tactic: Tactic | None = None,
    vendor: str = "",
    reference: str = "",
    note: str = "",
    source: str = FactSource.MANUAL,
) -> SpendEntry:
    """Record money spent. Refused in a closed month, without an exchange rate for the date, or for
    an amount past the money bound as given or once converted to the base currency."""
    require_edit(actor, campaign)
    if tactic is not None and tactic.campaign_id != campaign.pk:
        raise ValidationError({"tactic": ["That tactic belongs to another campaign."]})
    assert_open(date)
    entry = SpendEntry(
        campaign=campaign,
        tactic=tactic,
        date=date,
        amount=amount,
        currency=currency,
        amount_base=bounded_base(amount, currency, date, field="amount", rate_field="currency"),
        vendor=vendor,
        reference=reference,
        note=note,
        source=source,
        created_by=actor,
    )
    entry.full_clean()
    with transaction.atomic():
        entry.save()
        audit(actor=actor, action="spend.create", obj=entry, after=snapshot(entry, SPEND_FIELDS))
        hooks.facts_changed_on_commit({campaign.pk}, date, date)
    return entry


def spend_update(*, actor, entry: SpendEntry, **changes) -> SpendEntry:
    require_edit(actor, entry.campaign)
    allowed = {"date", "amount", "currency", "tactic", "vendor", "reference", "note"}
    if set(changes) - allowed:
        raise ValueError(f"Unknown spend fields: {sorted(set(changes) - allowed)}")
    with transaction.atomic():
        entry = SpendEntry.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=entry.pk)
        assert_open(entry.date)  # the month it leaves
        before = snapshot(entry, SPEND_FIELDS)
        old_date = entry.date
        for field, value in changes.items():
            setattr(entry, field, value)
        assert_open(entry.date)  # the month it enters
        entry.amount_base = bounded_base(
            entry.amount, entry.currency, entry.date, field="amount", rate_field="currency"
        )
        entry.full_clean()
        entry.save()
        audit(actor=actor, action="spend.update", obj=entry, before=before, after=snapshot(entry, SPEND_FIELDS))
        hooks.facts_changed_on_commit({entry.campaign_id}, min(old_date, entry.date), max(old_date, entry.date))
    return entry


def spend_delete(*, actor, entry: SpendEntry) -> None:
    require_edit(actor, entry.campaign)
    with transaction.atomic():
        entry = SpendEntry.objects.select_for_update().get(pk=entry.pk)
        assert_open(entry.date)
        audit(actor=actor, action="spend.delete", obj=entry, before=snapshot(entry, SPEND_FIELDS))
        hooks.facts_changed_on_commit({entry.campaign_id}, entry.date, entry.date)
        entry.delete()


# --- results --------------------------------------------------------------------------------


# The result measures that are money (base currency); the others are counts.
RESULT_AMOUNTS = ("pipeline", "revenue")


@dataclass(frozen=True)
class Upserted:
    fact: ResultFact
    outcome: str  # "created", "updated" or "unchanged"


def results_log(
    *, actor, campaign: Campaign, date: datetime.date, source: str = FactSource.MANUAL, **measures
) -> Upserted:
    """Set a campaign's results for one day and source (creating or updating that one row).

    Measures not given keep their value; a row whose values do not change is left alone.
    """
    require_edit(actor, campaign)
    unknown = set(measures) - set(RESULT_MEASURES)
    if unknown:
        raise ValueError(f"Unknown result measures: {sorted(unknown)}")
    check_amounts(**{m: v for m, v in measures.items() if m in RESULT_AMOUNTS})
    errors = {m: ["Cannot be negative."] for m, v in measures.items() if v is not None and v < 0}
    if errors:
        raise ValidationError(errors)
    assert_open(date)
    with transaction.atomic():
        fact, created = ResultFact.objects.select_for_update().get_or_create(
            campaign=campaign, date=date, source=source, defaults={**measures, "updated_by": actor}
        )
        if created:
            audit(actor=actor, action="results.create", obj=fact, after={m: getattr(fact, m) for m in RESULT_MEASURES})
            outcome = "created"
        else:
            before = {m: getattr(fact, m) for m in RESULT_MEASURES}
            for measure, value in measures.items():
                setattr(fact, measure, value)
            after = {m: getattr(fact, m) for m in RESULT_MEASURES}
            if after == before:
                return Upserted(fact, "unchanged")
            fact.updated_by = actor
            fact.full_clean()
            fact.save()
            audit(actor=actor, action="results.update", obj=fact, before=before, after=after)
            outcome = "updated"
        hooks.facts_changed_on_commit({campaign.pk}, date, date)
    return Upserted(fact, outcome)
