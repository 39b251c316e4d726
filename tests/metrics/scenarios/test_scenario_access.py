"""Who sees which response models and scenarios, on the pages, the API and the navigation."""

import pytest
from django.urls import reverse

from metrics.scenarios import services as scenario_services
from tests.metrics.scenarios.scenario_data import MODELS, SCENARIOS, optimised

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_fits")]


# --- permissions -----------------------------------------------------------------------------------


def test_marketers_see_their_teams_models_and_scenarios_cmo_and_finance_all(
    api_as, marketer, teammate, outsider, cmo, finance, ops_admin, org_model, team_model
):
    team_scenario = scenario_services.scenario_create(
        actor=marketer, model=team_model, name="NA push", inputs=optimised()
    )
    org_scenario = scenario_services.scenario_create(actor=cmo, model=org_model, name="Org mix", inputs=optimised())

    def ids(user, url):
        return sorted(row["id"] for row in api_as(user).get(url).json()["results"])

    for user in (cmo, finance):
        assert ids(user, SCENARIOS) == sorted([team_scenario.pk, org_scenario.pk])
        assert ids(user, MODELS) == sorted([team_model.pk, org_model.pk])
    for user in (marketer, teammate):
        assert ids(user, SCENARIOS) == [team_scenario.pk]
        assert ids(user, MODELS) == [team_model.pk]
        assert api_as(user).get(f"{SCENARIOS}{org_scenario.pk}/").status_code == 404
    assert ids(outsider, SCENARIOS) == []
    assert api_as(outsider).get(f"{SCENARIOS}{team_scenario.pk}/").status_code == 404
    assert api_as(ops_admin).get(SCENARIOS).status_code == 403
    assert api_as(ops_admin).get(MODELS).status_code == 403
    assert api_as(ops_admin).get("/api/v1/backsolve/", {"target": "1000"}).status_code == 403
    # A teammate reads the scenario but only its owner (or the CMO) changes it.
    assert api_as(teammate).patch(f"{SCENARIOS}{team_scenario.pk}/", {"name": "Mine"}, format="json").status_code == 403
    assert api_as(cmo).patch(f"{SCENARIOS}{team_scenario.pk}/", {"name": "CMO's"}, format="json").status_code == 200
    assert api_as(finance).post(f"{SCENARIOS}{org_scenario.pk}/accept/").status_code == 403


def test_scenario_pages_by_role(client, marketer, outsider, cmo, finance, ops_admin, org_model, team_model):
    scenario = scenario_services.scenario_create(actor=marketer, model=team_model, name="NA push", inputs=optimised())
    pages = [
        reverse("metrics:scenarios"),
        reverse("metrics:scenario-model", args=[team_model.pk]),
        reverse("metrics:scenario-detail", args=[scenario.pk]),
        reverse("metrics:scenario-create") + f"?model={team_model.pk}",
        reverse("metrics:scenario-model-create"),
        reverse("metrics:scenario-backsolve"),
    ]
    for url in pages:
        assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (marketer, cmo, finance):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 200, (user, url)
    client.force_login(outsider)
    assert client.get(pages[1]).status_code == 404 and client.get(pages[2]).status_code == 404
    assert b"NA push" not in client.get(pages[0]).content
    client.force_login(ops_admin)
    assert all(client.get(url).status_code == 403 for url in pages)


def test_the_nav_shows_scenarios_to_planners_only(client, marketer, cmo, finance, ops_admin):
    for user, shown in ((marketer, True), (cmo, True), (finance, True), (ops_admin, False)):
        client.force_login(user)
        assert (b'href="/metrics/scenarios/"' in client.get("/teams/").content) is shown, user
