"""Who may do what in planning."""

import rules

from mops.permissions import is_ops_admin
from mops.roles import Role
from planning.models import Channel, FiscalYear

_VIEW = {"planning.view_fiscalyear", "planning.view_channel"}
ROLE_GRANTS = {
    Role.MARKETER: _VIEW,
    Role.CMO: _VIEW,
    Role.FINANCE: _VIEW | {"planning.add_fiscalyear", "planning.change_fiscalyear"},
    Role.OPS_ADMIN: _VIEW | {"planning.add_channel", "planning.change_channel"},
}

can_view_planning = rules.is_authenticated
can_manage_taxonomy = is_ops_admin  # channels and other reference data


def channels_visible_to(user):
    # Taxonomy is reference data every signed-in user reads (forms, filters, reports).
    return Channel.objects.all() if user.is_authenticated else Channel.objects.none()


def fiscal_years_visible_to(user):
    return FiscalYear.objects.all() if user.is_authenticated else FiscalYear.objects.none()
