"""One bound for money (settings.MONEY_MAX, mops.money): every write path that takes an amount — the
pages' forms, the API (single rows, upserts, bulk), the services — refuses one past it, NaN, Infinity
and 1e308 included, with the one message that names the limit, and writes nothing; the bound itself
is accepted. Totals of stored amounts of any size (a legacy database's) render on pages and the API."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns import services
from campaigns.facts import services as fact_services
from campaigns.models import Campaign, ResultFact, SpendEntry, Tactic
from metrics.rollups.marks import mark_campaigns
from metrics.scenarios.forms import BacksolveForm
from mops.models import AuditEvent
from mops.money import MONEY_MAX, MONEY_MAX_TEXT, money_bound_message
from planning import services as planning_services
from planning.kpis import Kpi
from planning.models import KpiTarget, Period
from tests.factories import CampaignFactory, ChannelFactory, FxRateFactory

pytestmark = pytest.mark.django_db
D = datetime.date
SPEND, RESULTS, CAMPAIGNS = "/api/v1/spend/", "/api/v1/results/", "/api/v1/campaigns/"

BOUND = f"{MONEY_MAX}"  # 999999999999.99
PAST_THE_BOUND = {
    "bound + 0.01": "1000000000000.00",
    "-bound - 0.01": "-1000000000000.00",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e308": "1e308",
}


@pytest.fixture
def campaign(team, marketer):
    planning_services.fiscal_year_ensure(year=2026)
    channel = ChannelFactory(name="Paid search", slug="paid-search", group="paid_media")
    return CampaignFactory(name="Spring webinars", code="spring", team=team, owner=marketer, channel=channel)


@pytest.fixture
def entry(marketer, campaign):
    """A spend entry to change."""
    return services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")


def state():
    """Everything a write path could have written (an audit event comes with every write)."""
    return {
        "spend": sorted(SpendEntry.objects.values_list("amount", "amount_base")),
        "results": sorted(ResultFact.objects.values_list("pipeline", "revenue")),
        "campaigns": sorted(Campaign.objects.values_list("planned_cost", "expected_pipeline", "expected_revenue")),
        "tactics": Tactic.objects.count(),
        "targets": KpiTarget.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def week_post(day0: dict) -> dict:
    data = {"day-TOTAL_FORMS": "7", "day-INITIAL_FORMS": "7", "day-MIN_NUM_FORMS": "7", "day-MAX_NUM_FORMS": "7"}
    data.update({f"day-0-{measure}": value for measure, value in day0.items()})
    return data


def campaign_post(campaign, **overrides) -> dict:
    return {
        "name": "Autumn launch",
        "team": campaign.team_id,
        "channel": campaign.channel_id,
        "start_date": "2026-02-01",
        "end_date": "2026-02-28",
        "planned_cost": "5000",
        "currency": "USD",
        "expected_leads": "100",
        "expected_mqls": "40",
        "expected_pipeline": "50000",
        "expected_revenue": "10000",
        **overrides,
    }


def _post(client, url, data, follow=False):
    response = client.post(url, data, follow=follow)
    return response.status_code, response.content.decode()


def _page(client, name, *args, data, query="", follow=False):
    return _post(client, reverse(f"campaigns:{name}", args=args) + query, data, follow=follow)


def _api(api, method, url, body):
    response = getattr(api, method)(url, body, format="json")
    return response.status_code, json.dumps(response.json())


def _service(call):
    try:
        call()
    except ValidationError as exc:
        return 400, " ".join(exc.messages)
    except fact_services.BatchInvalid as exc:  # every refused row: {index: {field: [messages]}}
        return 400, json.dumps(exc.errors)
    return 200, ""


# Each write path: (who, amount as typed) -> (status, what the user is told). Pages answer 200 with
# the form again (or follow a redirect to the message), the API 400, services raise ValidationError.
WRITE_PATHS = {
    "form: log spend": lambda c, v: _page(
        c.client, "spend-log", c.campaign.pk, data={"date": "2026-01-10", "amount": v, "currency": "USD"}
    ),
    "form: edit spend": lambda c, v: _page(
        c.client, "spend-edit", c.entry.pk, data={"date": "2026-01-05", "amount": v, "currency": "USD"}
    ),
    "form: results week (pipeline)": lambda c, v: _page(
        c.client, "results-log", c.campaign.pk, data=week_post({"pipeline": v}), query="?week=2026-01-05"
    ),
    "form: results week (revenue)": lambda c, v: _page(
        c.client, "results-log", c.campaign.pk, data=week_post({"revenue": v}), query="?week=2026-01-05"
    ),
    "form: new campaign (planned cost)": lambda c, v: _page(
        c.client, "campaign-create", data=campaign_post(c.campaign, planned_cost=v)
    ),
    "form: new campaign (expected revenue)": lambda c, v: _page(
        c.client, "campaign-create", data=campaign_post(c.campaign, expected_revenue=v)
    ),
    "form: tactic": lambda c, v: _page(
        c.client, "tactic-create", c.campaign.pk, data={"name": "Retargeting", "planned_cost": v}, follow=True
    ),
    "api: spend": lambda c, v: _api(
        c.api, "post", SPEND, {"campaign": c.campaign.pk, "date": "2026-01-10", "amount": v, "currency": "USD"}
    ),
    "api: spend upsert": lambda c, v: _api(
        c.api,
        "post",
        SPEND,
        {"campaign": c.campaign.pk, "date": "2026-01-10", "amount": v, "currency": "USD", "external_key": "k"},
    ),
    "api: spend update": lambda c, v: _api(c.api, "patch", f"{SPEND}{c.entry.pk}/", {"amount": v}),
    "api: spend bulk": lambda c, v: _api(
        c.api,
        "post",
        SPEND + "bulk/",
        [
            {"campaign": c.campaign.pk, "date": "2026-01-10", "amount": "1.00", "currency": "USD"},
            {"campaign": c.campaign.pk, "date": "2026-01-11", "amount": v, "currency": "USD"},
        ],
    ),
    "api: results": lambda c, v: _api(
        c.api, "post", RESULTS, {"campaign": c.campaign.pk, "date": "2026-01-10", "revenue": v}
    ),
    "api: results bulk": lambda c, v: _api(
        c.api,
        "post",
        RESULTS + "bulk/",
        [
            {"campaign": c.campaign.pk, "date": "2026-01-10", "leads": 3},
            {"campaign": c.campaign.pk, "date": "2026-01-11", "pipeline": v},
        ],
    ),
    "api: new campaign (planned cost)": lambda c, v: _api(
        c.api, "post", CAMPAIGNS, campaign_post(c.campaign, planned_cost=v)
    ),
    "api: campaign update (planned cost)": lambda c, v: _api(
        c.api, "patch", f"{CAMPAIGNS}{c.campaign.pk}/", {"planned_cost": v}
    ),
    "api: campaign update (expected pipeline)": lambda c, v: _api(
        c.api, "patch", f"{CAMPAIGNS}{c.campaign.pk}/", {"expected_pipeline": v}
    ),
    "service: spend_log": lambda c, v: _service(
        lambda: services.spend_log(
            actor=c.user, campaign=c.campaign, date=D(2026, 1, 10), amount=Decimal(v), currency="USD"
        )
    ),
    "service: spend_update": lambda c, v: _service(
        lambda: services.spend_update(actor=c.user, entry=c.entry, amount=Decimal(v))
    ),
    "service: spend_upsert": lambda c, v: _service(
        lambda: fact_services.spend_upsert(
            actor=c.user, campaign=c.campaign, date=D(2026, 1, 10), external_key="k", amount=Decimal(v), currency="USD"
        )
    ),
    "service: spend_batch_write": lambda c, v: _service(
        lambda: fact_services.spend_batch_write(
            actor=c.user,
            rows=[
                {"campaign": c.campaign, "date": D(2026, 1, 10), "amount": Decimal(1), "currency": "USD"},
                {"campaign": c.campaign, "date": D(2026, 1, 11), "amount": Decimal(v), "currency": "USD"},
            ],
        )
    ),
    "service: results_log": lambda c, v: _service(
        lambda: services.results_log(actor=c.user, campaign=c.campaign, date=D(2026, 1, 10), revenue=Decimal(v))
    ),
    "service: results_batch_write": lambda c, v: _service(
        lambda: fact_services.results_batch_write(
            actor=c.user,
            rows=[
                {"campaign": c.campaign, "date": D(2026, 1, 10), "source": "api", "leads": 1},
                {"campaign": c.campaign, "date": D(2026, 1, 11), "source": "api", "pipeline": Decimal(v)},
            ],
        )
    ),
    "service: campaign_create": lambda c, v: _service(
        lambda: services.campaign_create(
            actor=c.user,
            team=c.campaign.team,
            name="Autumn launch",
            channel=c.campaign.channel,
            start_date=D(2026, 2, 1),
            end_date=D(2026, 2, 28),
            planned_cost=Decimal(v),
        )
    ),
    "service: campaign_update": lambda c, v: _service(
        lambda: services.campaign_update(actor=c.user, campaign=c.campaign, expected_revenue=Decimal(v))
    ),
    "service: tactic_create": lambda c, v: _service(
        lambda: services.tactic_create(actor=c.user, campaign=c.campaign, name="Retargeting", planned_cost=Decimal(v))
    ),
    "form: spend target": lambda c, v: _post(
        c.admin_client,
        reverse("planning:objective-detail", args=[c.objective.pk]),
        {"kpi": "spend", f"m{c.january.pk}": v},
    ),
    "api: revenue target": lambda c, v: _api(
        c.admin_api,
        "post",
        f"/api/v1/objectives/{c.objective.pk}/targets/",
        {"kpi": "revenue", "values": {"2026-01-01": v}},
    ),
    "service: spend target": lambda c, v: _service(
        lambda: planning_services.targets_set(
            actor=c.ops_admin,
            objective=c.objective,
            kpi=Kpi.SPEND,
            values={c.january: Decimal(v)},
        )
    ),
}


class Context:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


@pytest.fixture
def ctx(client, marketer, ops_admin, campaign, entry):
    client.force_login(marketer)
    admin_client = Client()
    admin_client.force_login(ops_admin)
    api, admin_api = APIClient(), APIClient()
    api.force_authenticate(user=marketer)
    admin_api.force_authenticate(user=ops_admin)
    objective = planning_services.objective_create(
        actor=ops_admin, fiscal_year=planning_services.fiscal_year_ensure(year=2026), name="Grow pipeline"
    )
    return Context(
        client=client,
        api=api,
        admin_client=admin_client,
        admin_api=admin_api,
        user=marketer,
        ops_admin=ops_admin,
        campaign=campaign,
        entry=entry,
        objective=objective,
        january=Period.objects.get(start_date=D(2026, 1, 1)),
    )


@pytest.mark.parametrize("value", PAST_THE_BOUND.values(), ids=PAST_THE_BOUND.keys())
@pytest.mark.parametrize("path", WRITE_PATHS)
def test_every_write_path_refuses_an_amount_past_the_bound_naming_the_limit(ctx, path, value):
    before = state()
    status, told = WRITE_PATHS[path](ctx, value)
    assert status in (200, 400), (status, told[:500])
    assert MONEY_MAX_TEXT in told, told[:2000]
    assert f"-{MONEY_MAX_TEXT} and {MONEY_MAX_TEXT}" in told  # the one wording, not a digit count
    assert state() == before


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_every_write_path_accepts_the_bound_itself(ctx, path):
    before = state()
    _, told = WRITE_PATHS[path](ctx, BOUND)
    assert "must be between" not in told, told[:2000]
    assert state() != before


def test_the_message_names_the_limit():
    assert money_bound_message("Amount") == "Amount must be between -999,999,999,999.99 and 999,999,999,999.99."


# --- in base currency -------------------------------------------------------------------------


@pytest.fixture
def eur(db):
    return FxRateFactory(currency_id="EUR", date=D(2026, 1, 1), rate=Decimal("1.10"))


def test_an_amount_within_the_bound_is_refused_when_its_base_currency_amount_is_past_it(
    client, api_as, marketer, campaign, eur
):
    """999,999,999,999.99 EUR is 1,099,999,999,999.99 USD: the service is the last line."""
    before = state()
    with pytest.raises(ValidationError) as error:
        services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 10), amount=MONEY_MAX, currency="EUR")
    assert error.value.message_dict == {
        "amount": [f"Amount in USD at the rate of 10 Jan 2026 must be between -{MONEY_MAX_TEXT} and {MONEY_MAX_TEXT}."]
    }
    item = {"campaign": campaign.pk, "date": "2026-01-10", "amount": BOUND, "currency": "EUR"}
    api = api_as(marketer)
    single = api.post(SPEND, item, format="json")
    assert single.status_code == 400 and MONEY_MAX_TEXT in single.json()["amount"][0]
    keyed = api.post(SPEND, {**item, "external_key": "k"}, format="json")
    assert keyed.status_code == 400 and MONEY_MAX_TEXT in keyed.json()["amount"][0]
    bulk = api.post(SPEND + "bulk/", [{**item, "amount": "1.00"}, item], format="json")
    assert bulk.status_code == 400
    assert [e["index"] for e in bulk.json()["errors"]] == [1] and MONEY_MAX_TEXT in json.dumps(bulk.json())
    client.force_login(marketer)
    page = client.post(reverse("campaigns:spend-log", args=[campaign.pk]), {**item, "campaign": ""})
    assert page.status_code == 200 and MONEY_MAX_TEXT in page.content.decode()
    planned = api.post(CAMPAIGNS, campaign_post(campaign, planned_cost=BOUND, currency="EUR"), format="json")
    assert planned.status_code == 400 and MONEY_MAX_TEXT in planned.json()["planned_cost"][0]
    assert state() == before


# --- JSON numbers -------------------------------------------------------------------------------


def test_json_numbers_past_the_bound_and_json_nan_are_400_never_500(api_as, marketer, campaign):
    api = api_as(marketer)
    body = '{"campaign": %d, "date": "2026-01-10", "currency": "USD", "amount": %s}'
    number = api.post(SPEND, body % (campaign.pk, "1e308"), content_type="application/json")
    assert number.status_code == 400 and MONEY_MAX_TEXT in number.json()["amount"][0]
    for literal in ("NaN", "Infinity"):
        response = api.post(SPEND, body % (campaign.pk, literal), content_type="application/json")
        assert response.status_code == 400, response.content
        assert response["Content-Type"].startswith("application/json")
    assert not SpendEntry.objects.exists()


# --- other forms with money -----------------------------------------------------------------------


@pytest.mark.parametrize("value", PAST_THE_BOUND.values(), ids=PAST_THE_BOUND.keys())
def test_the_back_solve_target_is_bounded(cmo, value):
    form = BacksolveForm({"target_kind": "revenue", "target": value}, user=cmo, today=D(2026, 6, 15))
    assert not form.is_valid()
    assert form.errors["target"] == [money_bound_message("Target amount")]


# --- totals of stored amounts of any size ---------------------------------------------------------


LEGACY = Decimal("999999999999999.99")  # what NUMERIC(18,2) holds: the twenty rows


@pytest.fixture
def legacy_campaign(marketer, campaign):
    """Twenty spend rows and twenty result days at the column's limit, written as a legacy database
    holds them (bulk_create: no validation), with the campaign's rollup refresh still pending."""
    SpendEntry.objects.bulk_create(
        SpendEntry(
            campaign=campaign,
            date=D(2026, 1, 1) + datetime.timedelta(days=n),
            amount=LEGACY,
            currency="USD",
            amount_base=LEGACY,
            source="manual",
            created_by=marketer,
        )
        for n in range(20)
    )
    ResultFact.objects.bulk_create(
        ResultFact(campaign=campaign, date=D(2026, 1, 1) + datetime.timedelta(days=n), pipeline=LEGACY, revenue=LEGACY)
        for n in range(20)
    )
    mark_campaigns([campaign.pk])  # the rollup cells have not caught up: totals come from the facts
    return campaign


