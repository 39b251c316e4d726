"""The spend and results API — single rows, keyed upserts and all-or-nothing bulk posts; who may
read and write; closed months; validation bodies; query counts."""

import datetime
from decimal import Decimal

import pytest

from campaigns import services
from campaigns.models import ResultFact, SpendEntry
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

D = datetime.date

PROGRAMS, CAMPAIGNS, SPEND, RESULTS = "/api/v1/programs/", "/api/v1/campaigns/", "/api/v1/spend/", "/api/v1/results/"


@pytest.fixture
def close_january(finance, fiscal_2026):
    def close():
        planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 1, 1)))

    return close


def spend_item(campaign, /, **overrides):
    return {"campaign": campaign.pk, "date": "2026-01-10", "amount": "100.00", "currency": "USD", **overrides}


# --- spend ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["marketer", "teammate"])
def test_owner_and_teammate_log_spend(request, api_as, who, campaign, eur_rate):
    response = api_as(request.getfixturevalue(who)).post(SPEND, spend_item(campaign, currency="EUR"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["amount_base"], body["source"], body["outcome"]) == (
        "100.00",
        "110.00",
        "api",
        "created",
    )
    assert AuditEvent.objects.filter(action="spend.create").count() == 1


def test_spend_on_an_invisible_campaign_names_the_campaign(api_as, outsider, campaign):
    response = api_as(outsider).post(SPEND, spend_item(campaign))
    assert response.status_code == 400
    assert set(response.json()) == {"campaign"}  # another team's id reveals nothing
    assert not SpendEntry.objects.exists()


@pytest.mark.parametrize("who", ["cmo", "finance"])
def test_read_only_roles_read_spend_but_cannot_write_it(request, api_as, who, marketer, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    client = api_as(request.getfixturevalue(who))
    assert client.get(SPEND).json()["count"] == 1
    assert client.get(f"{SPEND}{entry.pk}/").status_code == 200
    assert client.post(SPEND, spend_item(campaign)).status_code == 403
    assert client.post(SPEND + "bulk/", [spend_item(campaign)]).status_code == 403
    assert client.patch(f"{SPEND}{entry.pk}/", {"amount": "6"}).status_code == 403
    assert client.delete(f"{SPEND}{entry.pk}/").status_code == 403
    assert SpendEntry.objects.get().amount == Decimal("5.00")


def test_outsider_gets_404_on_another_teams_spend(api_as, marketer, outsider, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    client = api_as(outsider)
    assert client.get(SPEND).json()["count"] == 0
    assert client.get(f"{SPEND}{entry.pk}/").status_code == 404
    assert client.patch(f"{SPEND}{entry.pk}/", {"amount": "6"}).status_code == 404
    assert client.delete(f"{SPEND}{entry.pk}/").status_code == 404


@pytest.mark.parametrize(
    "change, field",
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"date": "soon"}, "date"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "GBP"}, "currency"),  # no rate for GBP
        ({"campaign": None}, "campaign"),
    ],
)
def test_spend_validation_names_fields(api_as, marketer, campaign, change, field):
    response = api_as(marketer).post(SPEND, spend_item(campaign, **change))
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_spend_with_a_tactic_of_another_campaign_is_refused(api_as, marketer, campaign, team, paid_search):
    sibling = CampaignFactory(team=team, owner=marketer, channel=paid_search)
    tactic = services.tactic_create(actor=marketer, campaign=sibling, name="Retargeting")
    response = api_as(marketer).post(SPEND, spend_item(campaign, tactic=tactic.pk))
    assert response.json() == {"tactic": ["That tactic belongs to another campaign."]}


def test_spend_changes_and_deletes_through_the_services(api_as, teammate, marketer, campaign, eur_rate):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    client = api_as(teammate)
    response = client.patch(f"{SPEND}{entry.pk}/", {"amount": "20", "currency": "EUR", "vendor": "Acme"})
    assert response.status_code == 200, response.json()
    assert (response.json()["amount_base"], response.json()["vendor"]) == ("22.00", "Acme")
    assert client.delete(f"{SPEND}{entry.pk}/").status_code == 204
    assert not SpendEntry.objects.exists()
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "spend.create",
        "spend.update",
        "spend.delete",
    ]


def test_spend_update_cannot_move_an_entry_to_another_campaign(api_as, marketer, campaign, team, paid_search):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    other = CampaignFactory(team=team, owner=marketer, channel=paid_search)
    response = api_as(marketer).patch(f"{SPEND}{entry.pk}/", {"campaign": other.pk, "external_key": "x", "note": "n"})
    assert (response.status_code, response.json()["campaign"], response.json()["external_key"]) == (
        200,
        campaign.pk,
        None,
    )


