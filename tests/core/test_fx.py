import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mops import services
from mops.models import AuditEvent, FxRate
from mops.selectors import FxRateMissing, fx_rate_on, to_base_currency
from tests.factories import FxRateFactory

pytestmark = pytest.mark.django_db
JAN1, FEB1, MAR1 = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)


@pytest.fixture
def eur_rates():
    FxRateFactory(currency_id="EUR", date=JAN1, rate=Decimal("1.10"))
    FxRateFactory(currency_id="EUR", date=FEB1, rate=Decimal("1.20"))
    FxRateFactory(currency_id="GBP", date=FEB1, rate=Decimal("1.30"))


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (JAN1, "1.10"),  # exactly on a rate's date
        (datetime.date(2026, 1, 31), "1.10"),  # between rates: the earlier one
        (FEB1, "1.20"),
        (MAR1, "1.20"),  # after the last rate: the last one
    ],
)
def test_rate_is_the_latest_on_or_before_the_date(eur_rates, on, expected):
    assert fx_rate_on("EUR", on) == Decimal(expected)


def test_no_rate_before_the_first_one_is_a_clear_error(eur_rates):
    with pytest.raises(FxRateMissing, match="No exchange rate for EUR on or before 2025-12-31"):
        fx_rate_on("EUR", datetime.date(2025, 12, 31))


def test_base_currency_converts_at_one_without_a_rate_row(settings):
    assert fx_rate_on(settings.BASE_CURRENCY, JAN1) == Decimal(1)


def test_conversion_rounds_half_up_to_the_cent(eur_rates):
    # 10.005 EUR × 1.10 = 11.0055 → 11.01
    assert to_base_currency(Decimal("10.005"), "EUR", JAN1) == Decimal("11.01")


def test_finance_sets_a_rate_and_it_is_audited(finance):
    fx = services.fx_rate_set(actor=finance, currency="EUR", date=MAR1, rate=Decimal("1.15"), source="ECB")
    event = AuditEvent.objects.get(action="fxrate.set")
    assert (event.actor, event.object_id, event.before, event.after) == (finance, str(fx.pk), None, {"rate": "1.15"})


def test_setting_a_days_rate_again_replaces_it_and_records_the_old_value(finance, eur_rates):
    services.fx_rate_set(actor=finance, currency="EUR", date=JAN1, rate=Decimal("1.11"))
    assert FxRate.objects.filter(currency_id="EUR", date=JAN1).count() == 1
    assert fx_rate_on("EUR", JAN1) == Decimal("1.11")
    assert AuditEvent.objects.get(action="fxrate.set").before == {"rate": "1.1000000000"}


def test_a_marketer_cannot_set_rates(marketer):
    with pytest.raises(PermissionDenied):
        services.fx_rate_set(actor=marketer, currency="EUR", date=JAN1, rate=Decimal("1.1"))
    assert not FxRate.objects.exists()


@pytest.mark.parametrize(("currency", "rate", "field"), [("EUR", Decimal(0), "rate"), ("XXX", Decimal(1), "currency")])
def test_invalid_rates_are_refused_with_the_field_named(finance, currency, rate, field):
    with pytest.raises(ValidationError) as error:
        services.fx_rate_set(actor=finance, currency=currency, date=JAN1, rate=rate)
    assert field in error.value.message_dict


def test_fx_page_lets_finance_set_a_rate(client, finance):
    client.force_login(finance)
    response = client.post(
        reverse("mops:fx-list"), {"currency": "GBP", "date": "2026-03-01", "rate": "1.2712", "source": "BoE"}
    )
    assert response.status_code == 302
    assert fx_rate_on("GBP", MAR1) == Decimal("1.2712")


def test_fx_page_shows_form_errors(client, finance):
    client.force_login(finance)
    response = client.post(reverse("mops:fx-list"), {"currency": "GBP", "date": "not a date", "rate": "-1"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"date", "rate"}


def test_fx_page_is_refused_to_marketers(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("mops:fx-list")).status_code == 403
    assert (
        client.post(reverse("mops:fx-list"), {"currency": "GBP", "date": "2026-03-01", "rate": "1"}).status_code == 403
    )


def test_fx_api_create_and_list(api_as, finance, marketer):
    client = api_as(finance)
    response = client.post("/api/v1/fx-rates/", {"currency": "EUR", "date": "2026-03-01", "rate": "1.0825"})
    assert response.status_code == 201, response.json()
    assert response.json()["rate"] == "1.0825000000"  # money and rates travel as decimal strings
    listed = api_as(marketer).get("/api/v1/fx-rates/?currency=EUR").json()
    assert listed["count"] == 1


def test_fx_api_refuses_marketers_and_bad_values(api_as, finance, marketer):
    assert (
        api_as(marketer).post("/api/v1/fx-rates/", {"currency": "EUR", "date": "2026-03-01", "rate": "1"}).status_code
        == 403
    )
    response = api_as(finance).post("/api/v1/fx-rates/", {"currency": "EUR", "date": "2026-13-01", "rate": "0"})
    assert response.status_code == 400
    assert set(response.json()) == {"date", "rate"}
