"""The CMO dashboard: only the CMO sees it; its tiles, funnel, returns, objectives and campaigns equal
an independent computation from the facts to the cent, with and without filters; the forecast is
drawn dashed; every download holds the numbers the page shows; a bad filter says so; and the page
reads a fixed number of queries whatever the size of the data."""

import calendar
import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.db.models import Q, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Program, ResultFact, SpendEntry, Tactic
from metrics.dashboards.cmo import panels as cmo_panels
from metrics.dashboards.cmo.reads import Reads
from metrics.dashboards.cmo.values import Target, status
from metrics.dashboards.forecast import Forecast
from metrics.kpis import catalogue as kpis
from metrics.rollups import services
from metrics.rollups.models import CellSource, DirtyMark
from metrics.rollups.selectors import Filters, Scope
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import KpiTarget, Objective
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = timezone.localdate()
YEAR = fiscal_year_of(TODAY)
LAST = f"fy{YEAR - 1}"  # a whole fiscal year in the past: nothing in it moves while the tests run
LAST_START, LAST_END = fiscal_year_bounds(YEAR - 1)
MEASURES = ("leads", "mqls", "sqls", "opportunities", "pipeline", "new_customers", "revenue")
ALL = Scope(team_ids=None, budgets=True)


def months_back(count: int) -> list[datetime.date]:
    """The 10th of each of the ``count`` whole months before this one, oldest first."""
    first = TODAY.replace(day=1)
    days = []
    for _ in range(count):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        days.append(first.replace(day=10))
    return days[::-1]


def spend(campaign, day, amount, tactic=None):
    SpendEntry.objects.create(
        campaign=campaign, tactic=tactic, date=day, amount=D(amount), currency="USD", amount_base=D(amount)
    )


def results(campaign, day, **measures):
    ResultFact.objects.create(campaign=campaign, date=day, **measures)


@pytest.fixture
def world(team, other_team, marketer):
    """Two teams, three channels (events only through a tactic), a program serving an objective with
    monthly pipeline targets, and 30 months of facts up to last month."""
    search, social, events = (ChannelFactory(name=n) for n in ("Search", "Social", "Events"))
    last_year = fiscal_year_ensure(year=YEAR - 1)
    fiscal_year_ensure(year=YEAR)
    pipeline_goal = Objective.objects.create(fiscal_year=last_year, name="Grow pipeline")
    Objective.objects.create(fiscal_year=last_year, name="Be loved by analysts")  # no target
    KpiTarget.objects.bulk_create(
        KpiTarget(objective=pipeline_goal, kpi="pipeline", period=period, target_value=D("3000"))
        for period in last_year.periods.all()
    )
    program = Program.objects.create(name="Demand gen", code="demand-gen", team=team, objective=pipeline_goal)
    a = CampaignFactory(name="Search always on", team=team, owner=marketer, channel=search, program=program)
    b = CampaignFactory(name="Social burst", team=other_team, channel=social)
    c = CampaignFactory(name="Planned only", team=team, owner=marketer, channel=social)  # no spend
    booth = Tactic.objects.create(campaign=a, name="Booth", channel=events)
    for n, day in enumerate(months_back(30), start=1):
        spend(a, day, f"{100 + n}.10")
        spend(a, day + datetime.timedelta(days=1), "7.33", tactic=booth)
        spend(b, day, f"{50 * n}.05")
        results(a, day, leads=10 + n, mqls=5, sqls=3, opportunities=2, pipeline=D(f"{400 * n}.50"), new_customers=1)
        results(b, day, leads=4, mqls=2, sqls=1, revenue=D(f"{90 * n}.99"))
        results(a, day + datetime.timedelta(days=2), new_customers=n % 2, revenue=D(f"{120 * n}.25"))
    results(c, months_back(1)[0], leads=1)
    services.rebuild_all()
    return {"a": a, "b": b, "c": c, "search": search, "social": social, "events": events, "goal": pipeline_goal}