def test_closed_month_refuses_spend_writes_naming_the_date(api_as, marketer, campaign, close_january):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    close_january()
    client = api_as(marketer)
    for response in (
        client.post(SPEND, spend_item(campaign, date="2026-01-20")),
        client.patch(f"{SPEND}{entry.pk}/", {"amount": "6"}),
        client.patch(f"{SPEND}{entry.pk}/", {"date": "2026-02-02"}),
        client.delete(f"{SPEND}{entry.pk}/"),
        client.post(SPEND + "bulk/", [spend_item(campaign, date="2026-02-01"), spend_item(campaign)]),
    ):
        assert response.status_code == 400
        assert "Jan 2026 is closed by finance" in str(response.json()), response.json()
    assert client.post(SPEND, spend_item(campaign, date="2026-02-01")).status_code == 201
    assert list(SpendEntry.objects.order_by("date").values_list("date", "amount")) == [
        (D(2026, 1, 5), Decimal("5.00")),
        (D(2026, 2, 1), Decimal("100.00")),
    ]


def test_spend_with_an_external_key_is_an_idempotent_upsert(api_as, marketer, campaign):
    client = api_as(marketer)
    first = client.post(SPEND, spend_item(campaign, external_key="inv-1"))
    again = client.post(SPEND, spend_item(campaign, external_key="inv-1"))
    changed = client.post(SPEND, spend_item(campaign, external_key="inv-1", amount="120"))
    assert [r.status_code for r in (first, again, changed)] == [201, 200, 200]
    assert [r.json()["outcome"] for r in (first, again, changed)] == ["created", "unchanged", "updated"]
    assert list(SpendEntry.objects.values_list("amount", "external_key", "source")) == [
        (Decimal("120.00"), "inv-1", "api")
    ]
    assert AuditEvent.objects.filter(action__startswith="spend.").count() == 2


def test_spend_list_filters(api_as, marketer, campaign, team, paid_search):
    other = CampaignFactory(team=team, owner=marketer, channel=paid_search)
    for day, target in [(5, campaign), (15, campaign), (25, other)]:
        services.spend_log(actor=marketer, campaign=target, date=D(2026, 1, day), amount=Decimal(day), currency="USD")
    client = api_as(marketer)

    def amounts(query):
        return [row["amount"] for row in client.get(f"{SPEND}?{query}").json()["results"]]

    assert amounts(f"campaign={campaign.pk}") == ["15.00", "5.00"]
    assert amounts("date_from=2026-01-10&date_to=2026-01-31") == ["25.00", "15.00"]
    assert amounts("source=api") == []
    assert amounts("source=manual&ordering=amount_base") == ["5.00", "15.00", "25.00"]


def test_spend_list_queries_do_not_grow_with_rows(api_as, marketer, campaign, django_assert_max_num_queries):
    client = api_as(marketer)
    for total in (10, 40):
        SpendEntry.objects.bulk_create(
            SpendEntry(
                campaign=campaign, date=D(2026, 1, 1), amount=1, currency="USD", amount_base=1, created_by=marketer
            )
            for _ in range(total - SpendEntry.objects.count())
        )
        with django_assert_max_num_queries(3):  # roles, count, page
            assert len(client.get(SPEND + "?page_size=100").json()["results"]) == total


# --- spend: bulk ----------------------------------------------------------------------------


def test_bulk_spend_writes_every_item_in_one_go(api_as, marketer, campaign, eur_rate):
    items = [spend_item(campaign, date=f"2026-01-{day:02d}", currency="EUR") for day in range(1, 6)]
    response = api_as(marketer).post(SPEND + "bulk/", items)
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 5, "updated": 0, "unchanged": 0}
    assert SpendEntry.objects.filter(amount_base=Decimal("110.00"), source="api").count() == 5
    assert AuditEvent.objects.filter(action="spend.create").count() == 5


def test_bulk_spend_is_all_or_nothing_with_every_bad_index(api_as, marketer, campaign, other_campaign):
    items = [
        spend_item(campaign),
        spend_item(campaign, amount="-5"),  # shape
        spend_item(campaign),
        spend_item(campaign, currency="GBP"),  # no exchange rate
        spend_item(other_campaign),  # not a campaign the user sees
        spend_item(campaign, date="2027-13-01"),
    ]
    response = api_as(marketer).post(SPEND + "bulk/", items)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], sorted(e["errors"])) for e in errors] == [
        (1, ["amount"]),
        (3, ["currency"]),
        (4, ["campaign"]),
        (5, ["date"]),
    ]
    assert "No exchange rate for GBP" in errors[1]["errors"]["currency"][0]
    assert not SpendEntry.objects.exists()
    assert not AuditEvent.objects.exists()


