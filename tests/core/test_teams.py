"""The per-app permission pattern, end to end: one policy used by the page, the API and the service."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mops import services
from mops.models import AuditEvent, Membership, Team
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- service --------------------------------------------------------------------------------
def test_service_lets_ops_admins_create_teams(ops_admin):
    team = services.team_create(actor=ops_admin, name="Partner Marketing")
    assert team.slug == "partner-marketing"


@pytest.mark.parametrize("who", ["marketer", "cmo", "finance"])
def test_service_refuses_everyone_else(request, who):
    with pytest.raises(PermissionDenied, match="Only ops admins"):
        services.team_create(actor=request.getfixturevalue(who), name="Rogue")
    assert not Team.objects.filter(name="Rogue").exists()


def test_membership_set_and_remove_are_audited(ops_admin, team):
    user = UserFactory()
    services.membership_set(actor=ops_admin, team=team, user=user)
    membership = services.membership_set(actor=ops_admin, team=team, user=user, is_lead=True)
    assert Membership.objects.get(team=team, user=user).is_lead
    services.membership_remove(actor=ops_admin, membership=membership)
    assert not Membership.objects.filter(team=team, user=user).exists()
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "membership.set",
        "membership.set",
        "membership.remove",
    ]


# --- page -----------------------------------------------------------------------------------
def test_marketer_sees_only_their_own_teams(client, marketer, other_team):
    client.force_login(marketer)
    names = [team.name for team in client.get(reverse("mops:team-list")).context["page"]]
    assert names == ["North America"]


def test_outsider_gets_404_for_another_teams_page(client, outsider, team):
    client.force_login(outsider)
    assert client.get(reverse("mops:team-detail", args=[team.slug])).status_code == 404


def test_teammate_sees_the_team_page_without_edit_forms(client, teammate, marketer, team):
    client.force_login(teammate)
    response = client.get(reverse("mops:team-detail", args=[team.slug]))
    assert response.status_code == 200
    assert response.context["member_form"] is None
    assert b"alice" in response.content


def test_cmo_sees_every_team(client, cmo, team, other_team):
    client.force_login(cmo)
    assert len(client.get(reverse("mops:team-list")).context["page"]) == 2


def test_ops_admin_creates_a_team_on_the_page(client, ops_admin):
    client.force_login(ops_admin)
    response = client.post(reverse("mops:team-list"), {"name": "Field Events", "slug": "", "description": ""})
    assert response.status_code == 302
    assert response.url == reverse("mops:team-detail", args=["field-events"])


def test_duplicate_team_name_is_a_form_error(client, ops_admin, team):
    client.force_login(ops_admin)
    response = client.post(reverse("mops:team-list"), {"name": "North America", "slug": "na2"})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors


def test_marketer_cannot_post_to_team_pages(client, marketer, team):
    client.force_login(marketer)
    assert client.post(reverse("mops:team-list"), {"name": "Rogue"}).status_code == 403
    assert client.post(reverse("mops:team-detail", args=[team.slug]), {"member-user": marketer.pk}).status_code == 403
    assert not Team.objects.filter(name="Rogue").exists()


def test_ops_admin_adds_a_lead_and_removes_a_member(client, ops_admin, team, marketer):
    client.force_login(ops_admin)
    newcomer = UserFactory(username="dana")
    response = client.post(
        reverse("mops:team-detail", args=[team.slug]), {"member-user": newcomer.pk, "member-is_lead": "on"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(team=team, user=newcomer).is_lead
    membership = Membership.objects.get(team=team, user=marketer)
    client.post(reverse("mops:membership-remove", args=[team.slug, membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_team_list_query_count_does_not_grow_with_teams(client, cmo, django_assert_max_num_queries):
    client.force_login(cmo)
    for index in range(30):
        team = TeamFactory()
        UserFactory(teams=[team]) if index % 2 else None
    with django_assert_max_num_queries(8):
        assert client.get(reverse("mops:team-list")).status_code == 200


# --- API ------------------------------------------------------------------------------------
def test_api_lists_only_visible_teams_with_all_their_members_counted(api_as, marketer, teammate, other_team):
    body = api_as(marketer).get("/api/v1/teams/").json()
    assert [team["slug"] for team in body["results"]] == ["na"]
    assert body["results"][0]["member_count"] == 2  # alice and bob, not only the one asking


def test_api_outsider_gets_404_for_another_team(api_as, outsider, team):
    assert api_as(outsider).get(f"/api/v1/teams/{team.slug}/").status_code == 404


def test_api_ops_admin_creates_and_renames(api_as, ops_admin):
    client = api_as(ops_admin)
    created = client.post("/api/v1/teams/", {"name": "Growth"})
    assert created.status_code == 201, created.json()
    assert created.json()["slug"] == "growth"
    patched = client.patch("/api/v1/teams/growth/", {"description": "PLG"})
    assert patched.status_code == 200
    assert Team.objects.get(slug="growth").description == "PLG"


def test_api_validation_errors_name_the_field(api_as, ops_admin, team):
    response = api_as(ops_admin).post("/api/v1/teams/", {"name": "North America"})
    assert response.status_code == 400
    assert "name" in response.json()


@pytest.mark.parametrize("who", ["marketer", "cmo", "finance"])
def test_api_refuses_writes_to_non_admins(request, api_as, who, team):
    client = api_as(request.getfixturevalue(who))
    assert client.post("/api/v1/teams/", {"name": "Rogue"}).status_code == 403
    assert client.patch(f"/api/v1/teams/{team.slug}/", {"name": "Renamed"}).status_code == 403
