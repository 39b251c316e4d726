"""The CMO plans on the scenario pages; the lists read a constant number of queries."""

import csv
import datetime
import io

import pytest
import time_machine
from django.urls import reverse

from budgets.models import RequestStatus, Transfer
from metrics.scenarios import services as scenario_services
from metrics.scenarios.models import Scenario
from tests.metrics.scenarios.scenario_data import (
    APRIL,
    SCENARIOS,
    optimised,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_fits")]


# --- pages -----------------------------------------------------------------------------------------


@pytest.fixture
def in_december_2026():
    """The scenario form offers the months from a year before today and the test plans Q2 of the FY2026
    budget: from its first fixture on, the test runs in December 2026 whatever the date the suite runs on
    (its ledger entries take effect then too)."""
    with time_machine.travel(datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC), tick=True):
        yield


def test_the_cmo_plans_on_the_pages(in_december_2026, client, cmo, org_model, budget_lines, transfer_template):
    client.force_login(cmo)
    detail = client.get(reverse("metrics:scenario-model", args=[org_model.pk]))
    assert detail.status_code == 200
    assert detail.content.count(b'data-testid="curve"') == 3 and b"naive forecast" in detail.content
    curves = client.get(reverse("metrics:scenario-model", args=[org_model.pk]), {"download": "curves", "format": "csv"})
    rows = list(csv.reader(io.StringIO(curves.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Weekly spend", "Weekly response"] and len(rows) == 1 + 3 * 41

    form = reverse("metrics:scenario-create") + f"?model={org_model.pk}"
    fields = {"name": "Q2 optimum", "kind": "optimised", "start": "2026-04-01", "months": "3", "total_budget": ""}
    preview = client.post(form, fields | {"preview": "1"})
    assert preview.status_code == 200 and b'data-testid="preview"' in preview.content
    assert Scenario.objects.count() == 0
    bad = client.post(form, fields | {"min_0": "999999", "save": "1"})
    assert bad.status_code == 200 and b"more than the budget" in bad.content
    saved = client.post(form, fields | {"save": "1"})
    scenario = Scenario.objects.get()
    assert saved.status_code == 302 and saved.url == reverse("metrics:scenario-detail", args=[scenario.pk])

    page = client.get(saved.url)
    assert b"Beside the current plan" in page.content and b"returns the same" in page.content
    moves = client.get(saved.url, {"download": "moves", "format": "csv"})
    assert moves.status_code == 200 and b"Paid search" in moves.content
    client.post(saved.url, {"action": "accept"})
    proposed = client.post(saved.url, {"action": "propose"}, follow=True)
    assert b"transfer request(s) sent to finance" in proposed.content
    assert Transfer.objects.filter(status=RequestStatus.PENDING).exists()

    plan = scenario_services.scenario_create(
        actor=cmo, model=org_model, name="As planned", inputs=scenario_services.ScenarioInputs(kind="plan", start=APRIL)
    )
    compared = client.get(reverse("metrics:scenario-compare"), {"s": [scenario.pk, plan.pk]})
    assert compared.status_code == 200 and b"As planned" in compared.content and b"Q2 optimum" in compared.content
    assert client.get(reverse("metrics:scenario-compare"), {"s": [scenario.pk]}).status_code == 302


def test_lists_read_a_constant_number_of_queries(api_as, client, cmo, org_model, budget_lines):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(fetch) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert fetch().status_code == 200
        return len(queries)

    scenario_services.scenario_create(actor=cmo, model=org_model, name="One", inputs=optimised())
    client.force_login(cmo)
    api, page = count(lambda: api_as(cmo).get(SCENARIOS)), count(lambda: client.get(reverse("metrics:scenarios")))
    for name in ("Two", "Three", "Four"):
        scenario_services.scenario_create(actor=cmo, model=org_model, name=name, inputs=optimised())
    assert count(lambda: api_as(cmo).get(SCENARIOS)) == api
    assert count(lambda: client.get(reverse("metrics:scenarios"))) == page
