"""Who may do what in planning."""

import rules

from mops.permissions import is_cmo, is_finance, is_ops_admin
from mops.roles import Role
from planning.models import Channel, FiscalYear, Objective, Period, Region, Segment

_VIEW = {
    "planning.view_fiscalyear",
    "planning.view_period",
    "planning.view_channel",
    "planning.view_region",
    "planning.view_segment",
    "planning.view_objective",
    "planning.view_kpitarget",
}
ROLE_GRANTS = {
    Role.MARKETER: _VIEW,
    Role.CMO: _VIEW
    | {"planning.add_objective", "planning.change_objective", "planning.add_kpitarget", "planning.change_kpitarget"},
    Role.FINANCE: _VIEW | {"planning.add_fiscalyear", "planning.change_fiscalyear", "planning.change_period"},
    Role.OPS_ADMIN: _VIEW
    | {
        "planning.add_channel",
        "planning.change_channel",
        "planning.add_region",
        "planning.change_region",
        "planning.add_segment",
        "planning.change_segment",
        "planning.add_objective",
        "planning.change_objective",
        "planning.add_kpitarget",
        "planning.change_kpitarget",
    },
}

can_view_planning = rules.is_authenticated
can_manage_taxonomy = is_ops_admin  # channels, regions, segments
can_close_periods = is_finance  # close and reopen months
can_manage_objectives = is_cmo | is_ops_admin  # objectives and their KPI targets


def channels_visible_to(user):
    # Taxonomy is reference data every signed-in user reads (forms, filters, reports).
    return Channel.objects.all() if user.is_authenticated else Channel.objects.none()


def fiscal_years_visible_to(user):
    return FiscalYear.objects.all() if user.is_authenticated else FiscalYear.objects.none()


def periods_visible_to(user):
    return Period.objects.select_related("fiscal_year") if user.is_authenticated else Period.objects.none()


def regions_visible_to(user):
    return Region.objects.all() if user.is_authenticated else Region.objects.none()


def segments_visible_to(user):
    return Segment.objects.all() if user.is_authenticated else Segment.objects.none()


def objectives_visible_to(user):
    # Objectives steer everyone's plans: every signed-in user reads them.
    return Objective.objects.all() if user.is_authenticated else Objective.objects.none()
