"""Who may do what in campaigns. Marketers write their own teams' campaigns, spend and results;
the CMO, finance and ops admins read everything; nobody else sees a team's campaigns. A campaign's
files follow the campaign: whoever sees it sees them, whoever edits it adds and deletes them."""

import rules
from django.db.models import Q, QuerySet

from campaigns.models import Campaign, CampaignAttachment, ImportBatch, Program, ResultFact, SpendEntry
from mops.models import Membership
from mops.permissions import is_cmo, is_finance, is_marketer, is_ops_admin, teams_visible_to
from mops.roles import Role

_VIEW = {
    "campaigns.view_program",
    "campaigns.view_campaign",
    "campaigns.view_tactic",
    "campaigns.view_spendentry",
    "campaigns.view_resultfact",
    "campaigns.view_campaignattachment",
}
ROLE_GRANTS = {
    Role.MARKETER: _VIEW
    | {
        "campaigns.add_campaign",
        "campaigns.change_campaign",
        "campaigns.add_tactic",
        "campaigns.change_tactic",
        "campaigns.add_spendentry",
        "campaigns.change_spendentry",
        "campaigns.add_resultfact",
        "campaigns.change_resultfact",
        "campaigns.add_program",
        "campaigns.change_program",
        "campaigns.add_campaignattachment",
        "campaigns.delete_campaignattachment",
    },
    Role.CMO: _VIEW,
    Role.FINANCE: _VIEW,
    Role.OPS_ADMIN: _VIEW,
}

sees_all_campaigns = is_cmo | is_finance | is_ops_admin


@rules.predicate
def is_member_of_campaign_team(user, campaign):
    return campaign is not None and Membership.objects.filter(user=user, team_id=campaign.team_id).exists()


@rules.predicate
def is_member_of_team(user, team):
    return team is not None and Membership.objects.filter(user=user, team=team).exists()


can_view_campaigns = is_marketer | is_cmo | is_finance | is_ops_admin
can_view_campaign = sees_all_campaigns | is_member_of_campaign_team
# Writing a campaign (and its spend, results, tactics, files) needs the marketer role in its team.
can_edit_campaign = is_marketer & is_member_of_campaign_team
can_create_campaign_for = is_marketer & is_member_of_team
can_manage_programs = is_marketer | is_ops_admin


@rules.predicate
def is_member_of_program_team(user, program):
    """A program of no team is every marketer's; a team's program belongs to that team's marketers."""
    return program is not None and (program.team_id is None or is_member_of_team.test(user, program.team))


# Changing a program: ops admins; marketers only their own teams' programs (or programs of no team).
can_edit_program = is_ops_admin | (is_marketer & is_member_of_program_team)


@rules.predicate
def is_no_team(user, team):
    return team is None


# Which team a program may be given: any for ops admins, one's own (or none) for a marketer.
can_give_program_to = is_ops_admin | (is_marketer & (is_no_team | is_member_of_team))
# Uploading an import file; which campaigns its rows may fill is can_edit_campaign, row by row.
can_import = is_marketer


@rules.predicate
def can_edit_attachment(user, attachment):
    return attachment is not None and can_edit_campaign.test(user, attachment.campaign)


def team_ids_of(user):
    return Membership.objects.filter(user=user).values("team_id")


def campaigns_visible_to(user) -> QuerySet:
    if not user.is_authenticated:
        return Campaign.objects.none()
    if sees_all_campaigns(user):
        return Campaign.objects.all()
    return Campaign.objects.filter(team_id__in=team_ids_of(user))


def programs_visible_to(user) -> QuerySet:
    return Program.objects.all() if user.is_authenticated else Program.objects.none()


def programs_usable_by(user) -> QuerySet:
    """Programs a user may name in a body (a campaign's program, an allocation's): their teams'
    and the team-less ones; every program for those who see every team. Another team's program is
    "does not exist" (docs/api.md, "Ids in request bodies")."""
    return programs_visible_to(user).filter(Q(team__isnull=True) | Q(team__in=teams_visible_to(user)))


def spend_visible_to(user) -> QuerySet:
    return SpendEntry.objects.filter(campaign__in=campaigns_visible_to(user))


def results_visible_to(user) -> QuerySet:
    return ResultFact.objects.filter(campaign__in=campaigns_visible_to(user))


def attachments_visible_to(user) -> QuerySet:
    return CampaignAttachment.objects.filter(campaign__in=campaigns_visible_to(user))


def imports_visible_to(user) -> QuerySet:
    """An import is seen by its uploader, ops admins and the CMO."""
    if not user.is_authenticated:
        return ImportBatch.objects.none()
    if is_cmo(user) or is_ops_admin(user):
        return ImportBatch.objects.select_related("uploaded_by")
    return ImportBatch.objects.filter(uploaded_by=user).select_related("uploaded_by")