def from_facts(start, end, channel=None) -> dict:
    """The measures straight from the facts: spend on its tactic's channel when it has one."""
    entries = SpendEntry.objects.filter(date__range=(start, end))
    facts = ResultFact.objects.filter(date__range=(start, end))
    if channel is not None:
        entries = entries.filter(
            Q(tactic__channel=channel) | Q(tactic__channel__isnull=True, campaign__channel=channel)
        )
        facts = facts.filter(campaign__channel=channel)
    sums = facts.aggregate(**{m: Sum(m) for m in MEASURES})
    totals = {m: sums[m] or 0 for m in MEASURES}
    totals["spend"] = entries.aggregate(s=Sum("amount_base"))["s"] or D("0.00")
    return totals


def ratio(numerator, denominator):
    return None if not denominator else D(numerator) / D(denominator)


def get(client, user, **params):
    client.force_login(user)
    return client.get(reverse("metrics:cmo"), params)


def tiles_of(response) -> dict:
    return {tile.code: tile for tile in response.context["tiles"]}


def panel_of(response, panel_id):
    return response.context["panels"][panel_id]


# --- who may see it ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["marketer", "finance", "ops_admin"])
def test_the_cmo_dashboard_is_for_the_cmo_only(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("metrics:cmo")).status_code == 403
    assert client.get(reverse("metrics:cmo"), {"download": "trend", "format": "csv"}).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("metrics:cmo"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_cmo_sees_it_with_no_data_at_all(client, cmo):
    page = get(client, cmo).content.decode()
    assert "CMO dashboard" in page
    assert 'data-testid="tile-roi-value"' in page and "—" in page


# --- the numbers ------------------------------------------------------------------------------


def test_the_default_period_is_this_fiscal_year(world, client, cmo):
    response = get(client, cmo)
    start, end = fiscal_year_bounds(YEAR)
    assert (response.context["filter_form"].filters().start, response.context["filter_form"].filters().end) == (
        start,
        end,
    )
    assert response.context["filters_label"].startswith(f"FY{YEAR}: ")
    assert tiles_of(response)["spend"].value == from_facts(start, end)["spend"]


@pytest.mark.parametrize("channel", [None, "search", "social", "events"])
def test_tiles_equal_the_facts_to_the_cent_and_a_channel_narrows_them(world, client, cmo, channel):
    chosen = world[channel] if channel else None
    response = get(client, cmo, period=LAST, **({"channel": chosen.pk} if chosen else {}))
    tiles = tiles_of(response)
    now = from_facts(LAST_START, LAST_END, chosen)
    before = from_facts(*fiscal_year_bounds(YEAR - 2), chosen)
    assert tiles["spend"].value == now["spend"]
    assert tiles["pipeline"].value == now["pipeline"]
    assert tiles["revenue"].value == now["revenue"]
    assert tiles["roi"].value == ratio(now["revenue"] - now["spend"], now["spend"])
    assert tiles["cac"].value == ratio(now["spend"], now["new_customers"])
    assert tiles["spend"].comparison.previous == before["spend"]
    assert tiles["revenue"].comparison.previous == before["revenue"]
    page = response.content.decode()
    assert f'data-value="{now["spend"]}"' in page
    assert tiles["spend"].text == f"{now['spend']:,.2f} USD"  # money with the base currency code
    assert f"{now['spend']:,.2f}</span>" in page and '<span class="small fw-normal text-muted">USD</span>' in page
    if chosen is not None:
        assert f"Channel: {chosen.name}" in response.context["filters_label"]
        assert tiles["spend"].value < from_facts(LAST_START, LAST_END)["spend"]


def test_change_vs_the_previous_period_is_relative_and_roi_changes_in_points(world, client, cmo):
    tiles = tiles_of(get(client, cmo, period=LAST))
    spend, previous = tiles["spend"].value, tiles["spend"].comparison.previous
    expected = ((spend - previous) / previous * 100).quantize(D("0.1"))
    assert tiles["spend"].comparison.change == expected
    assert tiles["spend"].comparison.change_text == f"{expected:+,.1f} %"
    assert tiles["roi"].comparison.change_text.endswith(" pts")
    assert tiles["spend"].comparison.change_tone == "neutral"  # more spend is neither good nor bad in itself
    cac = tiles["cac"].comparison
    if cac.change:
        assert cac.change_tone == ("bad" if cac.change > 0 else "good")  # lower is better


def test_a_running_period_compares_like_for_like():
    """Year to date against last year to the same day, not against all of last year."""
    start, end = fiscal_year_bounds(2026)
    reads = Reads(Filters(start, end), scope=ALL, today=datetime.date(2026, 3, 15))
    assert (reads.comparison.start, reads.comparison.end) == (datetime.date(2025, 1, 1), datetime.date(2025, 3, 15))
    over = Reads(Filters(start, end), scope=ALL, today=datetime.date(2027, 3, 15))
    assert (over.comparison.start, over.comparison.end) == fiscal_year_bounds(2025)


def test_the_funnel_is_the_sums_and_their_stage_conversions(world, client, cmo):
    now = from_facts(LAST_START, LAST_END)
    rows = {row[0]: row for row in panel_of(get(client, cmo, period=LAST), "funnel").rows}
    assert rows["Leads"][1] == now["leads"] and rows["Won"][1] == now["new_customers"]
    assert rows["MQLs"][2] == (D(now["mqls"]) / now["leads"] * 100).quantize(D("0.01"))
    assert rows["Won"][2] == (D(now["new_customers"]) / now["opportunities"] * 100).quantize(D("0.01"))
    assert rows["Leads"][2] is None
    assert rows["SQLs"][3] == "MQL → SQL = SQLs ÷ MQLs"


def test_returns_by_channel_follow_the_tactics_channel_for_spend(world, client, cmo):
    response = get(client, cmo, period=LAST)
    rows = {row[0]: row for row in panel_of(response, "channels").rows}
    for name in ("Search", "Social", "Events"):
        now = from_facts(LAST_START, LAST_END, world[name.lower()])
        assert rows[name][1] == now["spend"] and rows[name][2] == now["revenue"], name
        roas = ratio(now["revenue"], now["spend"])
        assert rows[name][3] == kpis.quantize(kpis.catalogue()["roas"], roas)
    figure = panel_of(response, "channels").figure
    assert list(figure.data[0].y) == sorted(figure.data[0].y, key=lambda label: float(rows[label][3]))
    programs = {row[0]: row for row in panel_of(response, "programs").rows}
    program_spend = SpendEntry.objects.filter(date__range=(LAST_START, LAST_END), campaign=world["a"])
    assert programs["Demand gen"][1] == program_spend.aggregate(s=Sum("amount_base"))["s"]


def roi_of(campaign, start=LAST_START, end=LAST_END) -> Decimal | None:
    spent = SpendEntry.objects.filter(date__range=(start, end), campaign=campaign).aggregate(s=Sum("amount_base"))["s"]
    won = ResultFact.objects.filter(date__range=(start, end), campaign=campaign).aggregate(r=Sum("revenue"))["r"]
    return None if not spent else ((won or 0) - spent) / spent


def test_campaigns_are_ranked_by_roi_among_those_with_spend(world, client, cmo):
    panel = panel_of(get(client, cmo, period=LAST), "campaigns")
    assert [row[0] for row in panel.rows] == sorted(
        ["Search always on", "Social burst"], key=lambda n: -roi_of(Campaign.objects.get(name=n))
    )  # "Planned only" has no spend: not ranked
    assert [row[1] for row in panel.rows] == [1, 2]
    assert panel.rows[0][4] == (roi_of(Campaign.objects.get(name=panel.rows[0][0])) * 100).quantize(D("0.01"))
    assert panel.note == "Only 2 campaigns spent in this period: all are listed."


def test_past_ten_campaigns_the_best_five_and_the_worst_five_are_listed(world):
    for n in range(12):
        campaign = CampaignFactory(name=f"Extra {n:02d}", team=world["a"].team, channel=world["social"])
        spend(campaign, LAST_START, "100.00")
        results(campaign, LAST_START, revenue=D(10 * n))  # ROI rises with n: -100 % … +10 %
    services.rebuild_all()
    reads = Reads(Filters(LAST_START, LAST_END), scope=ALL)
    chosen, count = cmo_panels.ranked_campaigns(reads)
    assert count == 14
    ranks = [rank for rank, _ in chosen]
    assert ranks == [1, 2, 3, 4, 5, 10, 11, 12, 13, 14]
    assert [row.label for _, row in chosen][-3:] == ["Extra 02", "Extra 01", "Extra 00"]  # the worst last
    rois = [row.values["roi"] for _, row in chosen]
    assert rois == sorted(rois, reverse=True)


def test_objectives_against_the_pro_rated_target(world, client, cmo):
    goal = world["goal"]
    # Half of the year's first month: its target to date is the month's target times 15 of its days.
    month, end = LAST_START, LAST_START + datetime.timedelta(days=14)
    month_days = calendar.monthrange(month.year, month.month)[1]
    response = get(client, cmo, period="custom", start=month.isoformat(), end=end.isoformat())
    rows = {row[0]: row for row in panel_of(response, "objectives").rows}
    actual = ResultFact.objects.filter(date__range=(month, end), campaign__program__objective=goal)
    actual_pipeline = actual.aggregate(p=Sum("pipeline"))["p"] or D("0.00")
    expected_target = (D("3000") * 15 / month_days).quantize(D("0.01"))
    assert rows["Grow pipeline"][2] == actual_pipeline
    assert rows["Grow pipeline"][3] == expected_target
    on_track = actual_pipeline >= D("0.95") * D("3000") * 15 / month_days
    assert rows["Grow pipeline"][5] == ("on track" if on_track else "at risk")
    assert rows["Be loved by analysts"][5] == "no target"
    page = response.content.decode()
    assert "no target" in page and "Be loved by analysts" in page


def test_status_reads_each_kpi_in_its_direction():
    reads = Reads(Filters(LAST_START, LAST_END), scope=ALL)
    goal = Target(to_date=D("100"), period=D("120"))
    assert status(reads, "pipeline", D("95"), goal) == (D("95"), "on track")
    assert status(reads, "pipeline", D("94.99"), goal)[1] == "at risk"
    assert status(reads, "cac", D("105"), goal)[1] == "on track"  # lower is better: ≤ 100 ÷ 0.95
    assert status(reads, "cac", D("105.27"), goal)[1] == "at risk"
    assert status(reads, "cac", None, goal) == (None, "no value")
    assert status(reads, "cac", D("1"), Target(None, None)) == (None, "no target")
    assert status(reads, "cac", D("1"), Target(None, D("5"))) == (None, "not started")


def test_the_forecast_runs_to_year_end_as_dashed_lines_with_its_band(world, client, cmo):
    response = get(client, cmo)
    figure = panel_of(response, "trend").figure
    dashed = [trace for trace in figure.data if trace.line.dash == "dash"]
    assert {trace.name for trace in dashed} == {"Spend forecast", "Won revenue forecast"}
    _, year_end = fiscal_year_bounds(YEAR)
    assert dashed[0].x[-1] == year_end.replace(day=1).isoformat()
    band = [trace for trace in figure.data if trace.fill == "tonexty"]
    assert [trace.name for trace in band] == [
        "Spend forecast, 80 % prediction interval",
        "Won revenue forecast, 80 % prediction interval",
    ]
    rows = panel_of(response, "forecast").rows
    spend_row = next(row for row in rows if row[0] == "Spend")
    assert spend_row[5] == spend_row[1] + spend_row[2]  # projected = actual so far + forecast
    assert spend_row[3] <= spend_row[5] <= spend_row[4]


def test_a_past_period_has_no_forecast_on_its_trend():
    start, end = fiscal_year_bounds(2020)
    reads = Reads(Filters(start, end), scope=ALL, today=datetime.date(2026, 5, 1))
    panel = cmo_panels.trend(reads)
    assert not [trace for trace in panel.figure.data if trace.line.dash == "dash"]
    assert "FY2020 is over" in panel.note


def test_thin_history_is_said_once_per_method():
    reads = Reads(Filters(LAST_START, LAST_END), scope=ALL)
    reads.history_months.update(spend=7, revenue=1)
    forecasts = {
        "spend": Forecast(points=(), method="damped trend from recent months", note="x"),
        "revenue": Forecast(points=(), method="not enough history", note="y"),
    }
    note = cmo_panels._forecast_notes(reads, forecasts, {"spend": "Spend", "revenue": "Won revenue"})
    assert note == (
        "Spend (7 months): less than a year of history, so the forecast follows the recent level and trend "
        "and cannot show seasonal peaks. Won revenue (1 month): fewer than 3 whole months of history: no forecast."
    )


# --- downloads --------------------------------------------------------------------------------


def number(text) -> Decimal | None | str:
    """A number as the page or the CSV shows it ("1,234.50 USD", "12.3 %", "3.45×"); None for "—";
    other text as it is."""
    cleaned = str(text).replace(",", "").removesuffix(" USD").removesuffix(" %").removesuffix("×").strip()
    if cleaned in ("—", ""):
        return None
    try:
        return D(cleaned)
    except ArithmeticError:
        return str(text)


def as_shown(value: str, shown) -> bool:
    """Does the exported ``value`` round to what the page shows (within half its last digit)?"""
    page, exported = number(shown), number(value)
    if page is None or exported is None:
        return page is None and exported is None
    return abs(exported - page) <= D(1).scaleb(page.as_tuple().exponent) / 2


@pytest.mark.parametrize("panel_id", list(cmo_panels.builders(None)))
def test_every_panel_downloads_as_csv_and_xlsx_with_the_numbers_on_the_page(world, client, cmo_user, panel_id):
    page = get(client, cmo_user, period=LAST)
    shown = page.context["panels"][panel_id]
    response = client.get(reverse("metrics:cmo"), {"period": LAST, "download": panel_id, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"-{panel_id}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == shown.header
    assert len(rows) - 1 == len(shown.rows)
    for exported, on_page in zip(rows[1:], shown.shown_rows, strict=True):
        assert exported[0] == str(on_page[0])
    if shown.display_rows and panel_id != "headline":
        for exported, on_page in zip(rows[1:], shown.display_rows, strict=True):
            for value, text in zip(exported[1:], on_page[1:], strict=True):
                if not isinstance(number(text), str):
                    assert as_shown(value, text), (panel_id, value, text)

    response = client.get(reverse("metrics:cmo"), {"period": LAST, "download": panel_id, "format": "xlsx"})
    assert response.status_code == 200 and f"-{panel_id}.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == shown.header
    for from_xlsx, from_csv in zip(cells[1:], rows[1:], strict=True):
        for x, c in zip(from_xlsx, from_csv, strict=True):
            if isinstance(x, int | float):
                assert D(str(x)) == D(c), (panel_id, x, c)


def test_the_headline_download_holds_the_tiles(world, client, cmo):
    tiles = tiles_of(get(client, cmo, period=LAST))
    response = client.get(reverse("metrics:cmo"), {"period": LAST, "download": "headline", "format": "csv"})
    rows = {row["KPI"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert D(rows["Spend"]["This period"]) == tiles["spend"].value
    assert D(rows["Won revenue"]["This period"]) == tiles["revenue"].value
    assert D(rows["Return on investment"]["This period"]) == (tiles["roi"].value * 100).quantize(D("0.01"))
    assert rows["Return on investment"]["Formula"] == "ROI = (won revenue − spend) ÷ spend"


def test_the_trend_download_holds_the_chart(world, client, cmo):
    response = get(client, cmo, period=LAST)
    figure = panel_of(response, "trend").figure
    exported = client.get(reverse("metrics:cmo"), {"period": LAST, "download": "trend", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    spend = next(trace for trace in figure.data if trace.name == "Spend")
    assert [float(row["Spend (USD)"]) for row in rows] == list(spend.y)
    assert len(rows) == 12


def test_an_unknown_download_is_not_found(client, cmo):
    client.force_login(cmo)
    assert client.get(reverse("metrics:cmo"), {"download": "nope"}).status_code == 404
    assert client.get(reverse("metrics:cmo"), {"download": "trend", "format": "pdf"}).status_code == 404


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "nonsense"}, "is not a period"),
        ({"period": "custom", "start": "2026-05-01", "end": "2026-01-01"}, "The start date is after the end date."),
        ({"start": "not a date", "end": "2026-01-01"}, "Enter a valid date."),
    ],
)
def test_a_bad_filter_says_why_and_shows_the_default_period(world, client, cmo, params, message):
    response = get(client, cmo, **params)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="filter-errors"' in page and message in page.replace("&#x27;", "'")
    assert "Showing the default period instead." in page
    filters = response.context["filter_form"].filters()
    assert (filters.start, filters.end) == fiscal_year_bounds(YEAR)


def test_the_filters_stay_in_the_download_links(world, client, cmo):
    page = get(client, cmo, period=LAST, channel=world["search"].pk).content.decode()
    assert f"period={LAST}&amp;channel={world['search'].pk}&amp;download=trend&amp;format=csv" in page


def test_the_summary_shows_the_rollups_freshness(world, client, cmo):
    page = get(client, cmo)
    assert "rollups refreshed " in page.context["freshness"]
    assert page.context["freshness"].endswith("no changes waiting")
    DirtyMark.objects.create(source=CellSource.CAMPAIGN, source_id=world["a"].pk, start=LAST_START, end=LAST_START)
    page = get(client, cmo).content.decode()
    assert "1 change waiting to be rolled up" in page


# --- cost -------------------------------------------------------------------------------------

QUERIES = 30  # measured: 27 unfiltered, 30 with a team and a channel (each chosen filter reads its row)


def _grow(world, count: int) -> None:
    """``count`` more campaigns with a year of facts each, and one more objective with targets."""
    objective = Objective.objects.create(fiscal_year=world["goal"].fiscal_year, name=f"More {count}")
    KpiTarget.objects.bulk_create(
        KpiTarget(objective=objective, kpi="leads", period=period, target_value=D("10"))
        for period in world["goal"].fiscal_year.periods.all()
    )
    for n in range(count):
        campaign = CampaignFactory(team=world["a"].team, owner=world["a"].owner, channel=world["social"])
        Campaign.objects.filter(pk=campaign.pk).update(objective=objective)
        for day in months_back(14):
            spend(campaign, day, f"{n + 1}.25")
            results(campaign, day, leads=n, revenue=D(f"{n}.75"))
    services.rebuild_all()


@pytest.mark.parametrize("params", [{}, {"period": LAST, "channel": "search", "team": "team"}])
def test_query_count_is_constant_in_the_size_of_the_data(
    world, client, cmo, team, django_assert_max_num_queries, params
):
    client.force_login(cmo)
    resolved = {
        key: (world[value].pk if value in world else team.pk if value == "team" else value)
        for key, value in params.items()
    }
    counts = []
    for size in (1, 12):
        _grow(world, size)
        with django_assert_max_num_queries(QUERIES), CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("metrics:cmo"), resolved).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_download_reads_only_what_its_panel_needs(world, client, cmo):
    client.force_login(cmo)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("metrics:cmo"), {"download": "funnel"})
    with CaptureQueriesContext(connection) as page:
        client.get(reverse("metrics:cmo"))
    assert len(queries) < len(page) - 10


@pytest.fixture
def cmo_user(cmo):
    return cmo  # the fixture's name, where the test also needs the module ``cmo`` … kept apart


def test_months_ahead_have_a_forecast_and_no_actual(world):
    start, end = fiscal_year_bounds(YEAR)
    rows = cmo_panels.trend(Reads(Filters(start, end), scope=ALL)).rows
    this_month = f"{TODAY:%b %Y} (to date)"
    passed = [row for row in rows if row[1] is not None]
    ahead = [row for row in rows if row[1] is None]
    assert passed[-1][0] == this_month
    assert all(row[2] is None and row[3] is not None and row[4] <= row[3] <= row[5] for row in ahead)
    assert len(passed) + len(ahead) == 12


def test_the_dashboard_body_is_cached_until_the_rollups_change(
    client, cmo, marketer, team, django_assert_max_num_queries
):
    """The second view of the same filters is served from the cache (a handful of queries for the
    session, the navigation and the rollup version), and a refresh of the rollups shows new spend."""
    import datetime
    from decimal import Decimal

    from campaigns.models import SpendEntry
    from metrics.rollups import services
    from tests.factories import CampaignFactory

    campaign = CampaignFactory(team=team, owner=marketer, start_date=datetime.date(2026, 1, 1))
    services.refresh_pending()
    client.force_login(cmo)
    url = "/metrics/cmo/?period=fy2026"
    first = client.get(url)
    assert first.status_code == 200
    with django_assert_max_num_queries(9):
        again = client.get(url)
    assert again.context["body"] == first.context["body"]
    SpendEntry.objects.create(
        campaign=campaign,
        date=datetime.date(2026, 2, 1),
        amount=Decimal("4321.00"),
        currency="USD",
        amount_base=Decimal("4321.00"),
    )
    services.refresh_pending()
    assert "4,321.00" in client.get(url).content.decode()
