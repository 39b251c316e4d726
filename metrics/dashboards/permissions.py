"""Who may see which dashboard. Each dashboard is for the roles it serves; what it shows is then scoped
to what the user may see (``metrics.rollups.selectors.scope_of``)."""

from mops.permissions import is_cmo, is_finance, is_marketer, is_ops_admin

can_view_cmo_dashboard = is_cmo
can_view_finance_dashboard = is_finance | is_cmo
can_view_marketer_dashboard = is_marketer
can_view_ops_dashboard = is_ops_admin | is_cmo
can_view_dashboards = (
    can_view_cmo_dashboard | can_view_finance_dashboard | can_view_marketer_dashboard | can_view_ops_dashboard
)
