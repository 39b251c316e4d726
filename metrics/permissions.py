"""Who may do what in metrics."""

from mops.permissions import is_cmo, is_finance, is_marketer

can_view_dashboards = is_cmo | is_finance | is_marketer
