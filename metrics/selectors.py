"""Reads for dashboards. Dashboards read rollups only (ARCHITECTURE.md "Dashboards")."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count

from mops.models import Team
from mops.roles import Role
from planning.models import Channel, ChannelGroup


@dataclass(frozen=True)
class OrganisationOverview:
    teams: int
    people_by_role: list[tuple[str, int]]
    channels_by_group: list[tuple[str, int]]


def organisation_overview() -> OrganisationOverview:
    """Three aggregate queries, whatever the size of the organisation."""
    role_counts = dict(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=Role.values)
        .values_list("groups__name")
        .annotate(n=Count("id", distinct=True))
    )
    group_counts = dict(Channel.objects.filter(is_active=True).values_list("group").annotate(n=Count("id")))
    return OrganisationOverview(
        teams=Team.objects.filter(is_active=True).count(),
        people_by_role=[(role.label, role_counts.get(role.value, 0)) for role in Role],
        channels_by_group=[(group.label, group_counts.get(group.value, 0)) for group in ChannelGroup],
    )
