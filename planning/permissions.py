"""Who may do what in planning."""

import rules

from mops.permissions import is_ops_admin
from planning.models import Channel, FiscalYear

can_view_planning = rules.is_authenticated
can_manage_taxonomy = is_ops_admin  # channels and other reference data


def channels_visible_to(user):
    # Taxonomy is reference data every signed-in user reads (forms, filters, reports).
    return Channel.objects.all() if user.is_authenticated else Channel.objects.none()


def fiscal_years_visible_to(user):
    return FiscalYear.objects.all() if user.is_authenticated else FiscalYear.objects.none()
