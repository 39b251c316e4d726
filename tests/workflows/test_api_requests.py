"""The workflow API for general approval requests and delegations."""

import pytest

from mops.money import money_bound_message
from tests.workflows.conftest import instance_of, results, step, task_of
from workflows import services
from workflows.models import (
    Delegation,
    Request,
)

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/workflow-requests/"

DELEGATIONS = "/api/v1/delegations/"


# --- general requests -----------------------------------------------------------------------


def test_marketer_raises_a_request_and_its_workflow_starts(api_as, marketer, team, template, lead):
    response = api_as(marketer).post(
        REQUESTS,
        {
            "template": "spend-approval",
            "title": "Booth at SaaStr",
            "description": "10x10 booth",
            "team": team.pk,
            "amount": "1200.50",
            "currency": "USD",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    request = Request.objects.get(pk=body["id"])
    instance = instance_of(request)
    assert body == {
        "id": request.pk,
        "title": "Booth at SaaStr",
        "description": "10x10 booth",
        "team": "na",
        "amount": "1200.50",
        "currency": "USD",
        "amount_base": "1200.50",
        "status": "in_review",
        "requested_by": "alice",
        "created_at": body["created_at"],
        "open_instance": instance.pk,
        "instance": instance.pk,
    }
    assert task_of(lead).instance_id == instance.pk


def test_a_request_by_team_slug_on_the_default_template(api_as, marketer, template):
    response = api_as(marketer).post(REQUESTS, {"title": "No amount", "team": "na"})
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] is None
    assert instance_of(Request.objects.get()).template == template


def test_request_for_another_team_is_refused(api_as, outsider, team, template):
    response = api_as(outsider).post(REQUESTS, {"template": "spend-approval", "title": "Sneaky", "team": "na"})
    # The policy for ids in bodies (docs/api.md): another team is one the outsider cannot see.
    assert response.status_code == 400
    assert response.json() == {"team": ["There is no team 'na'."]}
    assert not Request.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "", "team": "na"}, "title"),
        ({"title": "X", "team": "atlantis"}, "team"),
        ({"title": "X", "team": "na", "template": "nope"}, "template"),
        ({"title": "X", "team": "na", "amount": "-5", "currency": "USD"}, "amount"),
        ({"title": "X", "team": "na", "amount": "abc", "currency": "USD"}, "amount"),
        ({"title": "X", "team": "na", "amount": "5"}, "currency"),
        ({"title": "X", "team": "na", "amount": "5", "currency": "XXX"}, "currency"),
    ],
)
def test_request_validation_names_the_field(api_as, marketer, template, payload, field):
    response = api_as(marketer).post(REQUESTS, payload)
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert not Request.objects.exists()


def test_a_request_needs_a_template_for_requests(api_as, marketer, ops_admin):
    services.template_create(
        actor=ops_admin, name="Transfers", subject_type="budget_transfer", steps=[step("A", stage=1, role="finance")]
    )
    response = api_as(marketer).post(REQUESTS, {"title": "X", "team": "na", "template": "transfers"})
    assert response.status_code == 400
    assert response.json() == {"template": ["Choose a template for general approval requests."]}
    nothing = api_as(marketer).post(REQUESTS, {"title": "X", "team": "na"})
    assert nothing.status_code == 400
    assert list(nothing.json()) == ["template"]


@pytest.mark.parametrize(
    ("who", "sees"), [("marketer", True), ("teammate", True), ("finance", True), ("outsider", False)]
)
def test_request_visibility(api_as, start_request, request, who, sees):
    raised = start_request()
    client = api_as(request.getfixturevalue(who))
    assert [r["id"] for r in results(client.get(REQUESTS))] == ([raised.pk] if sees else [])
    assert client.get(f"{REQUESTS}{raised.pk}/").status_code == (200 if sees else 404)


