"""Who may see which dashboard and read KPIs. Each dashboard is for the roles it serves; what it shows
is then scoped to what the user may see (``metrics.selectors.scope_of``)."""

import rules

from mops.permissions import is_cmo, is_finance, is_marketer, is_ops_admin

can_view_cmo_dashboard = is_cmo
can_view_finance_dashboard = is_finance | is_cmo
can_view_marketer_dashboard = is_marketer
can_view_ops_dashboard = is_ops_admin | is_cmo
can_view_dashboards = (
    can_view_cmo_dashboard | can_view_finance_dashboard | can_view_marketer_dashboard | can_view_ops_dashboard
)
# KPI reads (API, downloads): scoped by selectors.scope_of to the user's teams for marketers.
can_read_kpis = rules.is_authenticated & (is_cmo | is_finance | is_marketer | is_ops_admin)
can_manage_kpi_definitions = is_ops_admin
# The KPI definition pages (list, detail with its live preview): the roles that read KPIs organisation-wide.
can_view_kpi_definitions = is_cmo | is_finance | is_ops_admin
