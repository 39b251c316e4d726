"""The main navigation is assembled from the entries the apps register at start-up (the core imports
no area: tests/core/test_import_contract.py); each role sees its entries in one fixed order."""

import pytest
from django.urls import reverse

from mops import navigation
from mops.roles import Role
from tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "bar"),
    [
        (Role.MARKETER, ["Dashboards", "Scenarios", "Tasks", "Campaigns", "Budget requests", "Planning", "Teams"]),
        (
            Role.FINANCE,
            ["Dashboards", "Scenarios", "Tasks", "Campaigns", "Budgets", "Approvals", "Planning", "Teams", "FX rates"],
        ),
        (
            Role.CMO,
            ["Dashboards", "Scenarios", "Tasks", "Campaigns", "Budgets", "Approvals", "Planning", "Teams", "FX rates"],
        ),
        (
            Role.OPS_ADMIN,
            ["Dashboards", "Tasks", "Campaigns", "Planning", "Teams", "FX rates", "Workflows", "Ops admin"],
        ),
    ],
)
def test_each_role_sees_its_entries_in_the_bar_order(client, role, bar):
    client.force_login(UserFactory(roles=[role]))
    items = client.get(reverse("planning:home")).context["nav_items"]
    assert [item.label for item in items] == bar
    assert all(item.url.startswith("/") for item in items)


def test_every_area_registered_its_entries_once_in_position_order():
    positions = [entry.position for entry in navigation.entries()]
    assert positions == sorted(set(positions))  # no two entries share a place in the bar
    assert {entry.url_name.partition(":")[0] for entry in navigation.entries()} == {
        "metrics",
        "workflows",
        "campaigns",
        "budgets",
        "planning",
        "mops",
    }


def test_an_entry_registered_again_replaces_the_first(monkeypatch):
    monkeypatch.setattr(navigation, "_ENTRIES", dict(navigation._ENTRIES))
    before = len(navigation.entries())
    navigation.register(navigation.MenuEntry(85, "Plans", "planning:home"))
    assert len(navigation.entries()) == before
    assert [entry.label for entry in navigation.entries() if entry.url_name == "planning:home"] == ["Plans"]


def test_an_anonymous_visitor_gets_no_menu():
    from django.contrib.auth.models import AnonymousUser

    assert navigation.nav_items(AnonymousUser()) == []
