"""Rollups: they match the facts to the cent (by every dimension and grain), the incremental path
always agrees with a full rebuild, every write path marks what it changed, and a refresh that dies
half-way leaves nothing half-applied."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import services as campaign_services
from campaigns.facts import services as fact_services
from campaigns.models import ResultFact, SpendEntry, Tactic
from metrics.rollups import calendar, engine, selectors, services
from metrics.rollups.models import Cell, CellSource, DirtyMark, Grain, RefreshKind, RefreshRun, Rollup
from tests.factories import CampaignFactory, ChannelFactory, FxRateFactory

pytestmark = pytest.mark.django_db
D = datetime.date
ALL = selectors.Scope(team_ids=None, budgets=True)


@pytest.fixture
def org(marketer, team, other_team):
    """Two teams, three channels (one only used by a tactic), campaigns over a month boundary."""
    FxRateFactory(currency_id="EUR", date=D(2025, 12, 1), rate=Decimal("1.10"))
    search, social, events = (ChannelFactory(name=n) for n in ("Search", "Social", "Events"))
    a = CampaignFactory(team=team, owner=marketer, channel=search, start_date=D(2026, 1, 20), end_date=D(2026, 2, 9))
    b = CampaignFactory(team=other_team, channel=social, start_date=D(2026, 1, 1), end_date=D(2026, 3, 31))
    tactic = Tactic.objects.create(campaign=a, name="Booth", channel=events)
    return {"a": a, "b": b, "tactic": tactic, "channels": (search, social, events)}


def add_facts(org):
    a, b, tactic = org["a"], org["b"], org["tactic"]
    rows = [
        SpendEntry(
            campaign=a, date=D(2026, 1, 30), amount=Decimal("100.10"), currency="USD", amount_base=Decimal("100.10")
        ),
        SpendEntry(campaign=a, date=D(2026, 2, 2), amount=Decimal("50"), currency="EUR", amount_base=Decimal("55.00")),
        SpendEntry(
            campaign=a,
            tactic=tactic,
            date=D(2026, 2, 2),
            amount=Decimal("7.33"),
            currency="USD",
            amount_base=Decimal("7.33"),
        ),
        SpendEntry(
            campaign=b, date=D(2026, 3, 31), amount=Decimal("0.01"), currency="USD", amount_base=Decimal("0.01")
        ),
    ]
    SpendEntry.objects.bulk_create(rows)
    ResultFact.objects.bulk_create(
        [
            ResultFact(
                campaign=a, date=D(2026, 1, 30), impressions=1000, clicks=50, leads=5, pipeline=Decimal("1200.50")
            ),
            ResultFact(campaign=b, date=D(2026, 2, 14), leads=3, mqls=2, new_customers=1, revenue=Decimal("999.99")),
        ]
    )


def facts_by(key_of) -> dict:
    """An independent sum of the facts (spend and a few results) per key — plain Python over rows."""
    sums = defaultdict(lambda: {"spend": Decimal("0.00"), "leads": 0, "revenue": Decimal("0.00")})
    for entry in SpendEntry.objects.select_related("campaign", "tactic"):
        channel = entry.tactic.channel_id if entry.tactic and entry.tactic.channel_id else entry.campaign.channel_id
        sums[key_of(entry.campaign, channel, entry.date)]["spend"] += entry.amount_base
    for fact in ResultFact.objects.select_related("campaign"):
        key = key_of(fact.campaign, fact.campaign.channel_id, fact.date)
        sums[key]["leads"] += fact.leads
        sums[key]["revenue"] += fact.revenue
    return dict(sums)


def rollup_by(filters, group_by, scope=ALL) -> dict:
    return {
        row.key: {m: row.measures[m] for m in ("spend", "leads", "revenue")}
        for row in selectors.measures_by(filters, group_by, scope=scope)
        if any(row.measures[m] for m in ("spend", "leads", "revenue"))
    }


YEAR = selectors.Filters(start=D(2026, 1, 1), end=D(2026, 12, 31))


def test_rollups_match_the_facts_by_every_dimension_and_grain(org):
    add_facts(org)
    services.rebuild_all(compare=False)
    assert rollup_by(YEAR, "channel") == facts_by(lambda c, channel, day: channel)
    assert rollup_by(YEAR, "team") == facts_by(lambda c, channel, day: c.team_id)
    assert rollup_by(YEAR, "campaign") == facts_by(lambda c, channel, day: c.pk)
    assert rollup_by(YEAR, "month") == facts_by(lambda c, channel, day: day.replace(day=1))
    assert rollup_by(YEAR, "week") == facts_by(lambda c, channel, day: day - datetime.timedelta(days=day.weekday()))
    assert rollup_by(YEAR, "day") == facts_by(lambda c, channel, day: day)
    # The tactic's spend counts on the tactic's channel, not the campaign's.
    events = org["channels"][2]
    assert rollup_by(YEAR, "channel")[events.pk]["spend"] == Decimal("7.33")


def test_filters_and_scope_read_the_cells_and_agree_with_the_facts(org, marketer):
    add_facts(org)
    services.rebuild_all(compare=False)
    search = org["channels"][0]
    january_to_february = selectors.Filters(start=D(2026, 1, 15), end=D(2026, 2, 2), channel=(search.pk,))
    expected = facts_by(lambda c, channel, day: (channel, D(2026, 1, 15) <= day <= D(2026, 2, 2)))
    assert rollup_by(january_to_february, "organisation") == {"": expected[(search.pk, True)]}
    # A marketer sees their team's campaigns only.
    mine = rollup_by(YEAR, "campaign", selectors.scope_of(marketer))
    assert set(mine) == {org["a"].pk}


def test_a_range_cutting_through_months_buckets_its_days(org):
    add_facts(org)
    services.rebuild_all(compare=False)
    cut = selectors.Filters(start=D(2026, 1, 31), end=D(2026, 2, 1))
    assert rollup_by(cut, "month") == {}  # no facts on those two days
    cut = selectors.Filters(start=D(2026, 1, 30), end=D(2026, 2, 2))
    assert rollup_by(cut, "month") == {
        D(2026, 1, 1): {"spend": Decimal("100.10"), "leads": 5, "revenue": Decimal("0.00")},
        D(2026, 2, 1): {"spend": Decimal("62.33"), "leads": 0, "revenue": Decimal("0.00")},
    }


def test_planned_cost_is_spread_over_the_campaigns_days_to_the_cent(org):
    services.rebuild_all(compare=False)
    a = org["a"]  # 10,000.00 over 21 days: 12 in January, 9 in February
    days = Cell.objects.filter(source=CellSource.CAMPAIGN, source_id=a.pk, grain=Grain.DAY)
    assert days.count() == 21
    assert sum(days.values_list("planned_cost", flat=True)) == Decimal("10000.00")
    assert set(days.values_list("planned_cost", flat=True)) <= {Decimal("476.19"), Decimal("476.20")}
    months = dict(
        Cell.objects.filter(source=CellSource.CAMPAIGN, source_id=a.pk, grain=Grain.MONTH).values_list(
            "period_start", "planned_cost"
        )
    )
    assert months == {D(2026, 1, 1): Decimal("5714.29"), D(2026, 2, 1): Decimal("4285.71")}


@override_settings(FISCAL_YEAR_START_MONTH=7)
def test_quarters_and_years_follow_the_fiscal_calendar():
    assert calendar.bucket_start(Grain.YEAR, D(2026, 3, 5)) == D(2025, 7, 1)
    assert calendar.bucket_start(Grain.QUARTER, D(2026, 3, 5)) == D(2026, 1, 1)
    assert calendar.bucket_start(Grain.QUARTER, D(2026, 8, 31)) == D(2026, 7, 1)
    assert calendar.bucket_end(Grain.QUARTER, D(2026, 8, 31)) == D(2026, 9, 30)
    assert calendar.bucket_label(Grain.QUARTER, D(2026, 1, 1)) == "Q3 FY2026"
    assert calendar.ensure_calendar(D(2026, 3, 5), D(2026, 3, 5)) == 365  # FY2026: Jul 2025 – Jun 2026
    assert calendar.ensure_calendar(D(2026, 1, 1), D(2026, 6, 30)) == 0


def test_incremental_refreshes_agree_with_a_full_rebuild_after_every_write_path(
    org, marketer, cmo, finance, django_capture_on_commit_callbacks
):
    add_facts(org)
    services.rebuild_all(compare=False)
    a = org["a"]
    with django_capture_on_commit_callbacks(execute=True):  # page and API paths (services)
        entry = campaign_services.spend_log(
            actor=marketer, campaign=a, date=D(2026, 1, 25), amount=Decimal("12.34"), currency="USD"
        )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.spend_update(actor=marketer, entry=entry, date=D(2026, 2, 5), amount=Decimal("20"))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.results_log(actor=marketer, campaign=a, date=D(2026, 2, 1), leads=4, revenue=Decimal("10"))
    with django_capture_on_commit_callbacks(execute=True):
        fact_services.spend_upsert(
            actor=marketer, campaign=a, date=D(2026, 2, 3), external_key="inv-1", amount=Decimal("5"), currency="USD"
        )
    with django_capture_on_commit_callbacks(execute=True):  # the campaign moves channel: all its dates
        campaign_services.campaign_update(actor=marketer, campaign=a, channel=org["channels"][1])
    with django_capture_on_commit_callbacks(execute=True):
        campaign_services.spend_delete(actor=marketer, entry=entry)
    tactic = org["tactic"]
    tactic.channel = None  # the tactic's spend goes back to the campaign's channel
    tactic.save()
    services.refresh_pending()
    assert not DirtyMark.objects.exists()
    run = services.rebuild_all(compare=True)
    assert run.agreed is True, f"{run.differences} rollup rows differ"


def test_a_write_that_skips_marking_is_caught_by_the_nightly_check(org):
    add_facts(org)
    services.rebuild_all(compare=False)
    services.refresh_pending()  # the marks of the fixture's campaigns
    SpendEntry.objects.filter(campaign=org["a"]).update(amount_base=Decimal("1.00"))  # no signal, no mark
    run = services.rebuild_all(compare=True)
    assert run.agreed is False and run.differences > 0
    assert services.rebuild_all(compare=True).agreed is True  # the rebuild repaired it


def test_a_refresh_that_dies_half_way_leaves_the_marks_and_counts_nothing_twice(org, monkeypatch):
    add_facts(org)
    services.rebuild_all(compare=False)
    SpendEntry.objects.create(
        campaign=org["b"], date=D(2026, 2, 14), amount=Decimal("3"), currency="USD", amount_base=Decimal("3.00")
    )  # post_save marks campaign b
    original = engine._apply_to_rollups
    calls = []

    def dies_on_the_second_step(cursor, where, params, sign):
        calls.append(sign)
        if len(calls) == 2:
            raise ConnectionError("worker killed")
        return original(cursor, where, params, sign)

    pending = DirtyMark.objects.count()
    monkeypatch.setattr(engine, "_apply_to_rollups", dies_on_the_second_step)
    with pytest.raises(ConnectionError):
        services.refresh_pending()
    assert DirtyMark.objects.count() == pending and pending > 0
    monkeypatch.setattr(engine, "_apply_to_rollups", original)
    services.refresh_pending()
    services.refresh_pending()  # nothing left: a no-op
    assert rollup_by(YEAR, "campaign")[org["b"].pk]["spend"] == Decimal("3.01")
    assert services.rebuild_all(compare=True).agreed is True


def test_budget_lines_roll_up_budget_allocated_and_committed(org, finance):
    from budgets import services as budget_services
    from planning.models import Period
    from planning.services import fiscal_year_ensure

    year = fiscal_year_ensure(year=2026)
    periods = {p.start_date.month: p for p in Period.objects.filter(fiscal_year=year)}
    budget = budget_services.budget_create(actor=finance, fiscal_year=year, name="FY2026", target=Decimal("1000"))
    line = budget_services.line_create(actor=finance, budget=budget, name="NA", code="na", team=org["a"].team)
    budget_services.phasing_set(
        actor=finance, line=line, amounts={periods[1]: Decimal("300"), periods[2]: Decimal("200")}
    )
    budget_services.commitment_create(
        actor=finance,
        line=line,
        vendor="Expo",
        reference="PO-1",
        amount=Decimal("80"),
        currency="USD",
        period=periods[2],
        campaign=org["a"],
    )
    services.refresh_pending()
    by_team = {row.key: row.measures for row in selectors.measures_by(YEAR, "team", scope=ALL)}
    team = by_team[org["a"].team_id]
    assert (team["budget"], team["committed"]) == (Decimal("500.00"), Decimal("80.00"))
    # An invoice quoting the PO shrinks what is committed — through the campaign's mark.
    SpendEntry.objects.create(
        campaign=org["a"],
        date=D(2026, 2, 3),
        amount=Decimal("30"),
        currency="USD",
        amount_base=Decimal("30.00"),
        reference="PO-1",
    )
    services.refresh_pending()
    by_month = {row.key: row.measures for row in selectors.measures_by(YEAR, "month", scope=ALL)}
    assert by_month[D(2026, 2, 1)]["committed"] == Decimal("50.00")
    assert by_month[D(2026, 1, 1)]["budget"] == Decimal("300.00")
    assert services.rebuild_all(compare=True).agreed is True


def test_a_refresh_costs_the_same_queries_for_one_campaign_or_thirty(org):
    from django.test.utils import CaptureQueriesContext

    add_facts(org)
    more = [CampaignFactory(team=org["a"].team, owner=org["a"].owner, channel=org["channels"][0]) for _ in range(29)]
    services.rebuild_all(compare=False)
    services.refresh_pending()
    counts = []
    for campaigns in ([org["a"]], [org["a"], *more]):
        for campaign in campaigns:
            DirtyMark.objects.create(
                source=CellSource.CAMPAIGN, source_id=campaign.pk, start=D(2026, 2, 1), end=D(2026, 2, 1)
            )
        with CaptureQueriesContext(connection) as queries:
            run = services.refresh_pending()
        assert run.campaigns == len(campaigns)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 20


def test_marks_survive_a_broker_that_is_down(org, django_capture_on_commit_callbacks, monkeypatch):
    import redis

    from metrics.rollups import marks
    from mops.celery import app

    monkeypatch.setattr(marks, "_redis", redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))
    app.conf.task_always_eager = False  # the autouse eager_celery fixture puts it back
    with django_capture_on_commit_callbacks(execute=True):
        SpendEntry.objects.create(
            campaign=org["a"], date=D(2026, 2, 1), amount=Decimal("9"), currency="USD", amount_base=Decimal("9.00")
        )  # the write succeeds although scheduling its refresh fails
    assert DirtyMark.objects.filter(source_id=org["a"].pk, start=D(2026, 2, 1)).exists()
    services.refresh_pending()  # the sweep, once the broker is back
    assert rollup_by(YEAR, "campaign")[org["a"].pk]["spend"] == Decimal("9.00")


def test_rebuild_command_reports_and_records_agreement(org, capsys):
    add_facts(org)
    call_command("rebuild_rollups")
    assert "incremental rows agreed" in capsys.readouterr().out
    run = RefreshRun.objects.get(kind=RefreshKind.FULL)
    assert run.agreed is True and run.cells_written > 0 and Rollup.objects.filter(dimension="org").exists()


# --- property: incremental equals full ------------------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["spend", "result", "move_spend", "delete_spend", "channel", "team", "planned"]),
        st.integers(0, 2),  # which campaign
        st.integers(0, 70),  # day offset from 2026-01-01
        st.integers(0, 50_000),  # cents or counts
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_incremental_equals_full_after_random_changes(org, ops):
    campaigns = [org["a"], org["b"], CampaignFactory(team=org["b"].team, channel=org["channels"][2])]
    services.rebuild_all(compare=False)
    for op, which, offset, amount in ops:
        campaign = campaigns[which]
        campaign.refresh_from_db()
        day = D(2026, 1, 1) + datetime.timedelta(days=offset)
        existing = SpendEntry.objects.filter(campaign=campaign).order_by("id").first()
        if op == "spend":
            SpendEntry.objects.create(
                campaign=campaign,
                date=day,
                amount=Decimal(amount) / 100,
                currency="USD",
                amount_base=Decimal(amount) / 100,
            )
        elif op == "result":
            ResultFact.objects.update_or_create(
                campaign=campaign,
                date=day,
                source="manual",
                defaults={"leads": amount % 97, "revenue": Decimal(amount)},
            )
        elif op == "move_spend" and existing:
            existing.date = day
            existing.save()  # marks the old day and the new one
        elif op == "delete_spend" and existing:
            existing.delete()
        elif op == "channel":
            campaign.channel = org["channels"][amount % 3]
            campaign.save()
        elif op == "team":
            campaign.team = [org["a"].team, org["b"].team][amount % 2]
            campaign.save()
        elif op == "planned":
            campaign.planned_cost_base = Decimal(amount) / 100
            campaign.save()
        if amount % 3 == 0:
            services.refresh_pending()  # refresh at random points, not only at the end
    services.refresh_pending()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM metrics_rollup")
        assert cursor.fetchone()[0] > 0
    assert services.rebuild_all(compare=True).agreed is True


def test_the_demo_seeds_rollups_that_a_rebuild_agrees_with(django_capture_on_commit_callbacks):
    """Every write the demo makes (bulk facts, approved allocations, a transfer, commitments and the
    invoice quoting one) reaches the rollups through its marks and hooks."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    services.refresh_pending()
    assert not DirtyMark.objects.exists()
    run = services.rebuild_all(compare=True)
    assert run.agreed is True, f"{run.differences} rollup rows differ"
    assert Rollup.objects.filter(dimension="team", grain=Grain.MONTH).exclude(budget=0).exists()
