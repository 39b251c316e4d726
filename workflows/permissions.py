"""Who may do what in workflows."""

from mops.permissions import is_ops_admin

can_manage_templates = is_ops_admin
