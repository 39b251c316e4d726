"""Response models through Django: the weekly series from the rollups, models fitted by the task (and
the plain messages when the data cannot support one), and the fit served by the API."""

import datetime

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios import services as scenario_services
from metrics.scenarios.models import FitStatus
from tests.metrics.scenarios.scenario_data import (
    CHANNELS,
    MODELS,
    constant,
    write_weekly,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_fits")]


# --- the weekly series -----------------------------------------------------------------------------


def test_weekly_series_fills_gaps_and_leaves_out_members_that_never_spent(team, marketer, other_team, outsider):
    weeks = [datetime.date(2025, 1, 6) + datetime.timedelta(weeks=j) for j in range(10)]
    spend = np.array([100, 0, 0, 50, 80, 0, 10, 20, 30, 40.0])
    write_weekly(team=team, owner=marketer, weeks=weeks, spend={"Paid search": spend}, outcome=np.arange(10) * 1000.0)
    # Another team's figures stay out of a team's series.
    write_weekly(
        team=other_team, owner=outsider, weeks=weeks[:3], spend={"Radio": constant(3, 999)}, outcome=constant(3, 5e5)
    )

    series = scenario_selectors.weekly_series(
        outcome="pipeline", level="channel", team_id=team.pk, today=datetime.date(2025, 6, 1)
    )

    assert series.weeks == weeks  # consecutive Mondays, weeks with no spend included
    assert list(series.spend) == ["Paid search"]  # "Baseline" carries pipeline only: no curve to learn
    assert series.spend["Paid search"].tolist() == spend.tolist()
    assert series.outcome.tolist() == (np.arange(10) * 1000.0).tolist()
    assert set(series.members) == {"Baseline", "Paid search"}

    everyone = scenario_selectors.weekly_series(outcome="pipeline", level="channel", today=datetime.date(2025, 6, 1))
    assert set(everyone.spend) == {"Paid search", "Radio"}
    # The week that has not ended is left out: its facts are still coming.
    cut = scenario_selectors.weekly_series(outcome="pipeline", level="channel", today=weeks[5] + datetime.timedelta(1))
    assert cut.weeks[-1] == weeks[4]


# --- response models -------------------------------------------------------------------------------


def test_a_fitted_model_stores_its_result_and_members(org_model, history):
    result = scenario_selectors.fit_result(org_model)
    assert sorted(c.key for c in result.channels) == sorted(CHANNELS)
    assert org_model.members["Paid search"] == history["Paid search"].pk
    assert (org_model.weeks, org_model.first_week) == (104, datetime.date(2022, 1, 3))
    assert org_model.fit_seconds < 10 and org_model.finished_at >= org_model.started_at
    assert result.holdout is not None and 0 <= result.ranking_stability <= 1


def test_fitting_twice_is_harmless(org_model):
    before = org_model.result
    again = scenario_services.response_model_fit(model_id=org_model.pk)
    assert again.status == FitStatus.DONE and again.result == before


@pytest.mark.parametrize(
    ("weeks", "spend", "message"),
    [
        (0, None, "no weekly spend or pipeline"),
        (30, "varied", "Only 30 weeks of history"),
        (70, "constant", "No channel has spend that varies"),
    ],
)
def test_degenerate_data_fails_with_a_plain_message(team, marketer, fit, weeks, spend, message):
    if weeks:
        days = [datetime.date(2024, 1, 1) + datetime.timedelta(weeks=j) for j in range(weeks)]
        rng = np.random.default_rng(0)
        values = rng.uniform(100, 1000, weeks) if spend == "varied" else constant(weeks, 500)
        write_weekly(
            team=team, owner=marketer, weeks=days, spend={"Paid search": values}, outcome=rng.uniform(1, 9, weeks) * 1e4
        )

    model = fit(marketer, team=team)

    assert model.status == FitStatus.FAILED
    assert message in model.error
    assert model.result is None


def test_degenerate_data_messages_reach_the_api_and_the_page(
    api_as, client, team, marketer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(marketer).post(MODELS, {"outcome": "revenue", "team": team.pk}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "queued"
    body = api_as(marketer).get(f"{MODELS}{response.json()['id']}/").json()
    assert body["status"] == "failed" and body["fit"] is None
    assert "nothing to fit" in body["error"]

    client.force_login(marketer)
    page = client.get(reverse("metrics:scenario-model", args=[body["id"]]))
    assert page.status_code == 200 and b"nothing to fit" in page.content


def test_a_marketer_fits_only_for_their_own_team(marketer, other_team, history, fit):
    with pytest.raises(ValidationError) as refused:
        fit(marketer)
    assert "team" in refused.value.message_dict
    with pytest.raises(ValidationError) as foreign:
        fit(marketer, team=other_team)
    assert "your own teams" in str(foreign.value)


def test_the_api_serves_the_fit_with_its_curves(api_as, finance, org_model):
    body = api_as(finance).get(f"{MODELS}{org_model.pk}/").json()
    fit = body["fit"]
    assert body["status"] == "done" and fit["holdout"]["weeks"] == 13
    assert [c["name"] for c in fit["channels"]] == fit["ranking"]
    channel = fit["channels"][0]
    assert channel["rank"] == 1 and len(channel["curve"]) == 41 and channel["curve"][0]["weekly_spend"] == 0
    assert (
        channel["marginal_return"]["low"] <= channel["marginal_return"]["value"] <= channel["marginal_return"]["high"]
    )
