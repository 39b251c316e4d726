"""The main navigation: each role sees the areas it may use. The apps' policies decide; the
template only draws the list."""

from dataclasses import dataclass

from django.urls import reverse

from mops import permissions as core


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    badge: int | None = None  # e.g. the number of my tasks; drawn when non-zero


def nav_items(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    from budgets.permissions import can_request_from, can_view_budgets, sees_all_budgets
    from campaigns.permissions import can_view_campaigns
    from metrics.dashboards.permissions import can_view_dashboards
    from metrics.scenarios.permissions import can_plan_scenarios
    from workflows.permissions import can_manage_templates
    from workflows.selectors import my_task_count

    entries = [
        (can_view_dashboards(user), "Dashboards", "metrics:dashboard", None),
        (can_plan_scenarios(user), "Scenarios", "metrics:scenarios", None),
        (True, "Tasks", "workflows:my-tasks", my_task_count(user)),  # one COUNT query per page
        (can_view_campaigns(user), "Campaigns", "campaigns:home", None),
        (can_view_budgets(user), "Budgets", "budgets:home", None),
        (sees_all_budgets(user), "Approvals", "budgets:queue", None),  # finance's approval queue
        (can_request_from(user) and not sees_all_budgets(user), "Budget requests", "budgets:request-list", None),
        (True, "Planning", "planning:home", None),
        (True, "Teams", "mops:team-list", None),
        (core.can_manage_fx_rates(user) or core.is_cmo(user), "FX rates", "mops:fx-list", None),
        (can_manage_templates(user), "Workflows", "workflows:template-list", None),
        (core.is_ops_admin(user), "Ops admin", "mops:ops-home", None),
    ]
    return [NavItem(label, reverse(url_name), badge) for allowed, label, url_name, badge in entries if allowed]


def active_item(items: list[NavItem], path: str) -> NavItem | None:
    """The item whose URL is the longest prefix of ``path`` ("/workflows/templates/x/" is
    Workflows, not Tasks at "/workflows/")."""
    matches = [item for item in items if path.startswith(item.url)]
    return max(matches, key=lambda item: len(item.url), default=None)
