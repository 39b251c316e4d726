"""The campaign list (filters, sorting, totals, paging, query counts) and the marketing calendar."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import Campaign, ResultFact, SpendEntry
from metrics.rollups import services as metrics_services
from metrics.rollups.models import DirtyMark
from tests.campaigns.conftest import login, url
from tests.factories import CampaignFactory, ChannelFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


# --- the list: filters, sorting, totals, queries ------------------------------------------------


@pytest.fixture
def portfolio(marketer, teammate, team, paid_search, fiscal_2026, eur_rate):
    """Four campaigns of the marketer's team with spend and results, and one of another team."""
    email = ChannelFactory(name="Email", slug="email", group="owned")

    def make(**kw):
        return CampaignFactory(**{"team": team, "owner": marketer, "channel": paid_search, **kw})

    a = make(name="Alpha search", code="alpha", start_date=D(2026, 1, 1), end_date=D(2026, 1, 31))
    b = make(
        name="Bravo email",
        code="bravo",
        channel=email,
        start_date=D(2026, 2, 1),
        end_date=D(2026, 3, 15),
        planned_cost_base=Decimal("500"),
    )
    c = make(name="Charlie search", code="charlie", status="live", start_date=D(2026, 3, 1), end_date=D(2026, 4, 30))
    d = make(name="Delta", code="delta-x", owner=teammate, start_date=D(2026, 5, 1), end_date=D(2026, 5, 2))
    CampaignFactory(name="Other team", code="zz", team=TeamFactory(slug="apac"), channel=paid_search)
    for campaign, amounts in ((a, ["100", "50.25"]), (b, ["300"]), (c, ["20"])):
        for day, amount in enumerate(amounts, start=1):
            services.spend_log(
                actor=marketer, campaign=campaign, date=D(2026, 1, day), amount=Decimal(amount), currency="EUR"
            )
    for campaign, days in ((a, [(5, 10, "1000")]), (b, [(6, 4, "0"), (7, 6, "250.50")]), (d, [(8, 1, "5")])):
        for day, leads, pipeline in days:
            services.results_log(
                actor=marketer, campaign=campaign, date=D(2026, 1, day), leads=leads, pipeline=Decimal(pipeline)
            )
    return {"a": a, "b": b, "c": c, "d": d}


def listed(client, **params):
    response = client.get(url("home"), params)
    assert response.status_code == 200
    return response, [c.code for c in response.context["page"]]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({}, ["delta-x", "charlie", "bravo", "alpha"]),
        ({"status": "live"}, ["charlie"]),
        ({"channel": "email"}, ["bravo"]),
        ({"q": "SEARCH"}, ["charlie", "alpha"]),
        ({"q": "delta-"}, ["delta-x"]),
        ({"owner": "bob"}, ["delta-x"]),
        ({"start": "2026-03-10", "end": "2026-03-20"}, ["charlie", "bravo"]),  # overlapping, not contained
        ({"start": "2026-04-15"}, ["delta-x", "charlie"]),
        ({"end": "2026-01-31"}, ["alpha"]),
        ({"status": "nonsense"}, ["delta-x", "charlie", "bravo", "alpha"]),  # bad values are ignored
    ],
)
def test_list_filters(client, marketer, portfolio, params, codes):
    params = dict(params)
    if params.get("channel") == "email":
        params["channel"] = portfolio["b"].channel_id
    if params.get("owner") == "bob":
        params["owner"] = portfolio["d"].owner_id
    _, shown = listed(login(client, marketer), **params)
    assert shown == codes


def test_list_filters_by_team(client, cmo, portfolio):
    _, shown = listed(login(client, cmo), team=portfolio["a"].team_id, sort="name")
    assert shown == ["alpha", "bravo", "charlie", "delta-x"]


