"""The ops dashboard: planted data-quality warnings, workflow throughput and SLA breaches, and
freshness (imports and rollups)."""

import datetime

import pytest
from django.utils import timezone

from campaigns.models import FactSource, ImportBatch
from metrics.dashboards.ops import OpsBoard
from metrics.rollups import services
from metrics.rollups.selectors import Filters
from tests.factories import CampaignFactory
from tests.metrics.dashboards.roles.helpers import D, board, by_first_column, results, spend
from workflows.models import StepStatus, StepTask

pytestmark = pytest.mark.django_db


# --- ops --------------------------------------------------------------------------------------


@pytest.fixture
def planted(world, team, marketer):
    """Campaigns of February 2026 with one data problem each, and controls that look fine."""
    search = world["q1"].channel

    def campaign(code):
        return CampaignFactory(
            name=code,
            code=code,
            team=team,
            owner=marketer,
            channel=search,
            start_date=datetime.date(2025, 11, 1),
            end_date=datetime.date(2026, 6, 30),
        )

    silent = campaign("spends-no-results")
    spend(silent, datetime.date(2026, 2, 3), "700")
    organic = campaign("results-no-spend")
    results(organic, datetime.date(2026, 2, 4), leads=9)
    trailing = campaign("revenue-after-spend")  # revenue in February from January's spend: not a warning
    spend(trailing, datetime.date(2026, 1, 20), "300")
    results(trailing, datetime.date(2026, 1, 20), clicks=30)
    results(trailing, datetime.date(2026, 2, 10), revenue=D("900"))
    doubled = campaign("doubled")
    spend(doubled, datetime.date(2026, 2, 5), "450", source=FactSource.MANUAL)
    spend(doubled, datetime.date(2026, 2, 5), "450", source=FactSource.GOOGLE_ADS, key="g-1")
    spend(doubled, datetime.date(2026, 2, 6), "450", source=FactSource.GOOGLE_ADS, key="g-2")  # another day
    spend(doubled, datetime.date(2026, 2, 7), "80", source=FactSource.GOOGLE_ADS, key="a")  # same source, keyed
    spend(doubled, datetime.date(2026, 2, 7), "80", source=FactSource.GOOGLE_ADS, key="b")
    results(doubled, datetime.date(2026, 2, 5), clicks=5)
    typed_twice = campaign("typed-twice")
    spend(typed_twice, datetime.date(2026, 2, 9), "75.10")  # two invoices by hand, same day and amount
    spend(typed_twice, datetime.date(2026, 2, 9), "75.10")
    spend(typed_twice, datetime.date(2026, 2, 9), "75.10", currency="EUR", base="82.00")  # another currency
    results(typed_twice, datetime.date(2026, 2, 9), clicks=5)
    jumpy, steady = campaign("jumpy"), campaign("steady")
    monday = datetime.date(2025, 12, 29)
    for week in range(9):
        day = monday + datetime.timedelta(weeks=week)
        spend(jumpy, day, "1000" if week == 7 else "100")  # week of 16 Feb: 10× the weeks before
        spend(steady, day, "250" if week == 7 else "100")  # 2.5×: not a jump
        results(jumpy, day, clicks=1)
        results(steady, day, clicks=1)
    newcomer = campaign("newcomer")  # a big first week has no history to jump from
    spend(newcomer, datetime.date(2026, 2, 16), "5000")
    results(newcomer, datetime.date(2026, 2, 16), clicks=1)
    services.refresh_pending()
    return {"silent": silent, "organic": organic, "doubled": doubled, "jumpy": jumpy}


FEBRUARY = Filters(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))


