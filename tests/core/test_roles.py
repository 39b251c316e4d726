import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from mops.roles import Role, has_role, user_roles
from tests.factories import UserFactory


@pytest.mark.django_db
def test_migration_creates_one_group_per_role():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "granted", "withheld"),
    [
        (Role.MARKETER, ["mops.view_team", "planning.view_channel"], ["mops.add_team", "mops.add_fxrate"]),
        (Role.CMO, ["mops.view_auditevent", "mops.view_fxrate"], ["mops.add_fxrate", "mops.change_team"]),
        (Role.FINANCE, ["mops.add_fxrate", "mops.change_fxrate"], ["mops.add_team", "planning.add_channel"]),
        (
            Role.OPS_ADMIN,
            ["mops.add_team", "mops.delete_membership", "planning.add_channel", "workflows.add_workflowtemplate"],
            ["mops.add_auditevent", "workflows.delete_workflowinstance"],
        ),
    ],
)
def test_each_role_has_the_model_permissions_it_needs(role, granted, withheld):
    user = UserFactory(roles=[role])
    for perm in granted:
        assert user.has_perm(perm), perm
    for perm in withheld:
        assert not user.has_perm(perm), perm


@pytest.mark.django_db(transaction=True)
def test_roles_come_back_after_a_flush():
    # A transactional test's flush empties every table; post_migrate re-creates groups and grants.
    user = UserFactory(roles=[Role.FINANCE])
    assert user.has_perm("mops.add_fxrate")


def test_every_app_grant_names_a_real_permission():
    from mops.roles import collect_role_grants

    grants = collect_role_grants()
    assert set(grants) == set(Role.values)
    assert "workflows.view_workflowtemplate" in grants[Role.MARKETER]


@pytest.mark.django_db
def test_a_user_can_hold_several_roles():
    user = UserFactory(roles=[Role.FINANCE, Role.CMO])
    assert user_roles(user) == {"finance", "cmo"}
    assert has_role(user, Role.CMO)
    assert not has_role(user, Role.OPS_ADMIN)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.MARKETER, "campaigns:home"),
        (Role.CMO, "metrics:dashboard"),
        (Role.FINANCE, "budgets:home"),
        (Role.OPS_ADMIN, "mops:ops-home"),
    ],
)
def test_home_sends_each_role_to_its_landing_page(client, role, landing):
    client.force_login(UserFactory(roles=[role]))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(landing)
    assert client.get(response.url, follow=True).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "dashboard"),
    [
        (Role.CMO, "metrics:cmo"),
        (Role.FINANCE, "metrics:finance"),
        (Role.MARKETER, "metrics:marketer"),
        (Role.OPS_ADMIN, "metrics:ops"),
    ],
)
def test_dashboards_send_each_role_to_its_own(client, role, dashboard):
    client.force_login(UserFactory(roles=[role]))
    response = client.get(reverse("metrics:dashboard"))
    assert response.status_code == 302
    assert response.url == reverse(dashboard)


@pytest.mark.django_db
def test_a_user_without_a_role_is_told_to_ask_for_one(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"has no role yet" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.MARKETER, ["Campaigns", "Dashboards"], ["Budgets", "Ops admin", "FX rates"]),
        (Role.FINANCE, ["Budgets", "FX rates", "Dashboards", "Campaigns"], ["Ops admin"]),
        (Role.CMO, ["Campaigns", "Budgets", "Dashboards", "FX rates"], ["Ops admin"]),
        (Role.OPS_ADMIN, ["Ops admin", "FX rates", "Teams", "Campaigns", "Dashboards"], ["Budgets"]),
    ],
)
def test_navigation_shows_each_role_what_it_may_use(client, role, shown, hidden):
    client.force_login(UserFactory(roles=[role]))
    nav = [item.label for item in client.get(reverse("planning:home")).context["nav_items"]]
    assert all(label in nav for label in shown), nav
    assert not any(label in nav for label in hidden), nav


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url_name", "status"),
    [
        (Role.MARKETER, "budgets:home", 403),
        (Role.MARKETER, "mops:ops-home", 403),
        (Role.FINANCE, "campaigns:home", 200),
        (Role.OPS_ADMIN, "metrics:cmo", 403),
        (Role.FINANCE, "metrics:cmo", 403),
        (Role.CMO, "budgets:home", 200),
        (Role.CMO, "campaigns:home", 200),
    ],
)
def test_landing_pages_are_guarded_by_policy(client, role, url_name, status):
    client.force_login(UserFactory(roles=[role]))
    assert client.get(reverse(url_name)).status_code == status
