"""The workflow API for templates and subject types: who reads and writes templates, nested steps,
versions on update, retire, the preview — and anonymous calls."""

import pytest

from mops.models import AuditEvent
from mops.roles import Role
from tests.factories import UserFactory
from tests.workflows.conftest import instance_of, results, step
from workflows import services, subjects
from workflows.models import (
    StepStatus,
    TemplateStatus,
    WorkflowTemplate,
)

pytestmark = pytest.mark.django_db

TEMPLATES = "/api/v1/workflow-templates/"

INSTANCES = "/api/v1/workflow-instances/"

TASKS = "/api/v1/tasks/"

REQUESTS = "/api/v1/workflow-requests/"

DELEGATIONS = "/api/v1/delegations/"

SUBJECT_TYPES = "/api/v1/workflow-subject-types/"


# --- anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", TEMPLATES),
        ("get", f"{TEMPLATES}spend-approval/"),
        ("get", f"{TEMPLATES}spend-approval/preview/"),
        ("post", TEMPLATES),
        ("post", f"{TEMPLATES}spend-approval/retire/"),
        ("get", SUBJECT_TYPES),
        ("get", f"{SUBJECT_TYPES}general_request/"),
        ("get", INSTANCES),
        ("get", "{instance}"),
        ("post", "{instance}cancel/"),
        ("get", TASKS),
        ("get", "{task}"),
        ("post", "{task}approve/"),
        ("get", REQUESTS),
        ("post", REQUESTS),
        ("get", DELEGATIONS),
        ("post", DELEGATIONS),
    ],
)
def test_anonymous_gets_401(api, start_request, method, path):
    instance = instance_of(start_request())
    task = instance.steps.get(status=StepStatus.ACTIVE)
    path = path.format(instance=f"{INSTANCES}{instance.pk}/", task=f"{TASKS}{task.pk}/")
    response = getattr(api, method)(path, {})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


# --- subject types --------------------------------------------------------------------------


def test_subject_types_list_their_attributes(api_as, marketer):
    body = api_as(marketer).get(SUBJECT_TYPES).json()
    general = next(t for t in body if t["key"] == subjects.GENERAL_REQUEST)
    assert general == {
        "key": "general_request",
        "label": "General approval request",
        "attributes": [
            {"name": "amount", "label": "Amount (base currency)", "kind": "decimal"},
            {"name": "team", "label": "Team (code)", "kind": "text"},
        ],
    }
    assert api_as(marketer).get(f"{SUBJECT_TYPES}general_request/").json() == general
    assert api_as(marketer).get(f"{SUBJECT_TYPES}nothing/").status_code == 404


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MARKETER, Role.CMO, Role.FINANCE, Role.OPS_ADMIN])
def test_every_role_reads_templates(api_as, template, role):
    user = UserFactory(roles=[role])
    [listed] = results(api_as(user).get(TEMPLATES))
    assert listed["slug"] == "spend-approval"
    detail = api_as(user).get(f"{TEMPLATES}spend-approval/").json()
    assert detail == listed
    assert (detail["version"], detail["status"]) == (1, "active")
    assert (detail["subject_type"], detail["subject_type_label"]) == ("general_request", "General approval request")
    assert detail["created_by"] == "olga-ops"
    assert [s["name"] for s in detail["steps"]] == ["Lead approval", "Finance approval", "CMO approval"]
    assert detail["steps"][2] == {
        "position": 3,
        "stage": 2,
        "name": "CMO approval",
        "kind": "approval",
        "assignee_type": "role",
        "role": "cmo",
        "user": None,
        "sla_days": 2,
        "stage_rule": "all",
        "condition_attribute": "amount",
        "condition_operator": "gte",
        "condition_value": "50000",
        "escalate_after_reminders": None,
        "fallback_role": "",
    }


def test_unknown_template_is_404(api_as, marketer):
    assert api_as(marketer).get(f"{TEMPLATES}nope/").status_code == 404