def test_data_quality_warnings_find_the_planted_cases(planted, ops_admin):
    ops = board(OpsBoard, ops_admin, filters=FEBRUARY)
    silent = [r[0] for r in ops.quality_panel("spend-without-results").rows]
    assert silent == ["NA spring events", "spends-no-results"]  # spring events logged spend, no results
    organic = ops.quality_panel("results-without-spend").rows
    assert [r for r in organic if r[0] == "results-no-spend"] == [["results-no-spend", planted["organic"].pk, 0, 0, 9]]
    assert "doubled" not in [r[0] for r in organic] and "revenue-after-spend" not in [r[0] for r in organic]
    duplicates = ops.duplicates_panel().rows
    assert [(r[0], r[2], r[3], r[4], r[5], r[6], r[7]) for r in duplicates] == [
        ("typed-twice", datetime.date(2026, 2, 9), D("75.10"), "USD", 2, 1, D("150.20")),
        ("doubled", datetime.date(2026, 2, 5), D("450.00"), "USD", 2, 2, D("900.00")),
    ]
    jumps = ops.jumps_panel().rows
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in jumps] == [
        ("jumpy", datetime.date(2026, 2, 16), D("1000.00"), D("100.00"), D("10.0"))
    ]


def test_data_quality_follows_the_filters(planted, ops_admin, other_team):
    narrowed = Filters(start=FEBRUARY.start, end=FEBRUARY.end, team=(other_team.pk,))
    ops = board(OpsBoard, ops_admin, filters=narrowed)
    assert ops.duplicates_panel().rows == [] and ops.jumps_panel().rows == []
    assert [r[0] for r in ops.quality_panel("spend-without-results").rows] == []


def test_ops_workflows_throughput_and_sla_breaches(world, ops_admin, finance):
    pending = StepTask.objects.filter(status=StepStatus.ACTIVE, instance__template__name="Budget transfer").get()
    StepTask.objects.filter(pk=pending.pk).update(due_at=timezone.now() - datetime.timedelta(days=3))
    today = timezone.localdate()
    this_week = today - datetime.timedelta(days=today.weekday())
    # The period is last week and this one, whatever the date: the world's steps start today, the
    # transfer's step was due three days ago.
    filters = Filters(start=this_week - datetime.timedelta(days=7), end=this_week + datetime.timedelta(days=6))
    ops = board(OpsBoard, ops_admin, filters=filters, today=today)
    week = by_first_column([[r[1], *r[2:]] for r in ops.throughput_panel().rows])
    # Started: three allocation requests, a transfer, a launch checklist; completed: two approvals.
    assert week[this_week][1:] == [5, 2, 0]
    overdue = ops.overdue_panel().rows
    assert [(r[0], r[1], r[5]) for r in overdue] == [("Finance approval", "Budget transfer", 3)]
    sla = by_first_column(ops.sla_panel().rows)
    assert sla["Budget transfer"][2] == 1 and sla["Budget transfer"][4] == 1


def test_ops_freshness_shows_the_last_import_per_source_and_the_rollup_status(world, ops_admin, marketer):
    finished = timezone.make_aware(datetime.datetime(2026, 11, 2, 9, 30))
    for status, at in (("done", finished - datetime.timedelta(days=1)), ("done", finished), ("failed", None)):
        ImportBatch.objects.create(
            file="imports/x.csv",
            filename="x.csv",
            file_sha256="0" * 64,
            format=FactSource.GOOGLE_ADS,
            status=status,
            uploaded_by=marketer,
            finished_at=at,
        )
    ops = board(OpsBoard, ops_admin)
    imports = by_first_column(ops.imports_panel().rows)
    assert list(imports) == ["Google Ads"]
    assert imports["Google Ads"][1:4] == [timezone.localtime(finished).strftime("%Y-%m-%d %H:%M"), 2, 1]
    status = by_first_column(ops.rollups_panel().rows)
    assert status["Pending dirty marks"][1] == 0
    assert status["Last refresh"][1] is not None
    assert status["Rebuild agreed with incremental"][1] is None  # no nightly rebuild yet: no value
    services.rebuild_all()
    status = by_first_column(board(OpsBoard, ops_admin).rollups_panel().rows)
    assert status["Rebuild agreed with incremental"][1] == "yes"