@pytest.mark.parametrize(
    ("sort", "codes"),
    [
        ("name", ["alpha", "bravo", "charlie", "delta-x"]),
        ("-name", ["delta-x", "charlie", "bravo", "alpha"]),
        ("start", ["alpha", "bravo", "charlie", "delta-x"]),
        ("-planned", ["alpha", "charlie", "delta-x", "bravo"]),
        ("planned", ["bravo", "alpha", "charlie", "delta-x"]),
        ("-spend", ["bravo", "alpha", "charlie", "delta-x"]),
        ("spend", ["delta-x", "charlie", "alpha", "bravo"]),
    ],
)
def test_list_sorting(client, marketer, portfolio, sort, codes):
    _, shown = listed(login(client, marketer), sort=sort)
    assert shown == codes


def test_list_rows_carry_their_own_actuals(client, marketer, portfolio):
    response, _ = listed(login(client, marketer), sort="name")
    alpha, bravo, *_ = response.context["page"]
    assert (alpha.spend_base, alpha.leads, alpha.pipeline) == (Decimal("165.28"), 10, Decimal("1000.00"))
    assert (bravo.spend_base, bravo.leads, bravo.pipeline) == (Decimal("330.00"), 10, Decimal("250.50"))


@pytest.mark.parametrize("params", [{}, {"channel": "paid"}, {"q": "a"}, {"start": "2026-02-15"}])
def test_list_totals_match_an_independent_sum(client, marketer, portfolio, params):
    params = dict(params)
    if params.get("channel") == "paid":
        params["channel"] = portfolio["a"].channel_id
    response, codes = listed(login(client, marketer), per_page=25, **params)
    totals = response.context["totals"]
    campaigns = Campaign.objects.filter(code__in=codes)
    spend = SpendEntry.objects.filter(campaign__in=campaigns).aggregate(s=Sum("amount_base"))["s"] or 0
    results = ResultFact.objects.filter(campaign__in=campaigns)
    assert totals.count == len(codes)
    assert totals.planned_cost == sum(c.planned_cost_base for c in campaigns)
    assert totals.spend == spend
    assert totals.leads == sum(r.leads for r in results)
    assert totals.pipeline == sum((r.pipeline for r in results), Decimal(0))
    assert totals.revenue == sum((r.revenue for r in results), Decimal(0))


def test_totals_cover_the_whole_filtered_set_not_just_the_page(client, marketer, portfolio):
    response, _ = listed(login(client, marketer), per_page=25, page=1)
    assert response.context["totals"].count == 4
    assert response.context["totals"].spend == Decimal("517.28")  # 110 + 55.28 + 330 + 22 (EUR at 1.10)


def test_list_pages_by_the_chosen_size(client, marketer, team, paid_search):
    CampaignFactory.create_batch(30, team=team, owner=marketer, channel=paid_search)
    response, shown = listed(login(client, marketer), per_page=25)
    assert len(shown) == 25 and response.context["page"].paginator.num_pages == 2
    _, shown = listed(client, per_page=50)
    assert len(shown) == 30
    _, shown = listed(client, per_page=7)  # not an offered size: the default
    assert len(shown) == 25
    page_two = client.get(url("home"), {"per_page": 25, "page": 2, "sort": "name"})
    assert len(page_two.context["page"]) == 5
    assert "sort=name" in page_two.context["query"]


def _list_queries(client, n, team, marketer, channel):
    existing = Campaign.objects.count()
    for i in range(existing, n):
        campaign = CampaignFactory(team=team, owner=marketer, channel=channel, program=None)
        services.spend_log(
            actor=marketer, campaign=campaign, date=D(2026, 1, 1 + i % 28), amount=Decimal(i), currency="USD"
        )
        services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 1 + i % 28), leads=i)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("home"), {"per_page": 100})
    assert len(response.context["page"]) == n
    return len(queries)


