"""Reads of campaign data shared by pages, the API and dashboards."""

from django.db.models import Prefetch

from mops.models import Membership
from mops.permissions import teams_visible_to


def landing_teams(*, user):
    """Teams for the campaigns landing page: the user's own, or every visible team for someone
    (the CMO) who belongs to none."""
    members = Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("user__username"))
    own = teams_visible_to(user).filter(memberships__user=user)
    teams = own if own.exists() else teams_visible_to(user)
    return teams.prefetch_related(members).order_by("name")
