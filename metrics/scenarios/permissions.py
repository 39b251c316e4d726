"""Who may fit response models and plan scenarios (issue 7), and the querysets of what each user sees."""

import rules
from django.db.models import QuerySet

from metrics.scenarios.models import ResponseModel, Scenario
from mops.models import Membership
from mops.permissions import is_cmo, is_finance, is_marketer

# Response models, scenarios and the funnel back-solve: the CMO and finance see and plan for the whole
# organisation; a marketer fits and plans for their own teams and sees only their teams' models and
# scenarios; ops admins and anyone else: nothing.

sees_all_scenarios = is_cmo | is_finance
can_plan_scenarios = sees_all_scenarios | is_marketer


@rules.predicate
def is_member_of_its_team(user, obj):
    """The object (a response model or scenario) belongs to one of the user's teams."""
    return (
        obj is not None
        and obj.team_id is not None
        and Membership.objects.filter(user=user, team_id=obj.team_id).exists()
    )


@rules.predicate
def is_scenario_owner(user, scenario):
    return scenario is not None and scenario.owner_id == user.pk


@rules.predicate
def is_member_of(user, team):
    return team is not None and Membership.objects.filter(user=user, team=team).exists()


can_view_response_model = sees_all_scenarios | (is_marketer & is_member_of_its_team)
can_view_scenario = sees_all_scenarios | (is_marketer & is_member_of_its_team)
# Editing, accepting, deleting a scenario and proposing its transfers: its owner (while they may still
# see it) and the CMO, who decides where money goes.
can_change_scenario = is_cmo | (is_scenario_owner & can_view_scenario)
# Which team a model or scenario may be limited to: any for the CMO and finance, one's own for a marketer.
can_plan_for_team = sees_all_scenarios | (is_marketer & is_member_of)


def response_models_visible_to(user) -> QuerySet[ResponseModel]:
    if not user.is_authenticated or not can_plan_scenarios(user):
        return ResponseModel.objects.none()
    if sees_all_scenarios(user):
        return ResponseModel.objects.all()
    return ResponseModel.objects.filter(team_id__in=Membership.objects.filter(user=user).values("team_id"))


def scenarios_visible_to(user) -> QuerySet[Scenario]:
    if not user.is_authenticated or not can_plan_scenarios(user):
        return Scenario.objects.none()
    if sees_all_scenarios(user):
        return Scenario.objects.all()
    return Scenario.objects.filter(team_id__in=Membership.objects.filter(user=user).values("team_id"))
