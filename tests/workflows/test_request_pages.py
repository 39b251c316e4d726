"""General requests, delegations and the navigation (task count badge, who is offered what)."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from mops.roles import Role
from tests.factories import TeamFactory
from tests.workflows.conftest import formset_data, instance_of, lead_task, url
from workflows import services
from workflows.models import (
    Delegation,
    InstanceStatus,
    Request,
    RequestStatus,
    StepStatus,
    WorkflowTemplate,
)
from workflows.selectors import my_tasks

pytestmark = pytest.mark.django_db


# --- general requests -----------------------------------------------------------------------


def request_data(template, team, **overrides):
    return {
        "template": template.pk,
        "title": "Partner webinar",
        "description": "Co-hosted",
        "team": team.pk,
        "amount": "2500",
        "currency": "USD",
        **overrides,
    }


def test_marketer_raises_a_request(client, marketer, team, template, lead):
    client.force_login(marketer)
    assert client.get(url("request-create")).status_code == 200
    response = client.post(url("request-create"), request_data(template, team))
    created = Request.objects.get(title="Partner webinar")
    assert response.status_code == 302
    assert response.url == url("request-detail", created.pk)
    assert (created.team, created.requested_by, created.amount) == (team, marketer, 2500)
    assert instance_of(created).status == InstanceStatus.RUNNING
    assert [t.name for t in my_tasks(lead)] == ["Lead approval"]


def test_a_request_for_a_team_the_user_is_not_in_is_refused(client, marketer, other_team, template):
    client.force_login(marketer)
    response = client.post(url("request-create"), request_data(template, other_team))
    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Request.objects.exists()


def test_an_amount_must_not_be_negative(client, marketer, team, template):
    client.force_login(marketer)
    response = client.post(url("request-create"), request_data(template, team, amount="-5"))
    assert "amount" in response.context["form"].errors


def test_request_list_and_detail_respect_visibility(client, start_request, marketer, teammate, outsider, cmo):
    request = start_request()
    for user, listed, status in [(marketer, 1, 200), (teammate, 1, 200), (cmo, 1, 200), (outsider, 0, 404)]:
        client.force_login(user)
        assert len(client.get(url("request-list")).context["page"]) == listed
        assert client.get(url("request-detail", request.pk)).status_code == status


def test_request_detail_shows_the_strip_and_the_starters_forms(client, start_request, marketer, lead):
    request = start_request()
    client.force_login(marketer)
    response = client.get(url("request-detail", request.pk))
    assert b'data-step-status="active"' in response.content
    assert response.context["can_cancel"] is True
    client.post(url("request-detail", request.pk), {"operation": "cancel", "cancel-comment": "Dropped"})
    assert Request.objects.get(pk=request.pk).status == RequestStatus.CANCELLED


# --- delegations ----------------------------------------------------------------------------


def test_a_delegate_sees_the_delegators_task(client, start_request, lead, teammate):
    start_request()
    today = timezone.localdate()
    client.force_login(lead)
    assert client.get(url("delegation-list")).status_code == 200
    response = client.post(
        url("delegation-list"),
        {"delegator": lead.pk, "delegate": teammate.pk, "starts_on": today, "ends_on": today + timedelta(days=7)},
    )
    assert response.status_code == 302
    assert Delegation.objects.get().delegator == lead

    client.force_login(teammate)
    response = client.get(url("my-tasks"))
    assert [t.name for t in response.context["page"]] == ["Lead approval"]
    assert client.get(url("task-detail", lead_task().pk)).context["actions"]  # and may act on it


def test_a_marketer_delegates_only_their_own_steps(client, marketer, teammate, outsider):
    client.force_login(marketer)
    today = timezone.localdate()
    client.post(
        url("delegation-list"),
        {"delegator": teammate.pk, "delegate": outsider.pk, "starts_on": today, "ends_on": today},
    )
    # The delegator field is fixed to the user: a forged value is ignored.
    assert list(Delegation.objects.values_list("delegator__username", "delegate__username")) == [("alice", "charlie")]


def test_a_lead_cannot_delegate_for_someone_outside_their_teams(client, lead, outsider, teammate):
    client.force_login(lead)
    today = timezone.localdate()
    response = client.post(
        url("delegation-list"),
        {"delegator": outsider.pk, "delegate": teammate.pk, "starts_on": today, "ends_on": today},
    )
    assert "delegator" in response.context["form"].errors
    assert not Delegation.objects.exists()


def test_a_delegation_ending_before_it_starts_is_a_form_error(client, marketer, teammate):
    client.force_login(marketer)
    response = client.post(
        url("delegation-list"),
        {
            "delegator": marketer.pk,
            "delegate": teammate.pk,
            "starts_on": datetime.date(2026, 5, 10),
            "ends_on": datetime.date(2026, 5, 1),
        },
    )
    assert "ends_on" in response.context["form"].errors
    assert not Delegation.objects.exists()


def test_delegations_are_listed_to_those_involved(client, lead, marketer, teammate, outsider, ops_admin):
    today = timezone.localdate()
    # The lead sets it up for a member of their team.
    client.force_login(lead)
    response = client.post(
        url("delegation-list"),
        {"delegator": marketer.pk, "delegate": teammate.pk, "starts_on": today, "ends_on": today},
    )
    assert response.status_code == 302
    for user, count in [(marketer, 1), (teammate, 1), (lead, 1), (outsider, 0), (ops_admin, 1)]:
        client.force_login(user)
        assert len(client.get(url("delegation-list")).context["delegations"]) == count


# --- navigation -----------------------------------------------------------------------------


def test_the_nav_shows_my_task_count(client, start_request, lead, marketer):
    start_request(title="One")
    start_request(title="Two")
    client.force_login(lead)
    response = client.get(url("request-list"))
    tasks = next(item for item in response.context["nav_items"] if item.label == "Tasks")
    assert tasks.badge == 2
    assert b'data-testid="nav-badge">2<' in response.content
    client.force_login(marketer)
    response = client.get(url("request-list"))
    assert next(item for item in response.context["nav_items"] if item.label == "Tasks").badge == 0
    assert b"nav-badge" not in response.content


def test_the_nav_offers_workflows_to_ops_admins_only(client, marketer, ops_admin):
    for user, shown in [(marketer, False), (ops_admin, True)]:
        client.force_login(user)
        response = client.get(url("template-list"))
        labels = [item.label for item in response.context["nav_items"]]
        assert "Tasks" in labels
        assert ("Workflows" in labels) is shown
    assert response.context["nav_active"].label == "Workflows"  # the longest matching prefix wins


def test_a_second_team_does_not_leak_into_the_request_form(client, marketer, team):
    TeamFactory(name="Elsewhere", slug="elsewhere")
    client.force_login(marketer)
    teams = list(client.get(url("request-create")).context["form"].fields["team"].queryset)
    assert teams == [team]


def test_a_delegate_from_another_team_can_open_and_act_on_the_delegated_task(client, start_request, lead, outsider):
    start_request()
    today = timezone.localdate()
    services.delegation_create(actor=lead, delegator=lead, delegate=outsider, starts_on=today, ends_on=today)
    client.force_login(outsider)
    assert [t.name for t in client.get(url("my-tasks")).context["page"]] == ["Lead approval"]
    assert client.get(url("task-detail", lead_task().pk)).status_code == 200
    response = client.post(url("task-detail", lead_task().pk), {"action": "approve", "comment": "For Lena"})
    assert response.status_code == 302
    assert (lead_task().status, lead_task().decided_by) == (StepStatus.APPROVED, outsider)


def test_the_template_says_who_decides_when_separation_of_duties_leaves_too_few(client, ops_admin, marketer):
    client.force_login(ops_admin)
    data = formset_data(
        [
            {"stage": 1, "name": "Source side", "role": Role.FINANCE, "fallback_role": Role.CMO},
            {"stage": 1, "name": "Destination side", "role": Role.FINANCE},
        ],
        name="Two-sided sign-off",
        description="",
        subject_type="general_request",
    )
    assert client.post(url("template-create"), data).status_code == 302
    template = WorkflowTemplate.objects.get(slug="two-sided-sign-off")
    assert [s.fallback_role for s in template.steps.order_by("position")] == [Role.CMO, ""]
    client.force_login(marketer)
    page = client.get(url("template-detail", template.slug)).content.decode()
    assert "it also goes to: CMO." in page
    assert "is refused when it is made" in page
