"""The campaigns demo data: idempotent, deterministic and shaped like a B2B marketing year."""

import collections
import datetime
import random
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from campaigns import demo
from campaigns.models import Campaign, CampaignStatus, Program, ResultFact, SpendEntry
from mops import demo as core_demo
from mops.models import AuditEvent
from mops.selectors import to_base_currency
from planning import demo as planning_demo

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def quiet(*args):
    pass


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Given today is TODAY and the core and planning demo data exist, the campaigns demo ran once.

    Seeding takes a few seconds, so the module's tests share one run, rolled back at the end; each
    test still runs in its own transaction (a savepoint inside this one)."""
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch, transaction.atomic():
        patch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
        core_demo.seed(log=quiet)
        planning_demo.seed(log=quiet)
        yield demo.seed(log=quiet)
        transaction.set_rollback(True)


def counts():
    return {model.__name__: model.objects.count() for model in (Program, Campaign, SpendEntry, ResultFact, AuditEvent)}


def test_seeding_twice_creates_and_changes_nothing(seeded):
    first = counts()
    totals = SpendEntry.objects.aggregate(Sum("amount_base")), ResultFact.objects.aggregate(Sum("leads"))
    assert seeded == first["Program"] + first["Campaign"] + first["SpendEntry"] + first["ResultFact"]
    assert (first["Program"], first["Campaign"]) == (8, 60)
    assert first["SpendEntry"] > 2000 and first["ResultFact"] > 4000

    assert demo.seed(log=quiet) == 0
    assert counts() == first
    assert (SpendEntry.objects.aggregate(Sum("amount_base")), ResultFact.objects.aggregate(Sum("leads"))) == totals


def test_the_same_day_gives_the_same_data(seeded):
    codes = list(Campaign.objects.order_by("code").values_list("code", "start_date", "planned_cost"))
    spend = SpendEntry.objects.aggregate(Sum("amount"))["amount__sum"]
    specs = demo._plan(random.Random(demo.SEED), TODAY)  # what a run on the same day would create
    assert sorted((s.code, s.start, s.planned_cost) for s in specs) == codes
    assert spend > 0


def test_statuses_agree_with_the_dates(seeded):
    for campaign in Campaign.objects.all():
        if campaign.status == CampaignStatus.COMPLETED:
            assert campaign.end_date < TODAY, campaign.code
        elif campaign.status == CampaignStatus.LIVE:
            assert campaign.start_date < TODAY <= campaign.end_date, campaign.code
        elif campaign.status in (CampaignStatus.PLANNED, CampaignStatus.DRAFT):
            assert campaign.start_date > TODAY, campaign.code
    by_status = dict(Campaign.objects.values_list("status").annotate(n=Count("id")))
    assert by_status[CampaignStatus.COMPLETED] >= 15 and by_status[CampaignStatus.LIVE] >= 10
    assert by_status[CampaignStatus.PLANNED] >= 3
    assert by_status[CampaignStatus.CANCELLED] == by_status[CampaignStatus.DRAFT] == 2


def test_every_campaign_that_ran_has_spend_and_nothing_planned_does(seeded):
    spent = set(SpendEntry.objects.values_list("campaign_id", flat=True))
    ran = Campaign.objects.filter(status__in=[CampaignStatus.LIVE, CampaignStatus.COMPLETED])
    assert set(ran.values_list("pk", flat=True)) <= spent
    assert not Campaign.objects.filter(pk__in=spent, status__in=[CampaignStatus.PLANNED, CampaignStatus.DRAFT])
    window = SpendEntry.objects.aggregate(first=Min("date"), last=Max("date"))
    assert window["first"] >= TODAY - datetime.timedelta(days=365) and window["last"] == TODAY - datetime.timedelta(1)


def test_spend_is_keyed_converted_and_mostly_usd(seeded):
    assert set(SpendEntry.objects.values_list("source", "external_key").distinct()) == {("generic", "demo")}
    by_currency = dict(SpendEntry.objects.values_list("currency").annotate(n=Count("id")))
    assert by_currency["USD"] > 0.7 * sum(by_currency.values())
    assert by_currency.get("EUR") and by_currency.get("GBP")
    assert set(Campaign.objects.exclude(currency="USD").values_list("team__slug", flat=True)) == {"emea-field"}
    for entry in SpendEntry.objects.exclude(currency="USD").order_by("date")[:20]:
        assert entry.amount_base == to_base_currency(entry.amount, entry.currency, entry.date)


def test_the_funnel_narrows_at_plausible_rates(seeded):
    totals = ResultFact.objects.aggregate(
        *(Sum(m) for m in ["leads", "mqls", "sqls", "opportunities", "new_customers", "pipeline", "revenue"])
    )
    leads, mqls, sqls, opps, won = (
        totals[f"{m}__sum"] for m in ["leads", "mqls", "sqls", "opportunities", "new_customers"]
    )
    assert leads >= mqls >= sqls >= opps >= won > 0
    assert 0.28 <= mqls / leads <= 0.42
    assert 0.23 <= sqls / mqls <= 0.37
    assert 0.35 <= opps / sqls <= 0.52
    assert 0.1 <= won / opps <= 0.32  # recent opportunities have not closed yet
    assert Decimal(5_000) < totals["pipeline__sum"] / opps < Decimal(80_000)
    spend = SpendEntry.objects.aggregate(Sum("amount_base"))["amount_base__sum"]
    assert Decimal(40) < spend / leads < Decimal(400)  # blended cost per lead


def test_weekdays_and_seasons_show(seeded):
    leads_by_weekday = collections.Counter()
    spend_by_month = collections.Counter()
    for day, leads in ResultFact.objects.values_list("date", "leads"):
        leads_by_weekday[day.weekday() < 5] += leads
    for day, amount in SpendEntry.objects.values_list("date", "amount_base"):
        spend_by_month[day.month] += amount
    assert leads_by_weekday[True] / 5 > 2 * leads_by_weekday[False] / 2  # B2B buyers work on weekdays
    assert spend_by_month[8] < spend_by_month[7] and spend_by_month[8] < spend_by_month[9]  # the August dip
    assert spend_by_month[10] == max(spend_by_month.values())  # the Q4 push


def test_some_campaigns_spend_over_plan(seeded):
    over = [
        c
        for c in Campaign.objects.filter(status=CampaignStatus.COMPLETED).annotate(spent=Sum("spend__amount_base"))
        if c.spent > c.planned_cost_base * Decimal("1.1")
    ]
    assert 1 <= len(over) <= 8
