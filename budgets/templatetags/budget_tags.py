"""The campaign page's budget section: its allocations by month and line, its open requests and,
for its team's marketers, the "Request budget" link. Lives here so campaigns never import budgets."""

from django import template

from budgets.permissions import can_request_from
from budgets.requests import selectors as request_selectors
from campaigns.permissions import can_edit_campaign

register = template.Library()


@register.inclusion_tag("budgets/requests/_campaign_budget.html", takes_context=True)
def campaign_budget(context, campaign):
    user = context["request"].user
    return {
        "campaign": campaign,
        "allocations": list(request_selectors.campaign_allocations(campaign)),
        "pending": list(request_selectors.campaign_pending_requests(campaign)),
        "can_request": can_request_from(user) and can_edit_campaign(user, campaign),
        "base_currency": context.get("base_currency", ""),
    }
