"""The main navigation: each role sees the areas it may use. The apps' policies decide; the
template only draws the list."""

from dataclasses import dataclass

from django.urls import reverse

from mops import permissions as core


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    section: str  # the first path segment, to mark the active item


def nav_items(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    from budgets.permissions import can_view_budgets
    from campaigns.permissions import can_view_campaigns
    from metrics.permissions import can_view_dashboards

    entries = [
        (can_view_dashboards(user), "Dashboards", "metrics:dashboard"),
        (can_view_campaigns(user), "Campaigns", "campaigns:home"),
        (can_view_budgets(user), "Budgets", "budgets:home"),
        (True, "Planning", "planning:home"),
        (True, "Teams", "mops:team-list"),
        (core.can_manage_fx_rates(user) or core.is_cmo(user), "FX rates", "mops:fx-list"),
        (core.is_ops_admin(user), "Ops admin", "mops:ops-home"),
    ]
    items = []
    for allowed, label, url_name in entries:
        if allowed:
            url = reverse(url_name)
            items.append(NavItem(label, url, url.strip("/").split("/")[0]))
    return items
