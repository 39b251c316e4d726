"""Who may do what in the core. The pattern every app follows (ARCHITECTURE.md "Who may do what"):

* role predicates (``rules``) that views, the API and services call alike;
* a ``*_visible_to(user)`` queryset beside them, so lists never show what a user may not open.
"""

import rules
from django.db.models import QuerySet

from mops.models import Currency, FxRate, Membership, Team
from mops.roles import Role, has_role

# Model permissions each role holds (Django admin and has_perm); synced by mops.roles.sync_roles.
_VIEW_CORE = {"mops.view_team", "mops.view_membership", "mops.view_currency", "mops.view_fxrate"}
ROLE_GRANTS = {
    Role.MARKETER: _VIEW_CORE,
    Role.CMO: _VIEW_CORE | {"mops.view_auditevent"},
    Role.FINANCE: _VIEW_CORE | {"mops.view_auditevent", "mops.add_fxrate", "mops.change_fxrate"},
    Role.OPS_ADMIN: _VIEW_CORE
    | {
        "mops.view_auditevent",
        "mops.add_team",
        "mops.change_team",
        "mops.add_membership",
        "mops.change_membership",
        "mops.delete_membership",
        "mops.add_currency",
        "mops.change_currency",
        "mops.add_fxrate",
        "mops.change_fxrate",
        # Ops admins manage users and their roles (in Django's admin, as staff).
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        # Log-in lock-outs (django-axes): see them, and unlock by deleting the access attempt.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    },
}


@rules.predicate
def is_marketer(user):
    return has_role(user, Role.MARKETER)


@rules.predicate
def is_cmo(user):
    return has_role(user, Role.CMO)


@rules.predicate
def is_finance(user):
    return has_role(user, Role.FINANCE)


@rules.predicate
def is_ops_admin(user):
    return has_role(user, Role.OPS_ADMIN)


@rules.predicate
def is_team_member(user, team):
    return team is not None and team.memberships.filter(user=user).exists()


@rules.predicate
def is_team_lead(user, team):
    return team is not None and team.memberships.filter(user=user, is_lead=True).exists()


sees_all_teams = is_cmo | is_finance | is_ops_admin

can_manage_teams = is_ops_admin
can_view_team = rules.is_authenticated & (sees_all_teams | is_team_member)
can_manage_fx_rates = is_finance | is_ops_admin
can_view_audit = is_cmo | is_finance | is_ops_admin


def teams_visible_to(user) -> QuerySet[Team]:
    """Every team for the CMO, finance and ops admins; a marketer's own teams otherwise."""
    if not user.is_authenticated:
        return Team.objects.none()
    if sees_all_teams(user):
        return Team.objects.all()
    # A subquery, not a join: a join on memberships would narrow every later Count("memberships").
    return Team.objects.filter(pk__in=Membership.objects.filter(user=user).values("team_id"))


def fx_rates_visible_to(user) -> QuerySet[FxRate]:
    # Exchange rates are reference data: every signed-in user may read them.
    return FxRate.objects.all() if user.is_authenticated else FxRate.objects.none()


def currencies_visible_to(user) -> QuerySet[Currency]:
    return Currency.objects.all() if user.is_authenticated else Currency.objects.none()
