"""The campaigns API: programs, campaigns, spend, results — as owner, teammate, outsider, read-only
roles and anonymous; validation bodies; closed months; all-or-nothing bulk posts; query counts."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns import services
from campaigns.models import Campaign, CampaignStatus, ImportBatch, Program, ResultFact, SpendEntry
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period
from tests.factories import CampaignFactory, ChannelFactory

pytestmark = pytest.mark.django_db
D = datetime.date

PROGRAMS, CAMPAIGNS, SPEND, RESULTS = "/api/v1/programs/", "/api/v1/campaigns/", "/api/v1/spend/", "/api/v1/results/"


@pytest.fixture
def other_campaign(other_team, outsider, paid_search, fiscal_2026):
    """A campaign of another team (charlie's): invisible to alice and bob."""
    return CampaignFactory(
        name="EMEA roadshow", code="emea-roadshow", team=other_team, owner=outsider, channel=paid_search
    )


@pytest.fixture
def close_january(finance, fiscal_2026):
    def close():
        planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 1, 1)))

    return close


def spend_item(campaign, /, **overrides):
    return {"campaign": campaign.pk, "date": "2026-01-10", "amount": "100.00", "currency": "USD", **overrides}


# --- anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", PROGRAMS),
        ("post", PROGRAMS),
        ("get", CAMPAIGNS),
        ("post", CAMPAIGNS),
        ("get", SPEND),
        ("post", SPEND),
        ("post", SPEND + "bulk/"),
        ("get", RESULTS),
        ("post", RESULTS),
        ("post", RESULTS + "bulk/"),
    ],
)
def test_anonymous_calls_are_401(api, method, url):
    assert getattr(api, method)(url, {}).status_code == 401


def test_anonymous_detail_calls_are_401(api, campaign):
    assert api.get(f"{CAMPAIGNS}{campaign.pk}/").status_code == 401
    assert api.post(f"{CAMPAIGNS}{campaign.pk}/status/", {"status": "live"}).status_code == 401


# --- programs -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["marketer", "outsider", "cmo", "finance", "ops_admin"])
def test_everyone_signed_in_reads_programs(request, api_as, who):
    Program.objects.create(name="Enterprise ABM", code="enterprise-abm")
    response = api_as(request.getfixturevalue(who)).get(PROGRAMS)
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["results"]] == ["enterprise-abm"]


@pytest.mark.parametrize("who", ["marketer", "ops_admin"])
def test_marketers_and_ops_admins_create_and_change_programs_audited(request, api_as, who, team):
    client = api_as(request.getfixturevalue(who))
    created = client.post(PROGRAMS, {"name": "Q3 Enterprise ABM", "team": team.pk})
    assert created.status_code == 201, created.json()
    assert (created.json()["code"], created.json()["team"]) == ("q3-enterprise-abm", team.pk)
    changed = client.patch(f"{PROGRAMS}{created.json()['id']}/", {"is_active": False})
    assert changed.status_code == 200
    assert Program.objects.get().is_active is False
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "program.create",
        "program.update",
    ]


@pytest.mark.parametrize("who", ["cmo", "finance"])
def test_read_only_roles_cannot_write_programs(request, api_as, who):
    program = Program.objects.create(name="Brand", code="brand")
    client = api_as(request.getfixturevalue(who))
    assert client.post(PROGRAMS, {"name": "Mine"}).status_code == 403
    assert client.patch(f"{PROGRAMS}{program.pk}/", {"name": "Theirs"}).status_code == 403
    assert Program.objects.get().name == "Brand"


def test_program_validation_names_fields(api_as, marketer):
    Program.objects.create(name="Brand", code="brand")
    client = api_as(marketer)
    assert set(client.post(PROGRAMS, {}).json()) == {"name"}
    assert set(client.post(PROGRAMS, {"name": "Brand"}).json()) == {"code"}  # the defaulted code is taken


def test_program_list_queries_do_not_grow_with_rows(api_as, marketer, django_assert_max_num_queries):
    client = api_as(marketer)
    for total in (10, 40):
        Program.objects.bulk_create(
            Program(name=f"Program {n}", code=f"program-{n}") for n in range(Program.objects.count(), total)
        )
        with django_assert_max_num_queries(2):  # count, page
            assert len(client.get(PROGRAMS + "?page_size=100").json()["results"]) == total


