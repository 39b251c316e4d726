"""Who acted for whom: a delegate's decision is stored with the assignee they decided for, and the
history, the task page, the strip, the API and the requester's mail all say "Bob … for Nadia …"."""

import datetime

import pytest
import time_machine
from django.core import mail

from tests.workflows.conftest import instance_of, lead_task, url
from workflows import services
from workflows.models import Request

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 17, 10, 0, tzinfo=datetime.UTC)
TASKS = "/api/v1/tasks/"
NADIA, BOB = "Nadia Approver", "Bob Delegate"


@pytest.fixture
def delegated(start_request, lead, teammate):
    """Nadia (the team lead) is away: Bob may decide her steps today."""
    lead.first_name, lead.last_name = "Nadia", "Approver"
    lead.save()
    teammate.first_name, teammate.last_name = "Bob", "Delegate"
    teammate.save()
    with time_machine.travel(NOW, tick=False):
        start_request()
        services.delegation_create(
            actor=lead, delegator=lead, delegate=teammate, starts_on=NOW.date(), ends_on=NOW.date()
        )
    return lead, teammate


def test_a_delegates_approval_says_for_whom_everywhere(
    client, api_as, delegated, marketer, django_capture_on_commit_callbacks
):
    lead, bob = delegated
    mail.outbox.clear()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.task_act(actor=bob, task=lead_task(), action="approve")
    task = lead_task()
    assert (task.decided_by, task.decided_for) == (bob, lead)

    instance = instance_of(Request.objects.get())
    client.force_login(marketer)
    page = client.get(url("instance-detail", instance.pk)).content.decode()
    assert f"{BOB} for {NADIA}" in page  # the history's "Who", and the strip
    assert f"Approved by {BOB} for {NADIA} on" in client.get(url("task-detail", task.pk)).content.decode()

    body = api_as(bob).get(f"{TASKS}{task.pk}/").json()
    assert (body["decided_by"], body["decided_for"]) == ("bob", "lena-lead")

    [decided] = [m for m in mail.outbox if "approved" in m.subject]
    assert f"{BOB} for {NADIA} marked “Lead approval” as approved" in decided.body


def test_an_assignee_deciding_themselves_is_not_for_anyone(client, api_as, delegated, marketer):
    lead, _ = delegated
    with time_machine.travel(NOW, tick=False):
        services.task_act(actor=lead, task=lead_task(), action="approve")
    task = lead_task()
    assert (task.decided_by, task.decided_for) == (lead, None)
    client.force_login(marketer)
    page = client.get(url("instance-detail", instance_of(Request.objects.get()).pk)).content.decode()
    assert NADIA in page and " for " + NADIA not in page
    assert api_as(lead).get(f"{TASKS}{task.pk}/").json()["decided_for"] is None