def test_the_list_makes_the_same_few_queries_for_10_or_60_campaigns(
    client, marketer, team, paid_search, fiscal_2026, django_assert_max_num_queries
):
    login(client, marketer)
    with_10 = _list_queries(client, 10, team, marketer, paid_search)
    with_60 = _list_queries(client, 60, team, marketer, paid_search)
    assert with_10 == with_60
    # The totals come from the facts of campaigns the rollups have not caught up with (all of them
    # here), from the rollup cells once they have: the same queries either way.
    assert DirtyMark.objects.exists()
    metrics_services.refresh_pending()
    assert not DirtyMark.objects.exists()
    assert _list_queries(client, 60, team, marketer, paid_search) == with_60
    with django_assert_max_num_queries(15):
        client.get(url("home"), {"per_page": 100})


# --- calendar -------------------------------------------------------------------------------------


@pytest.fixture
def calendar_campaigns(team, marketer, paid_search, fiscal_2026, other_campaign):
    def make(name, start, end, **kw):
        defaults = {"team": team, "owner": marketer, "channel": paid_search}
        return CampaignFactory(name=name, code=name.lower(), start_date=start, end_date=end, **{**defaults, **kw})

    return {
        "inside": make("Inside", D(2026, 3, 10), D(2026, 3, 12)),
        "across": make("Across", D(2026, 2, 20), D(2026, 4, 5)),
        "before": make("Before", D(2026, 1, 1), D(2026, 2, 28)),
        "after": make("After", D(2026, 4, 1), D(2026, 4, 30)),
        "email": make("Newsletter", D(2026, 3, 1), D(2026, 3, 31), channel=ChannelFactory(name="Email", slug="email")),
    }


def bars(response):
    return {bar.campaign.name: bar for group in response.context["groups"] for bar in group.bars}


def test_the_month_calendar_shows_campaigns_overlapping_it(client, marketer, calendar_campaigns):
    response = login(client, marketer).get(url("calendar"), {"view": "month", "start": "2026-03"})
    assert response.status_code == 200
    assert (response.context["start"], response.context["end"]) == (D(2026, 3, 1), D(2026, 3, 31))
    shown = bars(response)
    assert sorted(shown) == ["Across", "Inside", "Newsletter"]  # not the other team's
    inside, across = shown["Inside"], shown["Across"]
    assert (inside.offset, inside.span, inside.after) == (9, 3, 19)
    assert (across.offset, across.span, across.after, across.starts_before, across.ends_after) == (0, 31, 0, True, True)
    content = response.content.decode()
    assert f'href="{url("campaign-detail", calendar_campaigns["inside"].pk)}"' in content
    assert "March 2026" in content


def test_the_quarter_calendar_and_its_navigation(client, marketer, calendar_campaigns):
    response = login(client, marketer).get(url("calendar"), {"view": "quarter", "start": "2026-02", "group": "channel"})
    assert (response.context["start"], response.context["end"]) == (D(2026, 2, 1), D(2026, 4, 30))
    assert len(response.context["days"]) == 89
    assert [g.label for g in response.context["groups"]] == ["Email", "Paid search"]
    assert sorted(bars(response)) == ["Across", "After", "Before", "Inside", "Newsletter"]
    assert (response.context["previous"], response.context["next"]) == (D(2025, 11, 1), D(2026, 5, 1))
    assert "start=2025-11" in response.content.decode()


def test_the_calendar_defaults_to_this_month_and_ignores_bad_input(client, cmo, calendar_campaigns):
    response = login(client, cmo).get(url("calendar"), {"view": "year", "start": "March"})
    today = datetime.date.today()
    assert response.context["view"] == "month"
    assert response.context["start"] == today.replace(day=1)
    response = client.get(url("calendar"), {"view": "month", "start": "2026-03"})
    assert "EMEA roadshow" in bars(response)  # the CMO sees every team's campaigns


def test_the_calendar_is_refused_to_users_without_a_role(client):
    assert login(client, UserFactory()).get(url("calendar")).status_code == 403