def test_request_list_query_count_is_constant(api_as, start_request, marketer, django_assert_max_num_queries):
    for number in range(15):
        start_request(title=f"Request {number}")
    client = api_as(marketer)
    with django_assert_max_num_queries(3):  # count, page (workflow ids are subqueries), content type
        assert len(results(client.get(REQUESTS))) == 15


def test_request_shows_its_finished_workflow(api_as, start_request, marketer, lead, finance):
    raised = start_request()
    services.task_act(actor=lead, task=task_of(lead), action="approve")
    services.task_act(actor=finance, task=task_of(finance), action="approve")
    body = api_as(marketer).get(f"{REQUESTS}{raised.pk}/").json()
    assert (body["status"], body["open_instance"], body["instance"]) == ("approved", None, instance_of(raised).pk)


# --- delegations ----------------------------------------------------------------------------


def test_delegate_my_own_steps(api_as, lead, teammate, outsider, ops_admin):
    response = api_as(lead).post(
        DELEGATIONS, {"delegate": teammate.pk, "starts_on": "2026-07-01", "ends_on": "2026-07-14"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["delegator_username"], body["delegate_username"], body["created_by"]) == (
        "lena-lead",
        "bob",
        "lena-lead",
    )
    assert body["delegator"] == lead.pk
    delegation = Delegation.objects.get()
    for user, sees in ((lead, True), (teammate, True), (ops_admin, True), (outsider, False)):
        assert [d["id"] for d in results(api_as(user).get(DELEGATIONS))] == ([delegation.pk] if sees else [])
        assert api_as(user).get(f"{DELEGATIONS}{delegation.pk}/").status_code == (200 if sees else 404)


def test_delegating_for_someone_else(api_as, lead, marketer, teammate, outsider, ops_admin):
    payload = {"delegator": marketer.pk, "delegate": teammate.pk, "starts_on": "2026-07-01", "ends_on": "2026-07-02"}
    refused = api_as(outsider).post(DELEGATIONS, payload)
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "You can delegate your own steps; team leads and ops admins can delegate for others."
    }
    assert api_as(lead).post(DELEGATIONS, payload).status_code == 201  # the lead of alice's team
    later = {**payload, "starts_on": "2026-08-01", "ends_on": "2026-08-02"}
    assert api_as(ops_admin).post(DELEGATIONS, later).status_code == 201
    clash = api_as(ops_admin).post(DELEGATIONS, payload)  # the same days again
    assert clash.status_code == 400
    assert "already delegates" in clash.json()["starts_on"][0]


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"delegate": "self", "starts_on": "2026-07-01", "ends_on": "2026-07-02"},
            {"delegate": ["Choose someone other than the person delegating."]},
        ),
        (
            {"delegate": "bob", "starts_on": "2026-07-05", "ends_on": "2026-07-02"},
            {"ends_on": ["The end date is before the start date."]},
        ),
        ({"delegate": "bob", "starts_on": "someday", "ends_on": "2026-07-02"}, {"starts_on": None}),
        ({"starts_on": "2026-07-01", "ends_on": "2026-07-02"}, {"delegate": ["This field is required."]}),
    ],
)
def test_delegation_validation(api_as, marketer, teammate, payload, errors):
    ids = {"self": marketer.pk, "bob": teammate.pk}
    if "delegate" in payload:
        payload = {**payload, "delegate": ids[payload["delegate"]]}
    response = api_as(marketer).post(DELEGATIONS, payload)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == list(errors)
    for field, messages in errors.items():
        if messages is not None:
            assert body[field] == messages
    assert not Delegation.objects.exists()


@pytest.mark.parametrize("amount", ["1000000000000.00", "1e308", "NaN", "Infinity"])
def test_a_request_amount_past_the_money_bound_names_the_limit(api_as, marketer, team, template, amount):
    response = api_as(marketer).post(
        REQUESTS, {"template": "spend-approval", "title": "Huge", "team": "na", "amount": amount}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json() == {"amount": [money_bound_message("Amount")]}
    assert not Request.objects.exists()