def test_bulk_spend_names_every_amount_past_the_money_bound(api_as, marketer, campaign, eur_rate):
    from mops.money import money_bound_message

    items = [
        spend_item(campaign),
        spend_item(campaign, amount="1e308"),
        spend_item(campaign, amount="NaN"),
        spend_item(campaign, amount=1e308),  # a JSON number
        spend_item(campaign, amount="999999999999.99"),  # the bound itself
    ]
    response = api_as(marketer).post(SPEND + "bulk/", items, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": index, "errors": {"amount": [money_bound_message("Amount")]}} for index in (1, 2, 3)
    ]
    # Within the bound in euros, past it in dollars: the service names the item as it writes.
    items = [spend_item(campaign), spend_item(campaign, amount="999999999999.99", currency="EUR")]
    response = api_as(marketer).post(SPEND + "bulk/", items, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1
    assert "USD at the rate of 10 Jan 2026 must be between" in response.json()["errors"][0]["errors"]["amount"][0]
    assert not SpendEntry.objects.exists()


def test_bulk_spend_reposted_with_external_keys_changes_nothing(api_as, marketer, campaign):
    client = api_as(marketer)
    items = [spend_item(campaign, date=f"2026-01-{day:02d}", external_key=f"gads-{day}") for day in range(1, 4)]
    assert client.post(SPEND + "bulk/", items).json() == {"created": 3, "updated": 0, "unchanged": 0}
    assert client.post(SPEND + "bulk/", items).json() == {"created": 0, "updated": 0, "unchanged": 3}
    items[0]["amount"] = "80"
    assert client.post(SPEND + "bulk/", items).json() == {"created": 0, "updated": 1, "unchanged": 2}
    assert SpendEntry.objects.count() == 3
    assert SpendEntry.objects.get(external_key="gads-1").amount == Decimal("80.00")


@pytest.mark.parametrize(
    "body, message",
    [({"campaign": 1}, "Expected a JSON list"), ([], "empty"), ([{}] * 1001, "At most 1000")],
)
def test_bulk_body_must_be_a_list_of_reasonable_size(api_as, marketer, body, message):
    response = api_as(marketer).post(SPEND + "bulk/", body)
    assert response.status_code == 400
    assert message in response.json()["non_field_errors"][0]


def test_bulk_checks_cost_the_same_for_10_or_40_items(
    api_as, marketer, campaign, eur_rate, close_january, django_assert_max_num_queries
):
    tactic = services.tactic_create(actor=marketer, campaign=campaign, name="Search ads")
    close_january()
    client = api_as(marketer)
    for size in (10, 40):
        items = [
            spend_item(campaign, date=str(D(2026, 2, 1) + datetime.timedelta(days=n)), currency="EUR", tactic=tactic.pk)
            for n in range(size - 1)
        ]
        items.append(spend_item(campaign, date="2026-01-31"))  # closed: the batch is refused, nothing written
        # roles, currencies, campaign, tactic, closed months, membership, EUR rate, the closed month's message
        with django_assert_max_num_queries(8):
            response = client.post(SPEND + "bulk/", items)
        assert [e["index"] for e in response.json()["errors"]] == [size - 1]
    assert not SpendEntry.objects.exists()


# --- results --------------------------------------------------------------------------------


def result_item(campaign, /, **overrides):
    return {"campaign": campaign.pk, "date": "2026-01-10", "leads": 10, "clicks": 200, **overrides}


@pytest.mark.parametrize("who", ["marketer", "teammate"])
def test_results_upsert_by_campaign_date_and_source(request, api_as, who, campaign):
    client = api_as(request.getfixturevalue(who))
    created = client.post(RESULTS, result_item(campaign, pipeline="2500.5"))
    same = client.post(RESULTS, result_item(campaign))
    changed = client.post(RESULTS, result_item(campaign, leads=12))
    other_source = client.post(RESULTS, result_item(campaign, source="linkedin_ads"))
    assert [r.status_code for r in (created, same, changed, other_source)] == [201, 200, 200, 201]
    assert [r.json()["outcome"] for r in (created, same, changed)] == ["created", "unchanged", "updated"]
    assert (created.json()["source"], created.json()["pipeline"]) == ("api", "2500.50")
    fact = ResultFact.objects.get(source="api")
    assert (fact.leads, fact.clicks, fact.pipeline) == (12, 200, Decimal("2500.50"))  # left-out measures kept
    assert ResultFact.objects.count() == 2


def test_results_update_changes_measures_only(api_as, teammate, marketer, campaign):
    fact = services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 3), leads=4).fact
    client = api_as(teammate)
    response = client.patch(f"{RESULTS}{fact.pk}/", {"mqls": 2, "date": "2026-02-01"})
    assert response.status_code == 200, response.json()
    assert (response.json()["outcome"], response.json()["date"], response.json()["leads"]) == (
        "updated",
        "2026-01-03",
        4,
    )
    assert client.put(f"{RESULTS}{fact.pk}/", {"mqls": 2}).json()["outcome"] == "unchanged"


