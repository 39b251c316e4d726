import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from mops import services
from mops.models import AuditEvent, Team

pytestmark = pytest.mark.django_db


def test_audit_event_commits_with_the_change(ops_admin):
    team = services.team_create(actor=ops_admin, name="Brand")
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_id, event.object_repr) == (
        ops_admin,
        "team.create",
        str(team.pk),
        "Brand",
    )
    assert event.after["name"] == "Brand"


def test_audit_event_rolls_back_with_the_change(ops_admin):
    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        services.team_create(actor=ops_admin, name="Doomed")
        assert AuditEvent.objects.count() == 1  # written inside the caller's transaction
        raise RuntimeError("boom")
    assert not Team.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_audit_refuses_to_run_outside_a_transaction(ops_admin):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.audit(actor=ops_admin, action="team.create")
    assert not AuditEvent.objects.exists()


def test_updates_record_before_and_after(ops_admin):
    team = services.team_create(actor=ops_admin, name="Brand")
    services.team_update(actor=ops_admin, team=team, description="Brand and content")
    event = AuditEvent.objects.get(action="team.update")
    assert event.before["description"] == ""
    assert event.after["description"] == "Brand and content"


def test_audit_events_are_append_only(ops_admin):
    services.team_create(actor=ops_admin, name="Brand")
    event = AuditEvent.objects.get()
    event.action = "tampered"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert AuditEvent.objects.get().action == "team.create"
