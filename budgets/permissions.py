"""Who may do what in budgets."""

from mops.permissions import is_cmo, is_finance

can_view_budgets = is_finance | is_cmo
