"""The campaign list's totals from the rollup cells (``metrics.rollups.fact_totals``): exact whether a campaign's
cells are current (read from the cells) or not yet (a pending mark: read from its facts), in two
queries however many campaigns and facts there are."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from campaigns import selectors as campaign_selectors
from campaigns.models import Campaign, ResultFact, SpendEntry
from metrics.rollups import marks, services
from metrics.rollups.fact_totals import campaign_fact_totals
from metrics.rollups.models import Cell, CellSource, DirtyMark, Grain
from tests.factories import CampaignFactory, ChannelFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def campaigns(marketer, team, other_team):
    """Two campaigns with facts over a fiscal-year boundary (written without marks), rolled up."""
    channel = ChannelFactory(name="Search")
    a = CampaignFactory(team=team, owner=marketer, channel=channel, start_date=D(2025, 12, 1), end_date=D(2026, 2, 1))
    b = CampaignFactory(team=other_team, channel=channel, start_date=D(2026, 1, 1), end_date=D(2026, 3, 31))
    SpendEntry.objects.bulk_create(
        [
            SpendEntry(campaign=a, date=D(2025, 12, 31), amount=Decimal("100.10"), currency="USD",
                       amount_base=Decimal("100.10")),
            SpendEntry(campaign=a, date=D(2026, 1, 2), amount=Decimal("50"), currency="EUR",
                       amount_base=Decimal("55.00")),
            SpendEntry(campaign=b, date=D(2026, 3, 31), amount=Decimal("0.01"), currency="USD",
                       amount_base=Decimal("0.01")),
        ]
    )  # fmt: skip
    ResultFact.objects.bulk_create(
        [
            ResultFact(campaign=a, date=D(2025, 12, 30), leads=5, mqls=1, pipeline=Decimal("1200.50")),
            ResultFact(campaign=b, date=D(2026, 2, 14), leads=3, mqls=2, revenue=Decimal("999.99")),
        ]
    )
    services.rebuild_all()  # folds in the campaigns' own marks, then rebuilds
    return a, b


def from_facts(ids) -> dict:
    """An independent sum: plain Python over the fact rows."""
    spend = SpendEntry.objects.filter(campaign_id__in=ids)
    results = list(ResultFact.objects.filter(campaign_id__in=ids))
    return {
        "spend": sum((e.amount_base for e in spend), Decimal("0.00")),
        "leads": sum(r.leads for r in results),
        "mqls": sum(r.mqls for r in results),
        "pipeline": sum((r.pipeline for r in results), Decimal("0.00")),
        "revenue": sum((r.revenue for r in results), Decimal("0.00")),
    }


def totals_of(*campaigns) -> dict:
    return campaign_fact_totals(Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).values("pk"))


def test_metrics_gives_the_campaign_list_its_totals():
    assert campaign_selectors._fact_totals_source is campaign_fact_totals


def test_current_cells_give_the_facts_totals(campaigns):
    a, b = campaigns
    assert not DirtyMark.objects.exists()
    assert Cell.objects.filter(source=CellSource.CAMPAIGN, grain=Grain.YEAR).exists()
    assert totals_of(a, b) == from_facts([a.pk, b.pk])
    assert (
        totals_of(a)
        == from_facts([a.pk])
        == {
            "spend": Decimal("155.10"),
            "leads": 5,
            "mqls": 1,
            "pipeline": Decimal("1200.50"),
            "revenue": Decimal("0.00"),
        }
    )
    assert totals_of() == {"spend": 0, "leads": 0, "mqls": 0, "pipeline": 0, "revenue": 0}


def test_cells_are_read_while_current_and_the_facts_once_marked(campaigns):
    a, b = campaigns
    before = from_facts([a.pk, b.pk])
    with connection.cursor() as cursor:  # behind the rollups' back: no mark
        cursor.execute(f"UPDATE {ResultFact._meta.db_table} SET leads = leads + 100 WHERE campaign_id = %s", [a.pk])
    assert totals_of(a, b) == before  # from the cells, which have not seen it
    marks.mark_campaigns([a.pk])
    after = from_facts([a.pk, b.pk])
    assert after["leads"] == before["leads"] + 100
    assert totals_of(a, b) == after  # a from its facts, b from its cells


def test_a_change_through_the_services_shows_at_once(campaigns, marketer):
    from campaigns import services as campaign_services

    a, b = campaigns
    campaign_services.spend_log(actor=marketer, campaign=a, date=D(2026, 1, 20), amount=Decimal("9.99"), currency="USD")
    assert DirtyMark.objects.filter(source_id=a.pk).exists()  # the rollups have not caught up
    expected = from_facts([a.pk, b.pk])
    assert expected["spend"] == Decimal("165.10")
    assert totals_of(a, b) == expected
    services.refresh_pending()
    assert not DirtyMark.objects.exists()
    assert totals_of(a, b) == expected


def test_the_list_totals_take_two_queries(campaigns, marketer, django_assert_num_queries):
    a, b = campaigns
    marks.mark_campaigns([a.pk])  # one campaign from its facts, one from its cells: still one query for both
    with django_assert_num_queries(2):
        totals = campaign_selectors.campaign_totals(Campaign.objects.all())
    assert totals.count == 2
    assert totals.spend == from_facts([a.pk, b.pk])["spend"]
