"""Who may do what in budgets. Finance sets envelopes and phasing, approves money (through the
workflow templates), records commitments; marketers ask for money for their teams' campaigns and
see their own teams' lines; the CMO sees everything."""

import rules
from django.db.models import Q, QuerySet

from budgets.models import AllocationRequest, Budget, BudgetLine, Commitment, Transfer
from mops.models import Membership
from mops.permissions import is_cmo, is_finance, is_marketer, is_ops_admin
from mops.roles import Role

_VIEW = {
    "budgets.view_budget",
    "budgets.view_budgetline",
    "budgets.view_allocationrequest",
    "budgets.view_allocation",
    "budgets.view_transfer",
    "budgets.view_commitment",
}
ROLE_GRANTS = {
    Role.MARKETER: _VIEW | {"budgets.add_allocationrequest", "budgets.add_transfer"},
    Role.CMO: _VIEW | {"budgets.view_budgetentry"},
    Role.FINANCE: _VIEW
    | {
        "budgets.view_budgetentry",
        "budgets.add_budget",
        "budgets.change_budget",
        "budgets.add_budgetline",
        "budgets.change_budgetline",
        "budgets.add_budgetentry",
        "budgets.add_transfer",
        "budgets.add_commitment",
        "budgets.change_commitment",
    },
    Role.OPS_ADMIN: set(),
}

sees_all_budgets = is_cmo | is_finance
# The budgets area (pages): finance and the CMO. Marketers ask for money from their campaigns.
can_view_budgets = is_finance | is_cmo
can_manage_budgets = is_finance  # envelopes, lines, phasing, commitments, carry-forward


@rules.predicate
def is_member_of_line_team(user, line):
    return (
        line is not None
        and line.team_id is not None
        and Membership.objects.filter(user=user, team_id=line.team_id).exists()
    )


# A marketer asks for money from a line of their own team (or an untargeted line) for their campaigns.
can_request_from = is_marketer
# A plan's reallocations proposed in one go (metrics' scenarios): finance, the CMO — who reads the
# transfer pages but decides where money goes — and marketers for their own teams' lines.
can_propose_reallocations = can_manage_budgets | is_cmo | is_marketer
# The request pages: marketers (their teams'), finance and the CMO (all).
can_view_requests = is_marketer | sees_all_budgets
# The transfer pages: marketers (their teams' and their own), finance and the CMO (all); finance and
# marketers ask.
can_view_transfers = is_marketer | sees_all_budgets
can_ask_transfer = can_manage_budgets | can_request_from


def _team_ids(user):
    return Membership.objects.filter(user=user).values("team_id")


def lines_visible_to(user) -> QuerySet[BudgetLine]:
    """Every line for the CMO and finance; a marketer's own teams' lines and lines with no team."""
    if not user.is_authenticated or (is_ops_admin(user) and not sees_all_budgets(user)):
        return BudgetLine.objects.none()
    if sees_all_budgets(user):
        return BudgetLine.objects.all()
    return BudgetLine.objects.filter(Q(team__isnull=True) | Q(team_id__in=_team_ids(user)))


def budgets_visible_to(user) -> QuerySet[Budget]:
    visible = user.is_authenticated and (sees_all_budgets(user) or is_marketer(user))
    return Budget.objects.all() if visible else Budget.objects.none()


def requests_visible_to(user) -> QuerySet[AllocationRequest]:
    if not user.is_authenticated:
        return AllocationRequest.objects.none()
    if sees_all_budgets(user):
        return AllocationRequest.objects.all()
    return AllocationRequest.objects.filter(Q(requested_by=user) | Q(team_id__in=_team_ids(user)))


def transfers_visible_to(user) -> QuerySet[Transfer]:
    if not user.is_authenticated:
        return Transfer.objects.none()
    if sees_all_budgets(user):
        return Transfer.objects.all()
    return Transfer.objects.filter(Q(requested_by=user) | Q(team_id__in=_team_ids(user)))


def commitments_visible_to(user) -> QuerySet[Commitment]:
    if not user.is_authenticated:
        return Commitment.objects.none()
    if sees_all_budgets(user):
        return Commitment.objects.all()
    return Commitment.objects.filter(line__in=lines_visible_to(user))
