"""No input stops the rollups (issue 19, section 5): the cells and rollups are wide enough for the
sum of every amount a legacy database may hold, and a refresh that fails for one campaign or budget
line sets that change aside (retried with backoff, shown on the ops dashboard and in /healthz) while
every other change keeps reaching the dashboards."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from campaigns.models import SpendEntry
from metrics.rollups import services
from metrics.rollups.marks import mark_campaigns
from metrics.rollups.models import Cell, CellSource, DirtyMark, Grain, Rollup
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


# --- one failing source never blocks the others ------------------------------------------------

CAP = Decimal("1000000")


@pytest.fixture
def cells_capped():
    """Cells in this test database cannot hold a spend of a million or more: a real constraint on the
    cell table (PostgreSQL: a CHECK; SQLite: a trigger that aborts), undone with the test's
    transaction. A campaign with such spend really cannot be refreshed — no code of ours is mocked."""
    table = Cell._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT test_cell_spend_cap CHECK (spend < {CAP})")
        else:
            cursor.execute(
                f"CREATE TRIGGER test_cell_spend_cap BEFORE INSERT ON {table} WHEN NEW.spend >= {CAP} "
                "BEGIN SELECT RAISE(ABORT, 'check constraint test_cell_spend_cap'); END"
            )
    yield
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_cell_spend_cap")


def spend(campaign, day, amount):
    """A spend entry, saved as any single-row write is (its receiver marks the campaign)."""
    return SpendEntry.objects.create(
        campaign=campaign, date=day, amount=Decimal(amount), currency="USD", amount_base=Decimal(amount)
    )


def test_a_campaign_that_cannot_be_refreshed_is_set_aside_and_every_other_change_flows(
    cells_capped, team, marketer, ops_admin, client
):
    # Given three campaigns, one of them with spend its cells cannot hold, all waiting together.
    good, bad, other = (
        CampaignFactory(team=team, owner=marketer, name=name, start_date=D(2026, 1, 1), end_date=D(2026, 1, 31))
        for name in ("Good", "Bad", "Other")
    )
    spend(good, D(2026, 1, 5), "100.00")
    spend(bad, D(2026, 1, 6), "2000000.00")
    spend(other, D(2026, 1, 7), "7.50")
    with time_machine.travel(datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC), tick=False):
        run = services.refresh_pending()

        # Then the good campaigns reach the rollups and only the bad one's changes are set aside.
        assert run.campaigns == 2 and run.set_aside == DirtyMark.objects.count() > 0
        assert year_spend(good) == Decimal("100.00") and year_spend(other) == Decimal("7.50")
        assert year_spend(bad) == 0 and org_spend() == Decimal("107.50")
        waiting = DirtyMark.objects.all()
        assert {(m.source, m.source_id) for m in waiting} == {(CellSource.CAMPAIGN, bad.pk)}
        first = waiting.first()
        assert first.attempts == 1 and "test_cell_spend_cap" in first.last_error
        assert first.next_attempt_at == datetime.datetime(2026, 12, 7, 9, 1, tzinfo=datetime.UTC)

        # /healthz says degraded and how many changes wait, still a 200; the ops dashboard lists it.
        health = client.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        changes = DirtyMark.objects.count()
        assert body["status"] == "degraded"
        assert body["rollups"].startswith(
            f"degraded: {changes} change{'s' if changes > 1 else ''} to 1 campaign set aside after failing"
        )
        client.force_login(ops_admin)
        page = client.get(reverse("metrics:ops")).content.decode()
        assert "Rollup refresh failures" in page and f"Campaign {bad.pk}" in page and "test_cell_spend_cap" in page

        # A change elsewhere before the retry is due flows, and the set-aside mark is not tried.
        spend(good, D(2026, 1, 8), "0.25")
        run = services.refresh_pending()
        assert run.campaigns == 1 and run.set_aside == 0
        assert year_spend(good) == Decimal("100.25")
        assert DirtyMark.objects.get(pk=first.pk).attempts == 1

    # Once due it is tried again, fails again, and waits twice as long.
    with time_machine.travel(datetime.datetime(2026, 12, 7, 9, 1, 30, tzinfo=datetime.UTC), tick=False):
        run = services.refresh_pending()
        assert run.campaigns == 0 and run.set_aside == changes
        again = DirtyMark.objects.get(pk=first.pk)
        assert again.attempts == 2
        assert again.next_attempt_at == datetime.datetime(2026, 12, 7, 9, 3, 30, tzinfo=datetime.UTC)

        # Fixed (the amount corrected): the new change is refreshed at once, with the waiting ones.
        entry = SpendEntry.objects.get(campaign=bad)
        entry.amount = entry.amount_base = Decimal("2000.00")
        entry.save()
        run = services.refresh_pending()
        assert run.set_aside == 0 and run.campaigns == 1
    assert not DirtyMark.objects.exists()
    assert year_spend(bad) == Decimal("2000.00") and org_spend() == Decimal("2107.75")
    assert client.get("/healthz").json()["rollups"] == "ok"
    # Nothing was counted twice: a full rebuild finds every incrementally kept row right.
    assert services.rebuild_all(compare=True).agreed is True


def test_a_set_aside_change_clears_on_its_retry_once_the_cause_is_gone(cells_capped, team):
    bad = CampaignFactory(team=team, start_date=D(2026, 1, 1), end_date=D(2026, 1, 31))
    SpendEntry.objects.bulk_create(  # a legacy bulk write, so no new change arrives when it is fixed
        [SpendEntry(campaign=bad, date=D(2026, 1, 2), amount=CAP, currency="USD", amount_base=CAP)]
    )
    mark_campaigns([bad.pk], D(2026, 1, 2), D(2026, 1, 2))
    with time_machine.travel(datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.UTC), tick=False):
        assert services.refresh_pending().set_aside == 2  # the campaign's creation and the spend
    SpendEntry.objects.filter(campaign=bad).update(amount=1, amount_base=1)  # fixed behind our back
    with time_machine.travel(datetime.datetime(2026, 12, 7, 9, 0, 59, tzinfo=datetime.UTC), tick=False):
        assert services.refresh_pending() is None  # not due yet
    with time_machine.travel(datetime.datetime(2026, 12, 7, 9, 1, tzinfo=datetime.UTC), tick=False):
        run = services.refresh_pending()
    assert run.marks == 2 and run.set_aside == 0 and not DirtyMark.objects.exists()
    assert year_spend(bad) == Decimal("1.00")
    assert services.rebuild_all(compare=True).agreed is True
