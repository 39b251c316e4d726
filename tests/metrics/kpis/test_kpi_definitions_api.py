"""The KPI definitions API: the catalogue for every KPI reader, and ops admins' writes (create, PATCH
as a new version, DELETE as deactivation) with field errors in 400 bodies."""

import pytest

from metrics.kpis import catalogue as kpis
from metrics.kpis import services as kpi_services
from metrics.kpis.models import KpiDefinition
from mops.models import AuditEvent

pytestmark = pytest.mark.django_db
URL = "/api/v1/kpi-definitions/"
NEW = {
    "code": "rev_per_lead",
    "name": "Revenue per lead",
    "formula": "revenue / leads",
    "unit": "money",
    "direction": "higher",
    "description": "Won revenue per lead",
}
FIELDS = {"code", "name", "formula", "unit", "direction", "description", "version", "builtin", "measure", "is_active"}


def all_results(client, **params) -> list[dict]:
    response = client.get(URL, {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return body["results"]


@pytest.fixture
def custom(ops_admin):
    return kpi_services.kpi_definition_create(actor=ops_admin, **NEW)


@pytest.mark.parametrize("who", ["marketer", "cmo", "finance", "ops_admin"])
def test_every_kpi_reader_lists_measures_built_ins_and_current_custom_kpis(request, api_as, who, custom):
    results = all_results(api_as(request.getfixturevalue(who)))
    standard = [*kpis.MEASURE_KPIS, *kpis.BUILTIN_KPIS]
    assert [r["code"] for r in results] == [kpi.code for kpi in standard] + ["rev_per_lead"]
    assert all(set(r) == FIELDS for r in results)
    roi = next(r for r in results if r["code"] == "roi")
    assert roi == {
        "code": "roi",
        "name": "Return on investment",
        "formula": "(revenue - spend) / spend",
        "unit": "percent",
        "direction": "higher",
        "description": "ROI = (won revenue − spend) ÷ spend",
        "version": 1,
        "builtin": True,
        "measure": False,
        "is_active": True,
    }
    assert results[-1] == {**NEW, "version": 1, "builtin": False, "measure": False, "is_active": True}
    assert next(r for r in results if r["code"] == "spend")["measure"] is True


def test_the_list_is_paginated_like_every_list(api_as, cmo):
    body = api_as(cmo).get(URL, {"page_size": 10}).json()
    assert len(body["results"]) == 10
    assert body["count"] == len(kpis.MEASURE_KPIS) + len(kpis.BUILTIN_KPIS)
    assert body["next"]


def test_anonymous_is_401(api):
    assert api.get(URL).status_code == 401
    assert api.post(URL, NEW, format="json").status_code == 401


def test_users_without_a_role_cannot_read(api_as, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert api_as(nobody).get(URL).status_code == 403


def test_ops_admin_creates_and_it_is_audited(api_as, ops_admin):
    response = api_as(ops_admin).post(URL, NEW, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {**NEW, "version": 1, "builtin": False, "measure": False, "is_active": True}
    definition = KpiDefinition.objects.get()
    assert definition.created_by == ops_admin
    assert AuditEvent.objects.get().action == "kpidefinition.create"


def test_retrieve_a_custom_kpi_a_built_in_and_an_unknown_code(api_as, marketer, custom):
    client = api_as(marketer)
    assert client.get(f"{URL}rev_per_lead/").json()["version"] == 1
    assert client.get(f"{URL}cpl/").json()["formula"] == "spend / leads"
    assert client.get(f"{URL}nope/").status_code == 404


def test_patch_saves_version_2_and_keeps_version_1(api_as, ops_admin, custom):
    client = api_as(ops_admin)
    response = client.patch(f"{URL}rev_per_lead/", {"formula": "revenue / mqls", "version": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["version"], response.json()["formula"]) == (2, "revenue / mqls")
    assert response.json()["name"] == NEW["name"]  # fields not given are kept
    versions = client.get(f"{URL}rev_per_lead/versions/").json()
    assert [(v["version"], v["formula"], v["is_current"]) for v in versions] == [
        (2, "revenue / mqls", True),
        (1, "revenue / leads", False),
    ]
    assert versions[0]["created_by"] == ops_admin.username
    listed = next(r for r in all_results(client) if r["code"] == "rev_per_lead")
    assert listed["version"] == 2
    # Changing version 1 again, now that 2 is current: a conflict, not an overwrite.
    stale = client.patch(f"{URL}rev_per_lead/", {"formula": "revenue / sqls", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "version 2 is current" in stale.json()["detail"]
    assert KpiDefinition.objects.count() == 2


def test_delete_deactivates(api_as, ops_admin, custom):
    client = api_as(ops_admin)
    assert client.delete(f"{URL}rev_per_lead/").status_code == 204
    definition = KpiDefinition.objects.get()
    assert definition.is_current and not definition.is_active
    assert "rev_per_lead" not in [r["code"] for r in all_results(client)]
    inactive = next(r for r in all_results(client, include_inactive="true") if r["code"] == "rev_per_lead")
    assert inactive["is_active"] is False
    assert client.get(f"{URL}rev_per_lead/").json()["is_active"] is False
    assert client.delete(f"{URL}rev_per_lead/").status_code == 409  # already inactive
    assert client.patch(f"{URL}rev_per_lead/", {"name": "X"}, format="json").status_code == 409


def test_a_kpi_in_use_cannot_be_deleted(api_as, ops_admin, custom):
    client = api_as(ops_admin)
    created = client.post(URL, {**NEW, "code": "net", "formula": "rev_per_lead - cpl"}, format="json")
    assert created.status_code == 201
    response = client.delete(f"{URL}rev_per_lead/")
    assert response.status_code == 409
    assert "used in the formula of net" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"formula": "__import__('os')"}, "formula", "Only + − × ÷"),
        ({"formula": "spend ** 99999"}, "formula", "A power (**) needs a whole number"),
        ({"formula": "revenu / leads"}, "formula", "did you mean revenue?"),
        ({"formula": "rev_per_lead + 1", "code": "rev_per_lead"}, "formula", "uses rev_per_lead itself"),
        ({"code": "roas"}, "code", "taken by a built-in"),
        ({"code": "Not OK"}, "code", "not valid"),
        ({"unit": "furlongs"}, "unit", "is not a valid choice"),
        ({"name": ""}, "name", "may not be blank"),
    ],
)
def test_bad_definitions_are_400_with_field_errors(api_as, ops_admin, body, field, says):
    response = api_as(ops_admin).post(URL, {**NEW, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert says in response.json()[field][0]
    assert not KpiDefinition.objects.exists()


def test_patch_errors_are_400_with_field_errors(api_as, ops_admin, custom):
    client = api_as(ops_admin)
    loop = client.post(URL, {**NEW, "code": "net", "formula": "rev_per_lead - cpl"}, format="json")
    assert loop.status_code == 201
    response = client.patch(f"{URL}rev_per_lead/", {"formula": "net * 2"}, format="json")
    assert response.status_code == 400
    assert "loop: rev_per_lead → net → rev_per_lead" in response.json()["formula"][0]
    renamed = client.patch(f"{URL}rev_per_lead/", {"code": "other"}, format="json")
    assert renamed.status_code == 400
    assert "cannot change" in renamed.json()["code"][0]
    built_in = client.patch(f"{URL}cpl/", {"formula": "spend / mqls"}, format="json")
    assert built_in.status_code == 400
    assert "built-in" in built_in.json()["code"][0]
    assert client.delete(f"{URL}cpl/").status_code == 400
    assert KpiDefinition.objects.filter(code="rev_per_lead").count() == 1


@pytest.mark.parametrize("who", ["marketer", "cmo", "finance"])
def test_writes_are_403_for_everyone_but_ops_admins(request, api_as, who, custom):
    client = api_as(request.getfixturevalue(who))
    assert client.post(URL, {**NEW, "code": "mine"}, format="json").status_code == 403
    assert client.patch(f"{URL}rev_per_lead/", {"name": "Mine"}, format="json").status_code == 403
    assert client.delete(f"{URL}rev_per_lead/").status_code == 403
    assert client.patch(f"{URL}nope/", {"name": "Mine"}, format="json").status_code == 404
    definition = KpiDefinition.objects.get()
    assert (definition.version, definition.is_active, definition.name) == (1, True, NEW["name"])
