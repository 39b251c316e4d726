"""Who may do what in campaigns."""

from mops.permissions import is_cmo, is_marketer

can_view_campaigns = is_marketer | is_cmo
