"""Reads of campaign data shared by pages, the API and dashboards."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek

from campaigns.facts.selectors import sum_per, with_totals
from campaigns.models import Campaign, CampaignAttachment, FactSource, ResultFact, SpendEntry, Tactic
from campaigns.permissions import campaigns_visible_to, team_ids_of
from mops.models import AuditEvent
from mops.money import MoneyField
from mops.permissions import is_marketer, teams_visible_to

ZERO = Decimal("0.00")
_MONEY = MoneyField()


# --- the campaign list ------------------------------------------------------------------------


SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "start": ("start_date", "name", "pk"),
    "-start": ("-start_date", "name", "pk"),
    "planned": ("planned_cost_base", "name", "pk"),
    "-planned": ("-planned_cost_base", "name", "pk"),
    "spend": ("spend_base", "name", "pk"),
    "-spend": ("-spend_base", "name", "pk"),
}
DEFAULT_SORT = "-start"


def campaign_list(
    *,
    user,
    team=None,
    program=None,
    channel=None,
    status: str = "",
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    owner=None,
    search: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[Campaign]:
    """The campaigns ``user`` may see, filtered and sorted; a page of it gets its actuals from
    ``with_page_totals`` (or all rows have them already when sorted by spend).

    ``start``/``end`` keep campaigns whose dates overlap the range (either end may be open).
    """
    qs = campaigns_visible_to(user)
    if team is not None:
        qs = qs.filter(team=team)
    if program is not None:
        qs = qs.filter(program=program)
    if channel is not None:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    if start is not None:
        qs = qs.filter(end_date__gte=start)
    if end is not None:
        qs = qs.filter(start_date__lte=end)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(code__icontains=search))
    qs = qs.select_related("team", "channel", "program", "owner")
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    if any(key.lstrip("-") == "spend_base" for key in order):
        qs = with_totals(qs)  # sorting by spend needs every row's total
    return qs.order_by(*order)


def with_page_totals(page_campaigns) -> list[Campaign]:
    """The campaigns of one page with their actuals — one query for the page, however deep it is.

    Annotating the whole list instead would make the database compute the totals of every row an
    OFFSET skips (seconds on page 200 of 10,000 campaigns).
    """
    campaigns = list(page_campaigns)
    if campaigns and not hasattr(campaigns[0], "spend_base"):
        totals = {c.pk: c for c in with_totals(Campaign.objects.filter(pk__in=[c.pk for c in campaigns])).only("pk")}
        for campaign in campaigns:
            for measure in ("spend_base", "leads", "pipeline", "revenue"):
                setattr(campaign, measure, getattr(totals[campaign.pk], measure))
    return campaigns


@dataclass(frozen=True)
class Totals:
    count: int
    planned_cost: Decimal  # base currency
    spend: Decimal  # base currency
    leads: int
    mqls: int
    pipeline: Decimal
    revenue: Decimal


def fact_totals_from_facts(campaign_ids: QuerySet) -> dict:
    """Spend and results of the campaigns ``campaign_ids`` (a ``values("pk")`` queryset) selects, summed
    from every fact row: two aggregates, each table on its own so that no row is counted twice."""
    spend = SpendEntry.objects.filter(campaign__in=campaign_ids).aggregate(spend=Sum("amount_base"))
    results = ResultFact.objects.filter(campaign__in=campaign_ids).aggregate(
        leads=Sum("leads"), mqls=Sum("mqls"), pipeline=Sum("pipeline"), revenue=Sum("revenue")
    )
    return {
        "spend": spend["spend"] or ZERO,
        "leads": results["leads"] or 0,
        "mqls": results["mqls"] or 0,
        "pipeline": results["pipeline"] or ZERO,
        "revenue": results["revenue"] or ZERO,
    }


# Summing every fact of the set costs the database a scan of the fact tables per request (the first
# bottleneck under load at a million fact rows). metrics registers an exact source that reads its
# per-campaign rollup cells instead (``metrics.rollups.fact_totals``); campaigns never imports metrics.
_fact_totals_source = fact_totals_from_facts


def use_fact_totals_source(source) -> None:
    """Sum the facts of a campaign set with ``source(campaign_ids) -> dict`` (None: from the facts)."""
    global _fact_totals_source
    _fact_totals_source = source or fact_totals_from_facts


def campaign_totals(campaigns: QuerySet[Campaign]) -> Totals:
    """Totals of a (filtered) campaign set: the campaigns' count and planned cost in one query, their
    spend and results from the registered source (one query from the rollup cells)."""
    ids = campaigns.order_by().values("pk")
    plan = Campaign.objects.filter(pk__in=ids).aggregate(count=Count("pk"), planned=Sum("planned_cost_base"))
    facts = _fact_totals_source(ids)
    return Totals(count=plan["count"], planned_cost=plan["planned"] or ZERO, **facts)


def campaign_owners(*, user) -> QuerySet:
    """People who own a campaign ``user`` can see (the list's owner filter)."""
    owner_ids = campaigns_visible_to(user).values("owner_id")
    return get_user_model().objects.filter(pk__in=owner_ids).order_by("first_name", "last_name", "username")


def creatable_teams(*, user) -> QuerySet:
    """Teams ``user`` may create campaigns for (a marketer's own teams; nobody else's)."""
    if not user.is_authenticated or not is_marketer(user):
        return teams_visible_to(user).none()
    return teams_visible_to(user).filter(memberships__user=user, is_active=True).order_by("name")


# --- one campaign -----------------------------------------------------------------------------


def campaign_detail_queryset(*, user) -> QuerySet[Campaign]:
    return campaigns_visible_to(user).select_related(
        "team", "owner", "channel", "program", "region", "segment", "objective"
    )


@dataclass(frozen=True)
class Actuals:
    """What a campaign has spent and returned so far, next to what it planned and expected."""

    spend: Decimal = ZERO
    impressions: int = 0
    clicks: int = 0
    leads: int = 0
    mqls: int = 0
    sqls: int = 0
    opportunities: int = 0
    pipeline: Decimal = ZERO
    new_customers: int = 0
    revenue: Decimal = ZERO
    spend_entries: int = 0
    result_days: int = 0


def campaign_actuals(campaign: Campaign) -> Actuals:
    spend = campaign.spend.aggregate(total=Sum("amount_base"), n=Count("pk"))
    measures = ["impressions", "clicks", "leads", "mqls", "sqls", "opportunities", "pipeline", "new_customers"]
    results = campaign.results.aggregate(
        **{m: Sum(m) for m in [*measures, "revenue"]}, days=Count("date", distinct=True)
    )
    return Actuals(
        spend=spend["total"] or ZERO,
        spend_entries=spend["n"],
        result_days=results.pop("days"),
        **{m: v if v is not None else (ZERO if m in ("pipeline", "revenue") else 0) for m, v in results.items()},
    )


@dataclass(frozen=True)
class WeekPoint:
    week: datetime.date  # the Monday that starts the week
    spend: Decimal
    leads: int


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def weekly_spend_and_leads(campaign: Campaign, *, until: datetime.date | None = None) -> list[WeekPoint]:
    """Spend (base currency) and leads per week over the campaign's dates — up to ``until`` (weeks
    not yet lived are not zeros), and any week outside them that has facts (late invoices) — with
    empty weeks as zeros."""
    spend = dict(
        campaign.spend.annotate(week=TruncWeek("date"))
        .order_by()
        .values("week")
        .annotate(total=Sum("amount_base"))
        .values_list("week", "total")
    )
    leads = dict(
        campaign.results.annotate(week=TruncWeek("date"))
        .order_by()
        .values("week")
        .annotate(total=Sum("leads"))
        .values_list("week", "total")
    )
    spend = {_as_date(week): total for week, total in spend.items()}
    leads = {_as_date(week): total for week, total in leads.items()}
    last_day = campaign.end_date if until is None else max(campaign.start_date, min(campaign.end_date, until))
    weeks = [monday_of(campaign.start_date), monday_of(last_day), *spend, *leads]
    first, last = min(weeks), max(weeks)
    points = []
    week = first
    while week <= last:
        points.append(WeekPoint(week, spend.get(week, ZERO), leads.get(week, 0)))
        week += datetime.timedelta(days=7)
    return points


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def tactics_of(campaign: Campaign) -> QuerySet[Tactic]:
    """The campaign's tactics with what was spent on each."""
    return campaign.tactics.select_related("channel").annotate(
        spend_base=sum_per(SpendEntry, "amount_base", _MONEY, key="tactic")
    )


def spend_of(campaign: Campaign) -> QuerySet[SpendEntry]:
    return campaign.spend.select_related("tactic", "created_by").order_by("-date", "-id")


def results_of(campaign: Campaign) -> QuerySet[ResultFact]:
    return campaign.results.select_related("updated_by").order_by("-date", "source")


def attachments_of(campaign: Campaign) -> QuerySet[CampaignAttachment]:
    """The campaign's files, newest first (served by ``attachment_campaign_idx``)."""
    return campaign.attachments.select_related("uploaded_by").order_by("-uploaded_at", "-id")


def manual_results_between(campaign: Campaign, start: datetime.date, end: datetime.date) -> dict:
    """{date: ResultFact} of the hand-entered results in [start, end] (the week form's initial values)."""
    facts = campaign.results.filter(source=FactSource.MANUAL, date__range=(start, end))
    return {fact.date: fact for fact in facts}


def audit_history(obj, *, limit: int = 20) -> list[AuditEvent]:
    """The object's audit events, newest first."""
    return list(
        AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


# --- the marketing calendar -------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarBar:
    campaign: Campaign
    offset: int  # days of the range before the bar
    span: int  # days the bar covers inside the range
    after: int  # days of the range after the bar
    starts_before: bool  # the campaign began before the range
    ends_after: bool  # … and goes on after it


@dataclass
class CalendarGroup:
    label: str
    bars: list[CalendarBar] = field(default_factory=list)


def calendar(*, user, start: datetime.date, end: datetime.date, group: str = "team") -> list[CalendarGroup]:
    """Visible campaigns overlapping [start, end] as bars clipped to the range, grouped by team
    or channel (groups by name, bars by start date)."""
    days = (end - start).days + 1
    campaigns = (
        campaigns_visible_to(user)
        .filter(start_date__lte=end, end_date__gte=start)
        .select_related("team", "channel")
        .order_by("start_date", "name", "pk")
    )
    groups: dict[str, CalendarGroup] = {}
    for campaign in campaigns:
        label = campaign.channel.name if group == "channel" else campaign.team.name
        first, last = max(campaign.start_date, start), min(campaign.end_date, end)
        offset, span = (first - start).days, (last - first).days + 1
        bar = CalendarBar(
            campaign=campaign,
            offset=offset,
            span=span,
            after=days - offset - span,
            starts_before=campaign.start_date < start,
            ends_after=campaign.end_date > end,
        )
        groups.setdefault(label, CalendarGroup(label)).bars.append(bar)
    return [groups[label] for label in sorted(groups, key=str.casefold)]


# --- campaigns a user may write (an import's mapping targets) -------------------------------


def editable_campaigns(*, user) -> QuerySet[Campaign]:
    """Campaigns ``user`` may write (their teams', as a marketer): the targets of an import mapping."""
    if not user.is_authenticated or not is_marketer(user):
        return Campaign.objects.none()
    return Campaign.objects.filter(team_id__in=team_ids_of(user)).select_related("team").order_by("name")
