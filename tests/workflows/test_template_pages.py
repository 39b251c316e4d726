"""The template pages: the list, the editor (formset, versions, retire), the detail and the preview."""

import pytest

from mops.roles import Role
from tests.workflows.conftest import flash, formset_data, step, url
from workflows import services, subjects
from workflows.models import (
    TemplateStatus,
    WorkflowTemplate,
)

pytestmark = pytest.mark.django_db


# --- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "sees_button"), [("marketer", False), ("finance", False), ("ops_admin", True)])
def test_everyone_reads_the_template_list(request, client, template, who, sees_button):
    client.force_login(request.getfixturevalue(who))
    response = client.get(url("template-list"))
    assert response.status_code == 200
    assert b"Spend approval" in response.content
    assert b"General approval request" in response.content
    assert (b"New template" in response.content) is sees_button


def test_retired_templates_are_listed_on_request(client, template, ops_admin):
    services.template_retire(actor=ops_admin, template=template)
    client.force_login(ops_admin)
    assert list(client.get(url("template-list")).context["templates"]) == []
    assert [t.name for t in client.get(url("template-list"), {"retired": "1"}).context["templates"]] == [
        "Spend approval"
    ]


def test_template_list_query_count(client, ops_admin, start_request, django_assert_max_num_queries):
    start_request()
    for number in range(15):
        services.template_create(
            actor=ops_admin,
            name=f"Process {number}",
            subject_type=subjects.GENERAL_REQUEST,
            steps=[step("A", stage=1, role=Role.CMO), step("B", stage=2, role=Role.FINANCE)],
        )
    client.force_login(ops_admin)
    with django_assert_max_num_queries(8):
        response = client.get(url("template-list"))
    assert len(response.context["templates"]) == 16


@pytest.mark.parametrize("who", ["marketer", "finance", "cmo"])
def test_only_ops_admins_open_the_editor(request, client, template, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("template-create")).status_code == 403
    assert client.get(url("template-edit", template.slug)).status_code == 403
    assert (
        client.post(url("template-create"), formset_data([], name="X", subject_type="general_request")).status_code
        == 403
    )
    assert client.post(url("template-retire", template.slug)).status_code == 403
    assert WorkflowTemplate.objects.filter(status=TemplateStatus.ACTIVE).count() == 1


def test_ops_admin_creates_a_template_with_the_formset(client, ops_admin, finance):
    client.force_login(ops_admin)
    assert client.get(url("template-create")).status_code == 200
    data = formset_data(
        [
            {"stage": 1, "name": "Lead approval", "assignee_type": "team_lead"},
            {"stage": 2, "name": "Named finance", "assignee_type": "user", "user": finance.pk, "sla_days": 3},
            {
                "stage": 2,
                "name": "CMO above 50k",
                "role": Role.CMO,
                "condition_attribute": "amount",
                "condition_operator": "gte",
                "condition_value": "50000",
                "escalate_after_reminders": 2,
            },
        ],
        name="Sponsorship sign-off",
        description="For sponsorships",
        subject_type="general_request",
    )
    response = client.post(url("template-create"), data)
    assert response.status_code == 302
    template = WorkflowTemplate.objects.get(slug="sponsorship-sign-off")
    assert response.url == url("template-detail", template.slug)
    steps = list(template.steps.order_by("position"))
    assert [(s.position, s.stage, s.name, s.assignee_type, s.role) for s in steps] == [
        (1, 1, "Lead approval", "team_lead", ""),
        (2, 2, "Named finance", "user", ""),
        (3, 2, "CMO above 50k", "role", Role.CMO),
    ]
    assert (steps[1].user, steps[1].sla_days) == (finance, 3)
    assert (steps[2].condition_attribute, steps[2].condition_value, steps[2].escalate_after_reminders) == (
        "amount",
        "50000",
        2,
    )


def test_deleted_rows_are_left_out(client, ops_admin):
    client.force_login(ops_admin)
    data = formset_data(
        [
            {"stage": 1, "name": "Keep", "role": Role.CMO},
            {"stage": 1, "name": "Drop", "role": Role.CMO, "DELETE": "on"},
        ],
        name="Pruned",
        subject_type="general_request",
    )
    assert client.post(url("template-create"), data).status_code == 302
    assert [s.name for s in WorkflowTemplate.objects.get(slug="pruned").steps.all()] == ["Keep"]


def test_invalid_steps_show_the_services_messages_and_keep_the_input(client, ops_admin):
    client.force_login(ops_admin)
    data = formset_data(
        [
            {"stage": 2, "name": "", "role": Role.CMO},
            {
                "stage": 1,
                "name": "Big ones",
                "role": Role.CMO,
                "condition_attribute": "amount",
                "condition_operator": "gte",
                "condition_value": "lots",
            },
        ],
        name="Broken",
        description="Keep me",
        subject_type="general_request",
    )
    response = client.post(url("template-create"), data)
    assert response.status_code == 200
    errors = response.context["step_errors"]
    assert "Step 1: give it a name." in errors
    assert any(e.startswith("Step 2: stages must be in order") for e in errors)
    assert "Step 2: Amount (base currency) must be a number." in errors
    content = response.content.decode()
    assert "Step 1: give it a name." in content
    assert 'value="lots"' in content and 'value="Big ones"' in content and "Keep me" in content
    assert not WorkflowTemplate.objects.filter(slug="broken").exists()