SUM = f"{LEGACY * 20}"  # 19999999999999999999.80: 22 digits


def test_the_api_renders_totals_of_any_stored_amounts(api_as, cmo, legacy_campaign):
    api = api_as(cmo)
    detail = api.get(f"{CAMPAIGNS}{legacy_campaign.pk}/")
    assert detail.status_code == 200, detail.content[:300]
    assert detail.json()["totals"] == {"spend_base": SUM, "leads": 0, "pipeline": SUM, "revenue": SUM}
    listed = api.get(CAMPAIGNS)
    assert listed.status_code == 200
    assert listed.json()["results"][0]["totals"]["spend_base"] == SUM
    by_spend = api.get(CAMPAIGNS, {"ordering": "-spend_base"})
    assert by_spend.status_code == 200 and by_spend.json()["results"][0]["totals"]["revenue"] == SUM
    spend = api.get(SPEND, {"campaign": legacy_campaign.pk})
    assert spend.status_code == 200 and spend.json()["results"][0]["amount"] == f"{LEGACY}"


def test_the_pages_render_totals_of_any_stored_amounts(client, cmo, legacy_campaign):
    client.force_login(cmo)
    shown = f"{LEGACY * 20:,}"  # 19,999,999,999,999,999,999.80
    listed = client.get(reverse("campaigns:home"))
    assert listed.status_code == 200
    assert f'data-total="spend">{shown}<' in listed.content.decode()
    assert shown in client.get(reverse("campaigns:home"), {"sort": "-spend"}).content.decode()
    for name in ("campaign-detail", "spend-log", "results-log"):
        response = client.get(reverse(f"campaigns:{name}", args=[legacy_campaign.pk]))
        assert response.status_code == 200, name
        assert shown in response.content.decode(), name
