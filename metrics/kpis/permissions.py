"""Who may read KPIs and define custom ones."""

import rules

from mops.permissions import is_cmo, is_finance, is_marketer, is_ops_admin

# KPI reads (API, downloads): scoped by selectors.scope_of to the user's teams for marketers.
can_read_kpis = rules.is_authenticated & (is_cmo | is_finance | is_marketer | is_ops_admin)
can_manage_kpi_definitions = is_ops_admin
# The KPI definition pages (list, detail with its live preview): the roles that read KPIs organisation-wide.
can_view_kpi_definitions = is_cmo | is_finance | is_ops_admin