# --- campaigns: reading ---------------------------------------------------------------------


def test_marketers_list_their_teams_campaigns_only(api_as, marketer, outsider, campaign, other_campaign):
    assert [c["code"] for c in api_as(marketer).get(CAMPAIGNS).json()["results"]] == ["spring-webinars"]
    assert [c["code"] for c in api_as(outsider).get(CAMPAIGNS).json()["results"]] == ["emea-roadshow"]


@pytest.mark.parametrize("who", ["cmo", "finance", "ops_admin"])
def test_read_only_roles_see_every_campaign(request, api_as, who, campaign, other_campaign):
    response = api_as(request.getfixturevalue(who)).get(CAMPAIGNS + "?ordering=code")
    assert [c["code"] for c in response.json()["results"]] == ["emea-roadshow", "spring-webinars"]
    assert api_as(request.getfixturevalue(who)).get(f"{CAMPAIGNS}{campaign.pk}/").status_code == 200


@pytest.mark.parametrize("who, status", [("marketer", 200), ("teammate", 200), ("outsider", 404)])
def test_campaign_detail_by_who(request, api_as, who, status, campaign):
    assert api_as(request.getfixturevalue(who)).get(f"{CAMPAIGNS}{campaign.pk}/").status_code == status


def test_campaign_detail_carries_totals_as_decimal_strings(api_as, marketer, campaign, eur_rate):
    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal("100"), currency="EUR")
    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 6), amount=Decimal("40.5"), currency="USD")
    services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), leads=12, pipeline=Decimal("5000"))
    services.results_log(
        actor=marketer, campaign=campaign, date=D(2026, 1, 5), source="google_ads", leads=3, revenue=Decimal("900")
    )
    body = api_as(marketer).get(f"{CAMPAIGNS}{campaign.pk}/").json()
    assert body["totals"] == {"spend_base": "150.50", "leads": 15, "pipeline": "5000.00", "revenue": "900.00"}
    assert (body["planned_cost"], body["currency"], body["status"]) == ("10000.00", "USD", "planned")


def test_campaign_without_facts_has_zero_totals(api_as, marketer, campaign):
    body = api_as(marketer).get(f"{CAMPAIGNS}{campaign.pk}/").json()
    assert body["totals"] == {"spend_base": "0.00", "leads": 0, "pipeline": "0.00", "revenue": "0.00"}


def test_campaign_filters_search_and_ordering(api_as, cmo, team, other_team, marketer, outsider, paid_search):
    email = ChannelFactory(name="Email", slug="email", group="owned")
    CampaignFactory(code="jan", name="January push", team=team, owner=marketer, channel=paid_search,
                    start_date=D(2026, 1, 1), end_date=D(2026, 1, 31), status="completed")  # fmt: skip
    CampaignFactory(code="feb", name="February nurture", team=team, owner=marketer, channel=email,
                    start_date=D(2026, 2, 1), end_date=D(2026, 2, 28), status="live")  # fmt: skip
    CampaignFactory(code="mar", name="March summit", team=other_team, owner=outsider, channel=paid_search,
                    start_date=D(2026, 3, 1), end_date=D(2026, 3, 31), status="planned")  # fmt: skip
    client = api_as(cmo)

    def codes(query):
        response = client.get(f"{CAMPAIGNS}?{query}")
        assert response.status_code == 200, response.json()
        return [c["code"] for c in response.json()["results"]]

    assert codes(f"team={team.pk}&ordering=start_date") == ["jan", "feb"]
    assert codes("team_slug=emea") == ["mar"]
    assert codes(f"channel={email.pk}") == ["feb"]
    assert codes("status=live&status=planned&ordering=code") == ["feb", "mar"]
    assert codes(f"owner={outsider.pk}") == ["mar"]
    assert codes("date_from=2026-01-15&date_to=2026-02-10&ordering=code") == ["feb", "jan"]  # overlapping
    assert codes("start_date__gte=2026-02-01&ordering=-start_date") == ["mar", "feb"]
    assert codes("search=summit") == ["mar"]
    assert client.get(f"{CAMPAIGNS}?status=nonsense").status_code == 400


