"""No input stops the rollups (issue 19, section 5): the cells and rollups are wide enough for the
sum of every amount a legacy database may hold, and a refresh that fails for one campaign or budget
line sets that change aside (retried with backoff, shown on the ops dashboard and in /healthz) while
every other change keeps reaching the dashboards."""

import datetime
from decimal import Decimal

import pytest

from campaigns.models import SpendEntry
from metrics import services
from metrics.marks import mark_campaigns
from metrics.models import Cell, CellSource, DirtyMark, Grain, Rollup
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
D = datetime.date
HUGE = Decimal("999999999999999.99")  # the widest a fact column (NUMERIC(18,2)) holds: a legacy row


def year_spend(campaign) -> Decimal:
    return sum(
        Cell.objects.filter(source=CellSource.CAMPAIGN, source_id=campaign.pk, grain=Grain.YEAR).values_list(
            "spend", flat=True
        ),
        Decimal(0),
    )


def org_spend(grain=Grain.YEAR) -> Decimal:
    return sum(Rollup.objects.filter(dimension="org", grain=grain).values_list("spend", flat=True), Decimal(0))


def test_twenty_legacy_rows_at_the_fact_columns_limit_refresh_without_overflow(team):
    """Twenty rows of 999,999,999,999,999.99 for one campaign, put in as a legacy database holds them
    (bulk, past today's bound): the refresh sums them (19,999,999,999,999,999.80, past NUMERIC(18,2))
    without ``numeric field overflow`` and nothing is set aside."""
    campaign = CampaignFactory(team=team, start_date=D(2026, 1, 1), end_date=D(2026, 1, 31))
    SpendEntry.objects.bulk_create(
        SpendEntry(campaign=campaign, date=D(2026, 1, day), amount=HUGE, currency="USD", amount_base=HUGE)
        for day in range(1, 21)
    )
    mark_campaigns([campaign.pk])

    run = services.refresh_pending()

    assert run is not None and run.campaigns == 1
    total = HUGE * 20
    assert total == Decimal("19999999999999999.80")
    assert year_spend(campaign) == total
    assert org_spend() == total
    assert not DirtyMark.objects.exists()
    assert services.rebuild_all(compare=True).agreed is True