def test_results_validation_names_fields(api_as, marketer, campaign):
    client = api_as(marketer)
    assert set(client.post(RESULTS, {}).json()) == {"campaign", "date"}
    for change, field in [({"leads": -1}, "leads"), ({"revenue": "-3"}, "revenue"), ({"source": "fax"}, "source")]:
        response = client.post(RESULTS, result_item(campaign, **change))
        assert (response.status_code, set(response.json())) == (400, {field})
    assert not ResultFact.objects.exists()


def test_closed_month_refuses_results_naming_the_date(api_as, marketer, campaign, close_january):
    fact = services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 3), leads=4).fact
    close_january()
    client = api_as(marketer)
    for response in (
        client.post(RESULTS, result_item(campaign)),
        client.patch(f"{RESULTS}{fact.pk}/", {"leads": 5}),
        client.post(RESULTS + "bulk/", [result_item(campaign, date="2026-02-03"), result_item(campaign)]),
    ):
        assert response.status_code == 400
        assert "Jan 2026 is closed" in str(response.json()), response.json()
    assert list(ResultFact.objects.values_list("leads", flat=True)) == [4]


@pytest.mark.parametrize("who", ["cmo", "finance", "ops_admin"])
def test_read_only_roles_read_results_but_cannot_write_them(request, api_as, who, marketer, campaign):
    fact = services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 3), leads=4).fact
    client = api_as(request.getfixturevalue(who))
    assert client.get(f"{RESULTS}{fact.pk}/").json()["leads"] == 4
    assert client.post(RESULTS, result_item(campaign)).status_code == 403
    assert client.patch(f"{RESULTS}{fact.pk}/", {"leads": 5}).status_code == 403
    assert client.post(RESULTS + "bulk/", [result_item(campaign)]).status_code == 403


def test_outsider_gets_404_on_another_teams_results(api_as, marketer, outsider, campaign):
    fact = services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 3), leads=4).fact
    client = api_as(outsider)
    assert client.get(RESULTS).json()["count"] == 0
    assert client.get(f"{RESULTS}{fact.pk}/").status_code == 404
    assert client.patch(f"{RESULTS}{fact.pk}/", {"leads": 5}).status_code == 404
    assert set(client.post(RESULTS, result_item(campaign)).json()) == {"campaign"}


def test_bulk_results_all_or_nothing_then_idempotent(api_as, marketer, campaign, close_january):
    client = api_as(marketer)
    items = [result_item(campaign, date=f"2026-02-{day:02d}", leads=day) for day in range(1, 8)]
    bad = [*items[:3], result_item(campaign, date="2026-01-31"), *items[3:], result_item(campaign, mqls=-1)]
    close_january()
    refused = client.post(RESULTS + "bulk/", bad)
    assert refused.status_code == 400
    assert [(e["index"], list(e["errors"])) for e in refused.json()["errors"]] == [(3, ["date"]), (8, ["mqls"])]
    assert not ResultFact.objects.exists()

    assert client.post(RESULTS + "bulk/", items).json() == {"created": 7, "updated": 0, "unchanged": 0}
    items[0]["leads"] = 100
    assert client.post(RESULTS + "bulk/", items).json() == {"created": 0, "updated": 1, "unchanged": 6}
    assert ResultFact.objects.count() == 7


def test_results_list_filters_and_constant_queries(
    api_as, marketer, campaign, team, paid_search, django_assert_max_num_queries
):
    client = api_as(marketer)
    for total in (10, 40):
        start = ResultFact.objects.count()
        ResultFact.objects.bulk_create(
            ResultFact(campaign=campaign, date=D(2026, 1, 1) + datetime.timedelta(days=n), leads=1, updated_by=marketer)
            for n in range(start, total)
        )
        with django_assert_max_num_queries(3):  # roles, count, page
            assert len(client.get(RESULTS + "?page_size=100").json()["results"]) == total
    assert client.get(f"{RESULTS}?date_from=2026-02-01&date_to=2026-02-05").json()["count"] == 5
    assert client.get(f"{RESULTS}?campaign={campaign.pk}&source=api").json()["count"] == 0