def test_campaign_list_queries_do_not_grow_with_rows(
    api_as, marketer, team, paid_search, django_assert_max_num_queries
):
    def add(count):
        for _ in range(count):
            campaign = CampaignFactory(team=team, owner=marketer, channel=paid_search)
            SpendEntry.objects.create(campaign=campaign, date=D(2026, 1, 2), amount=1, currency="USD", amount_base=1)
            ResultFact.objects.create(campaign=campaign, date=D(2026, 1, 2), leads=2)

    client = api_as(marketer)
    for total in (10, 40):
        add(total - Campaign.objects.count())
        with django_assert_max_num_queries(3):  # roles, count, page (totals are subqueries)
            response = client.get(CAMPAIGNS + "?page_size=100")
        assert len(response.json()["results"]) == total
        assert response.json()["results"][0]["totals"]["leads"] == 2


# --- campaigns: writing ---------------------------------------------------------------------


def new_campaign(team, channel, /, **overrides):
    return {
        "name": "Summer webinar",
        "team": team.pk,
        "channel": channel.pk,
        "start_date": "2026-06-01",
        "end_date": "2026-06-30",
        "planned_cost": "12000.00",
        **overrides,
    }


def test_marketer_creates_a_campaign_for_their_team(api_as, marketer, team, paid_search, fiscal_2026):
    response = api_as(marketer).post(CAMPAIGNS, new_campaign(team, paid_search))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["code"], body["status"], body["owner"], body["currency"]) == (
        "summer-webinar",
        "draft",
        marketer.pk,
        "USD",
    )
    assert (body["planned_cost_base"], body["totals"]["spend_base"]) == ("12000.00", "0.00")
    assert AuditEvent.objects.filter(action="campaign.create", object_id=str(body["id"])).exists()


def test_campaign_in_another_currency_is_converted(api_as, marketer, team, paid_search, eur_rate):
    body = api_as(marketer).post(CAMPAIGNS, new_campaign(team, paid_search, currency="eur")).json()
    assert (body["currency"], body["planned_cost_base"]) == ("EUR", "13200.00")


def test_creating_for_another_team_is_400_does_not_exist(api_as, outsider, team, paid_search):
    # The policy for ids in bodies (docs/api.md): another team is one the outsider cannot see.
    response = api_as(outsider).post(CAMPAIGNS, new_campaign(team, paid_search))
    assert response.status_code == 400
    assert response.json() == {"team": [f'Invalid pk "{team.pk}" - object does not exist.']}
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("who", ["cmo", "finance", "ops_admin"])
def test_read_only_roles_cannot_create_campaigns(request, api_as, who, team, paid_search):
    assert api_as(request.getfixturevalue(who)).post(CAMPAIGNS, new_campaign(team, paid_search)).status_code == 403


def test_campaign_validation_names_fields(api_as, marketer, team, paid_search, campaign):
    client = api_as(marketer)
    assert set(client.post(CAMPAIGNS, {}).json()) == {"name", "team", "channel", "start_date", "end_date"}
    cases = [
        ({"end_date": "2026-05-01"}, "end_date"),
        ({"currency": "XYZ"}, "currency"),
        ({"planned_cost": "-1"}, "planned_cost"),
        ({"code": "spring-webinars"}, "code"),
        ({"name": "Spring webinars"}, "code"),  # the code defaulted from the name is taken: the service says so
        ({"channel": 999999}, "channel"),
        ({"currency": "GBP"}, "planned_cost"),  # no GBP rate to convert the planned cost
    ]
    for change, field in cases:
        response = client.post(CAMPAIGNS, new_campaign(team, paid_search, **change))
        assert (response.status_code, field in response.json()) == (400, True), (change, response.json())
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize("who", ["marketer", "teammate"])
def test_owner_and_teammate_update_a_campaign(request, api_as, who, campaign):
    client = api_as(request.getfixturevalue(who))
    response = client.patch(f"{CAMPAIGNS}{campaign.pk}/", {"name": "Spring webinars (2)", "planned_cost": "9000"})
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["planned_cost_base"]) == ("Spring webinars (2)", "9000.00")
    event = AuditEvent.objects.get(action="campaign.update")
    assert (event.before["name"], event.after["name"]) == ("Spring webinar series", "Spring webinars (2)")