def test_retired_templates_are_listed_on_request(api_as, template, ops_admin, marketer):
    services.template_retire(actor=ops_admin, template=template)
    assert results(api_as(marketer).get(TEMPLATES)) == []
    [retired] = results(api_as(marketer).get(f"{TEMPLATES}?retired=1"))
    assert retired["status"] == "retired"


def test_ops_admin_creates_a_template_with_nested_steps(api_as, ops_admin, finance):
    response = api_as(ops_admin).post(
        TEMPLATES,
        {
            "name": "Sponsorship sign-off",
            "description": "Events we sponsor.",
            "subject_type": "general_request",
            "steps": [
                step("Lead approval", stage=1, assignee_type="team_lead"),
                step("Fred approves", stage=2, assignee_type="user", user=finance.pk, sla_days=5),
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["version"], body["status"]) == ("sponsorship-sign-off", 1, "active")
    assert [(s["position"], s["name"], s["user"], s["sla_days"]) for s in body["steps"]] == [
        (1, "Lead approval", None, 2),
        (2, "Fred approves", finance.pk, 5),
    ]
    template = WorkflowTemplate.objects.get(slug="sponsorship-sign-off")
    assert template.steps.get(position=2).user == finance
    assert AuditEvent.objects.filter(action="workflow_template.create", actor=ops_admin).exists()


@pytest.mark.parametrize("role", [Role.MARKETER, Role.CMO, Role.FINANCE])
def test_only_ops_admins_write_templates(api_as, template, role):
    user = UserFactory(roles=[role])
    client = api_as(user)
    payload = {"name": "X", "subject_type": "general_request", "steps": [step("A", stage=1, role=Role.CMO)]}
    for response in (
        client.post(TEMPLATES, payload),
        client.put(f"{TEMPLATES}spend-approval/", payload),
        client.patch(f"{TEMPLATES}spend-approval/", payload),
        client.post(f"{TEMPLATES}spend-approval/retire/"),
    ):
        assert response.status_code == 403
        assert "detail" in response.json()
    template.refresh_from_db()
    assert (template.name, template.status) == ("Spend approval", TemplateStatus.ACTIVE)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"name": "Bad", "subject_type": "general_request", "steps": [step("A", stage=1)]},
            {"steps": ["Step 1: choose the role it goes to."]},
        ),
        (
            {"name": "Bad", "subject_type": "general_request", "steps": []},
            {"steps": ["A template needs at least one step."]},
        ),
        (
            {
                "name": "Bad",
                "subject_type": "general_request",
                "steps": [
                    step("A", stage=1, role=Role.CMO),
                    step(
                        "B",
                        stage=1,
                        role=Role.CMO,
                        condition_attribute="amount",
                        condition_operator="gte",
                        condition_value="lots",
                    ),
                ],
            },
            {"steps": ["Step 2: Amount (base currency) must be a number."]},
        ),
        (
            {"name": "Bad", "subject_type": "spaceship", "steps": [step("A", stage=1, role=Role.CMO)]},
            {"subject_type": ["No workflow subject type 'spaceship' is registered."]},
        ),
        ({"name": "Bad", "steps": [step("A", stage=1, role=Role.CMO)]}, {"subject_type": ["This field is required."]}),
        ({"name": "Bad", "subject_type": "general_request"}, {"steps": ["This field is required."]}),
        (
            {"name": "Bad", "subject_type": "general_request", "steps": [step("A", stage=1, role="cmo"), "B"]},
            {"steps": ["Step 2: Invalid data. Expected a dictionary, but got str."]},
        ),
        (
            {"name": "Bad", "subject_type": "general_request", "steps": [step("A", stage=1, kind="dance")]},
            {"steps": ['Step 1, kind: "dance" is not a valid choice.']},
        ),
        (
            {"name": "Spend approval", "subject_type": "general_request", "steps": [step("A", stage=1, role="cmo")]},
            {"name": ["A template named like “Spend approval” exists already."]},
        ),
    ],
)
def test_template_validation_names_fields_and_steps(api_as, ops_admin, template, payload, errors):
    response = api_as(ops_admin).post(TEMPLATES, payload)
    assert response.status_code == 400
    assert response.json() == errors