def test_add_more_rows_keeps_the_input_and_saves_nothing(client, ops_admin):
    client.force_login(ops_admin)
    data = formset_data([{"stage": 1, "name": "First", "role": Role.CMO}], extra=0, name="Growing")
    data.update(subject_type="general_request", add_rows="1")
    response = client.post(url("template-create"), data)
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 4
    assert 'value="First"' in response.content.decode()
    assert not WorkflowTemplate.objects.exists()


def test_a_duplicate_name_is_a_form_error(client, ops_admin, template):
    client.force_login(ops_admin)
    data = formset_data(
        [{"stage": 1, "name": "A", "role": Role.CMO}], name="Spend approval", subject_type="general_request"
    )
    response = client.post(url("template-create"), data)
    assert "name" in response.context["form"].errors


def test_the_editor_is_prefilled_from_the_active_version(client, ops_admin, template):
    client.force_login(ops_admin)
    response = client.get(url("template-edit", template.slug))
    formset = response.context["formset"]
    assert [f.initial.get("name") for f in formset.forms[:3]] == ["Lead approval", "Finance approval", "CMO approval"]
    assert formset.forms[2].initial["condition_value"] == "50000"
    assert response.context["form"].fields["subject_type"].disabled


def _edit_data(template, rows, **fields):
    return formset_data(rows, name=fields.pop("name", template.name), subject_type=template.subject_type, **fields)


def test_editing_a_template_in_use_saves_version_2(client, ops_admin, template, start_request):
    start_request()
    client.force_login(ops_admin)
    data = _edit_data(template, [{"stage": 1, "name": "Finance only", "role": Role.FINANCE}])
    response = client.post(url("template-edit", template.slug), data, follow=True)
    assert "Saved as version 2; 1 running instance keeps version 1." in flash(response)
    template.refresh_from_db()
    assert template.status == TemplateStatus.SUPERSEDED
    new = WorkflowTemplate.objects.get(slug=template.slug, version=2)
    assert [s.name for s in new.steps.all()] == ["Finance only"]
    assert [v.version for v in response.context["versions"]] == [2, 1]


def test_editing_an_unused_template_changes_it_in_place(client, ops_admin, template):
    client.force_login(ops_admin)
    data = _edit_data(template, [{"stage": 1, "name": "Only CMO", "role": Role.CMO}], name="Renamed")
    response = client.post(url("template-edit", template.slug), data, follow=True)
    assert "Version 1 saved." in flash(response)
    template.refresh_from_db()
    assert (template.name, template.version, [s.name for s in template.steps.all()]) == ("Renamed", 1, ["Only CMO"])


def test_retire_and_retire_again(client, ops_admin, template):
    client.force_login(ops_admin)
    response = client.post(url("template-retire", template.slug), follow=True)
    template.refresh_from_db()
    assert template.status == TemplateStatus.RETIRED
    assert any("retired" in m for m in flash(response))
    response = client.post(url("template-retire", template.slug), follow=True)
    assert "Only an active template can be retired." in flash(response)
    assert client.get(url("template-edit", template.slug)).status_code == 302  # retired: not editable


def test_template_detail_groups_steps_by_stage(client, marketer, template):
    client.force_login(marketer)
    response = client.get(url("template-detail", template.slug))
    assert response.status_code == 200
    assert [(stage, [s.name for s in steps]) for stage, steps in response.context["stages"]] == [
        (1, ["Lead approval"]),
        (2, ["Finance approval", "CMO approval"]),
    ]
    assert b"All must approve" in response.content
    assert b"Retire" not in response.content
    assert client.get(url("template-detail", "no-such-template")).status_code == 404


def test_preview_shows_who_each_step_goes_to(client, ops_admin, template, team, marketer, lead, finance, cmo):
    client.force_login(ops_admin)
    response = client.get(
        url("template-detail", template.slug),
        {"preview": "1", "p-attr_amount": "60,000", "p-attr_team": "na", "p-team": team.pk, "p-requester": marketer.pk},
    )
    rows = response.context["preview_rows"]
    assert [(r.step.name, r.applies, [u.username for u in r.assignees]) for r in rows] == [
        ("Lead approval", True, ["lena-lead"]),
        ("Finance approval", True, ["fred-finance"]),
        ("CMO approval", True, ["carol-cmo"]),
    ]
    assert b"lena-lead" in response.content


def test_preview_without_a_team_says_nobody(client, marketer, template, finance):
    client.force_login(marketer)
    response = client.get(url("template-detail", template.slug), {"preview": "1", "p-attr_amount": "10"})
    rows = response.context["preview_rows"]
    assert [(r.step.name, r.applies) for r in rows] == [
        ("Lead approval", True),
        ("Finance approval", True),
        ("CMO approval", False),
    ]
    assert b"nobody \xe2\x80\x94 ops admin must reassign" in response.content


def test_preview_with_a_bad_number_is_a_form_error(client, ops_admin, template):
    client.force_login(ops_admin)
    response = client.get(url("template-detail", template.slug), {"preview": "1", "p-attr_amount": "lots"})
    assert response.status_code == 200
    assert response.context["preview_rows"] is None
    assert "attr_amount" in response.context["preview_form"].errors
    assert b"must be a number" in response.content