def test_put_replaces_the_campaign(api_as, marketer, campaign, team, paid_search):
    response = api_as(marketer).put(f"{CAMPAIGNS}{campaign.pk}/", new_campaign(team, paid_search, code="summer"))
    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert (campaign.name, campaign.code, campaign.start_date) == ("Summer webinar", "summer", D(2026, 6, 1))


def test_status_cannot_be_set_by_update(api_as, marketer, campaign):
    api_as(marketer).patch(f"{CAMPAIGNS}{campaign.pk}/", {"status": "live"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PLANNED


def test_outsider_gets_404_on_another_teams_campaign(api_as, outsider, campaign):
    client = api_as(outsider)
    assert client.patch(f"{CAMPAIGNS}{campaign.pk}/", {"name": "Mine"}).status_code == 404
    assert client.post(f"{CAMPAIGNS}{campaign.pk}/status/", {"status": "live"}).status_code == 404
    assert client.post(f"{CAMPAIGNS}{campaign.pk}/submit-for-launch/").status_code == 404


@pytest.mark.parametrize("who", ["cmo", "finance"])
def test_read_only_roles_cannot_change_a_campaign(request, api_as, who, campaign):
    client = api_as(request.getfixturevalue(who))
    assert client.patch(f"{CAMPAIGNS}{campaign.pk}/", {"name": "Mine"}).status_code == 403
    assert client.post(f"{CAMPAIGNS}{campaign.pk}/status/", {"status": "live"}).status_code == 403
    assert client.post(f"{CAMPAIGNS}{campaign.pk}/submit-for-launch/").status_code == 403
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Spring webinar series", "planned")


def test_campaigns_are_never_deleted_only_cancelled(api_as, marketer, campaign):
    client = api_as(marketer)
    assert client.delete(f"{CAMPAIGNS}{campaign.pk}/").status_code == 405
    response = client.post(f"{CAMPAIGNS}{campaign.pk}/status/", {"status": "cancelled"})
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")


def test_status_action_follows_the_transition_table(api_as, teammate, campaign):
    client = api_as(teammate)
    response = client.post(f"{CAMPAIGNS}{campaign.pk}/status/", {"status": "live"})  # no launch template: direct
    assert (response.status_code, response.json()["status"]) == (200, "live")
    refused = client.post(f"{CAMPAIGNS}{campaign.pk}/status/", {"status": "draft"})
    assert refused.status_code == 400
    assert refused.json() == {"status": ["A live campaign cannot become draft."]}
    assert client.post(f"{CAMPAIGNS}{campaign.pk}/status/", {"status": "paused"}).json().keys() == {"status"}
    assert AuditEvent.objects.filter(action="campaign.status").count() == 1


def test_submit_for_launch_starts_the_workflow(api_as, marketer, ops_admin, lead, campaign):
    from tests.workflows.conftest import step
    from workflows import services as wf

    client = api_as(marketer)
    without_template = client.post(f"{CAMPAIGNS}{campaign.pk}/submit-for-launch/")
    assert without_template.status_code == 400
    assert "no active" in str(without_template.json())
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PLANNED  # rolled back with the failed start

    wf.template_create(
        actor=ops_admin,
        name="Launch",
        subject_type="campaign_launch",
        steps=[step("Lead approval", stage=1, assignee_type="team_lead")],
    )
    response = client.post(f"{CAMPAIGNS}{campaign.pk}/submit-for-launch/")
    assert response.status_code == 200, response.json()
    assert response.json()["campaign"]["status"] == "in_launch_review"
    assert response.json()["workflow_instance"]
    again = client.post(f"{CAMPAIGNS}{campaign.pk}/submit-for-launch/")
    assert again.json() == {"status": ["Only a planned campaign can be submitted for launch."]}


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


# --- imports --------------------------------------------------------------------------------

IMPORTS = "/api/v1/imports/"
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload_file(client, name="google_ads_ui_export.csv", **fields):
    file = SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type="text/csv")
    return client.post(IMPORTS, {"file": file, **fields}, format="multipart")


def test_anonymous_import_calls_are_401(api, media):
    assert api.get(IMPORTS).status_code == 401
    assert upload_file(api).status_code == 401


def test_upload_map_start_and_follow_an_import(api_as, marketer, campaign, media, django_capture_on_commit_callbacks):
    client = api_as(marketer)
    uploaded = upload_file(client)
    assert uploaded.status_code == 201, uploaded.json()
    body = uploaded.json()
    assert (body["status"], body["format"], body["rows_total"], body["unknown_campaigns"]) == (
        "uploaded",
        "google_ads",
        5,
        ["Brand US"],
    )
    url = f"{IMPORTS}{body['id']}/"
    refused = client.post(url + "start/")
    assert (refused.status_code, "Brand US" in str(refused.json())) == (400, True)

    mapped = client.post(url + "map/", {"mapping": {"Brand US": campaign.pk}})
    assert (mapped.status_code, mapped.json()["unknown_campaigns"]) == (200, [])
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url + "start/")
    assert (started.status_code, started.json()["status"]) == (202, "queued")

    done = client.get(url).json()
    assert (done["status"], done["rows_done"], done["rows_total"]) == ("done", 5, 5)
    assert (done["rows_created"], done["rows_rejected"], done["errors"]) == (5, 0, [])
    spend = SpendEntry.objects.filter(campaign=campaign, source="google_ads")  # both names → one row per day
    assert (spend.count(), sum(e.amount for e in spend)) == (3, Decimal("2732.61"))


