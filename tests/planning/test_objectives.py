import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from planning import services
from planning.models import KpiTarget, Objective, Period
from planning.selectors import target_grid

pytestmark = pytest.mark.django_db


@pytest.fixture
def fy():
    return services.fiscal_year_ensure(year=2026)


@pytest.fixture
def objective(fy, cmo):
    return services.objective_create(actor=cmo, fiscal_year=fy, name="Grow pipeline to 12M")


def test_cmo_sets_monthly_targets_and_can_change_and_remove_them(objective, cmo, fy):
    jan, feb = fy.periods.order_by("start_date")[:2]
    services.targets_set(
        actor=cmo, objective=objective, kpi="pipeline", values={jan: Decimal(1000000), feb: Decimal(900000)}
    )
    services.targets_set(actor=cmo, objective=objective, kpi="pipeline", values={jan: Decimal(1100000), feb: None})
    assert list(KpiTarget.objects.values_list("period__start_date", "target_value")) == [
        (datetime.date(2026, 1, 1), Decimal("1100000.0000"))
    ]
    grid = target_grid(objective)
    assert grid[0][0] == "pipeline"
    assert grid[0][2][:2] == [Decimal("1100000.0000"), None]


def test_targets_refuse_other_years_and_negatives(objective, cmo):
    other_year = services.fiscal_year_ensure(year=2027).periods.first()
    jan = objective.fiscal_year.periods.order_by("start_date").first()
    with pytest.raises(ValidationError) as error:
        services.targets_set(
            actor=cmo, objective=objective, kpi="leads", values={other_year: Decimal(1), jan: Decimal(-5)}
        )
    assert len(error.value.message_dict["values"]) == 2
    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize("who", ["marketer", "finance"])
def test_only_cmo_and_ops_admins_set_objectives(request, who, fy):
    with pytest.raises(PermissionDenied):
        services.objective_create(actor=request.getfixturevalue(who), fiscal_year=fy, name="Rogue")


def test_objective_pages(client, cmo, marketer, fy):
    client.force_login(cmo)
    response = client.post(reverse("planning:objective-create"), {"fiscal_year": fy.pk, "name": "Win 480 customers"})
    objective = Objective.objects.get(name="Win 480 customers")
    assert response.url == reverse("planning:objective-detail", args=[objective.pk])
    periods = list(fy.periods.order_by("start_date"))
    data = {"kpi": "new_customers", f"m{periods[0].pk}": "40", f"m{periods[1].pk}": ""}
    assert client.post(reverse("planning:objective-detail", args=[objective.pk]), data).status_code == 302
    assert KpiTarget.objects.get().target_value == Decimal(40)
    bad = client.post(
        reverse("planning:objective-detail", args=[objective.pk]), {"kpi": "new_customers", f"m{periods[0].pk}": "-1"}
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors

    client.force_login(marketer)
    assert client.get(reverse("planning:objective-detail", args=[objective.pk])).status_code == 200
    assert client.get(reverse("planning:objective-create")).status_code == 403
    assert client.post(reverse("planning:objective-detail", args=[objective.pk]), data).status_code == 403


def test_objective_api(api_as, cmo, marketer, fy):
    created = api_as(cmo).post("/api/v1/objectives/", {"fiscal_year": 2026, "name": "Pipeline"})
    assert created.status_code == 201, created.json()
    oid = created.json()["id"]
    body = {"kpi": "pipeline", "values": {"2026-01-01": "1000000", "2026-02-01": "900000.50"}}
    response = api_as(cmo).post(f"/api/v1/objectives/{oid}/targets/", body, format="json")
    assert response.status_code == 200, response.json()
    assert [t["target_value"] for t in response.json()["targets"]] == ["1000000.0000", "900000.5000"]
    bad = api_as(cmo).post(
        f"/api/v1/objectives/{oid}/targets/", {"kpi": "pipeline", "values": {"2026-01-15": "1"}}, format="json"
    )
    assert bad.status_code == 400
    assert "values" in bad.json()
    assert api_as(marketer).post(f"/api/v1/objectives/{oid}/targets/", body, format="json").status_code == 403
    assert len(api_as(marketer).get(f"/api/v1/objectives/{oid}/").json()["targets"]) == 2
    assert Period.objects.count() == 12
