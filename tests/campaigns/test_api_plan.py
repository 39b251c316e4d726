"""The campaigns API for programs and campaigns — as owner, teammate, outsider, read-only roles and
anonymous; validation bodies; status actions and launch review; query counts."""

import datetime
from decimal import Decimal

import pytest

from campaigns import services
from campaigns.models import Campaign, CampaignStatus, Program, ResultFact, SpendEntry
from mops.models import AuditEvent
from tests.factories import CampaignFactory, ChannelFactory

pytestmark = pytest.mark.django_db

D = datetime.date

PROGRAMS, CAMPAIGNS, SPEND, RESULTS = "/api/v1/programs/", "/api/v1/campaigns/", "/api/v1/spend/", "/api/v1/results/"


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