def test_mapping_to_null_skips_a_campaigns_rows(api_as, marketer, campaign, media):
    client = api_as(marketer)
    batch = upload_file(client).json()
    mapped = client.post(f"{IMPORTS}{batch['id']}/map/", {"mapping": {"Brand US": None}})
    assert mapped.status_code == 200, mapped.json()
    assert mapped.json()["unknown_campaigns"] == []
    assert mapped.json()["errors"][0]["ref"] == "Brand US"


def test_import_validation_names_fields(api_as, marketer, campaign, other_campaign, media):
    client = api_as(marketer)
    assert set(client.post(IMPORTS, {}, format="multipart").json()) == {"file"}
    assert set(upload_file(client, "empty.csv").json()) == {"file"}
    assert set(upload_file(client, commit_mode="maybe").json()) == {"commit_mode"}
    assert "LinkedIn" in str(upload_file(client, format="linkedin_ads").json()["file"])
    batch = upload_file(client).json()
    unknown = client.post(f"{IMPORTS}{batch['id']}/map/", {"mapping": {"Brand US": other_campaign.pk}})
    assert unknown.json() == {"mapping": [f"There is no campaign {other_campaign.pk}."]}  # not one alice sees
    stranger = client.post(f"{IMPORTS}{batch['id']}/map/", {"mapping": {"Nope": campaign.pk}})
    assert stranger.status_code == 400
    assert not ImportBatch.objects.exclude(unknown_campaigns=["Brand US"]).exists()


def test_imports_are_seen_by_their_uploader_the_cmo_and_ops_admins(
    api_as, marketer, teammate, finance, cmo, ops_admin, campaign, media
):
    batch = upload_file(api_as(marketer)).json()
    url = f"{IMPORTS}{batch['id']}/"
    for user, sees in [(marketer, True), (cmo, True), (ops_admin, True), (teammate, False), (finance, False)]:
        client = api_as(user)
        assert client.get(IMPORTS).json()["count"] == int(sees), user
        assert client.get(url).status_code == (200 if sees else 404), user
    for user in (cmo, ops_admin):  # they see it; only the uploader maps and starts it
        assert api_as(user).post(url + "map/", {"mapping": {"Brand US": campaign.pk}}).status_code == 403
        assert api_as(user).post(url + "start/").status_code == 403
    assert api_as(teammate).post(url + "start/").status_code == 404


@pytest.mark.parametrize("who", ["cmo", "finance", "ops_admin"])
def test_only_marketers_upload(request, api_as, who, media):
    assert upload_file(api_as(request.getfixturevalue(who))).status_code == 403
    assert not ImportBatch.objects.exists()


def test_import_list_queries_do_not_grow_with_rows(api_as, marketer, media, django_assert_max_num_queries):
    client = api_as(marketer)
    for total in (10, 40):
        ImportBatch.objects.bulk_create(
            ImportBatch(filename=f"f{n}.csv", file_sha256="0" * 64, format="generic", uploaded_by=marketer)
            for n in range(ImportBatch.objects.count(), total)
        )
        with django_assert_max_num_queries(3):  # roles, count, page
            assert len(client.get(IMPORTS + "?page_size=100").json()["results"]) == total