def test_updating_an_unused_template_changes_it_in_place(api_as, ops_admin, template):
    response = api_as(ops_admin).put(
        f"{TEMPLATES}spend-approval/",
        {"name": "Spend approval", "subject_type": "general_request", "steps": [step("Only", stage=1, role="cmo")]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["version"], [s["name"] for s in body["steps"]]) == (template.pk, 1, ["Only"])


def test_updating_a_template_in_use_answers_with_the_new_version(api_as, ops_admin, template, start_request):
    start_request()
    response = api_as(ops_admin).patch(
        f"{TEMPLATES}spend-approval/",
        {"description": "Finance only now.", "steps": [step("Finance only", stage=1, role=Role.FINANCE)]},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["slug"], body["version"], body["status"]) == ("spend-approval", 2, "active")
    assert body["description"] == "Finance only now."
    assert [s["name"] for s in body["steps"]] == ["Finance only"]
    template.refresh_from_db()
    assert template.status == TemplateStatus.SUPERSEDED
    # The detail URL follows the live version; older ones stay readable.
    assert api_as(ops_admin).get(f"{TEMPLATES}spend-approval/").json()["version"] == 2
    old = api_as(ops_admin).get(f"{TEMPLATES}spend-approval/?version=1").json()
    assert (old["status"], len(old["steps"])) == ("superseded", 3)
    assert api_as(ops_admin).get(f"{TEMPLATES}spend-approval/?version=9").status_code == 404


def test_update_rules(api_as, ops_admin, template):
    client = api_as(ops_admin)
    no_steps = client.patch(f"{TEMPLATES}spend-approval/", {"name": "Renamed"})
    assert (no_steps.status_code, no_steps.json()) == (400, {"steps": ["This field is required."]})
    other_type = client.patch(
        f"{TEMPLATES}spend-approval/",
        {"subject_type": "budget_transfer", "steps": [step("A", stage=1, role="cmo")]},
    )
    assert other_type.status_code == 400
    assert "subject_type" in other_type.json()


def test_retire(api_as, ops_admin, template):
    response = api_as(ops_admin).post(f"{TEMPLATES}spend-approval/retire/")
    assert response.status_code == 200
    assert response.json()["status"] == "retired"
    again = api_as(ops_admin).post(f"{TEMPLATES}spend-approval/retire/")
    assert again.status_code == 409
    assert again.json() == {"detail": "Only an active template can be retired."}


def test_preview_says_which_steps_apply_and_to_whom(api_as, marketer, template, team, lead, finance, cmo):
    client = api_as(marketer)
    response = client.get(f"{TEMPLATES}spend-approval/preview/?amount=60000&team={team.pk}&requester={marketer.pk}")
    assert response.status_code == 200, response.json()
    rows = response.json()
    assert [(r["position"], r["stage"], r["name"], r["kind"], r["applies"]) for r in rows] == [
        (1, 1, "Lead approval", "approval", True),
        (2, 2, "Finance approval", "approval", True),
        (3, 2, "CMO approval", "approval", True),
    ]
    assert rows[0]["assignees"] == [{"id": lead.pk, "username": "lena-lead", "full_name": lead.get_full_name()}]
    assert [a["username"] for a in rows[2]["assignees"]] == ["carol-cmo"]

    small = client.get(f"{TEMPLATES}spend-approval/preview/?amount=100&team=na&requester={lead.pk}").json()
    assert [(r["applies"], [a["username"] for a in r["assignees"]]) for r in small] == [
        (True, []),  # the lead requests: nobody else leads the team
        (True, ["fred-finance"]),
        (False, []),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [("amount=lots", "amount"), ("team=atlantis", "team"), ("requester=999999", "requester")],
)
def test_preview_names_a_bad_parameter(api_as, marketer, template, query, field):
    response = api_as(marketer).get(f"{TEMPLATES}spend-approval/preview/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_preview_bad_number_message(api_as, marketer, template):
    response = api_as(marketer).get(f"{TEMPLATES}spend-approval/preview/?amount=lots")
    assert response.json() == {"amount": ["Amount (base currency) must be a number."]}
