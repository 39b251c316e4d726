"""The spend and results pages of a campaign: spend by hand (edit, delete, closed months,
currencies) and a week of results at a time."""

import datetime
from decimal import Decimal

import pytest

from campaigns import services
from campaigns.models import ResultFact, SpendEntry
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period
from tests.campaigns.conftest import login, url
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def close_month(finance, day):
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=day.replace(day=1)))


# --- spend ----------------------------------------------------------------------------------------


def test_a_marketer_logs_spend_in_another_currency(client, marketer, campaign, eur_rate):
    response = login(client, marketer).post(
        url("spend-log", campaign.pk),
        {"date": "2026-01-10", "amount": "100", "currency": "EUR", "vendor": "Google", "reference": "INV-1"},
    )
    assert response.status_code == 302
    entry = SpendEntry.objects.get()
    assert (entry.amount_base, entry.vendor, entry.created_by) == (Decimal("110.00"), "Google", marketer)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "greater than or equal to 0"),
        ({"currency": "GBP"}, "currency", "No exchange rate for GBP"),
        ({"date": ""}, "date", "required"),
    ],
)
def test_bad_spend_is_refused_on_its_field(client, marketer, campaign, data, field, message):
    post = {"date": "2026-01-10", "amount": "10", "currency": "USD", **data}
    response = login(client, marketer).post(url("spend-log", campaign.pk), post)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not SpendEntry.objects.exists()


def test_spend_in_a_closed_month_is_refused_on_the_date(client, marketer, finance, campaign):
    close_month(finance, D(2026, 1, 1))
    response = login(client, marketer).post(
        url("spend-log", campaign.pk), {"date": "2026-01-10", "amount": "10", "currency": "USD", "vendor": "Acme"}
    )
    assert "Jan 2026 is closed by finance" in str(response.context["form"].errors["date"])
    assert 'value="Acme"' in response.content.decode()  # input kept


def test_a_tactic_of_another_campaign_cannot_be_chosen(client, marketer, campaign, team):
    other = CampaignFactory(team=team, owner=marketer)
    tactic = services.tactic_create(actor=marketer, campaign=other, name="Elsewhere")
    response = login(client, marketer).post(
        url("spend-log", campaign.pk), {"date": "2026-01-10", "amount": "10", "currency": "USD", "tactic": tactic.pk}
    )
    assert "tactic" in response.context["form"].errors


def test_spend_is_edited_and_deleted(client, marketer, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    response = login(client, marketer).get(url("spend-edit", entry.pk))
    assert response.context["form"].initial["amount"] == Decimal("5.00")
    response = client.post(
        url("spend-edit", entry.pk), {"date": "2026-01-06", "amount": "7.50", "currency": "USD", "vendor": "Meta"}
    )
    assert response.status_code == 302 and response.url == url("spend-log", campaign.pk)
    entry.refresh_from_db()
    assert (entry.date, entry.amount, entry.vendor) == (D(2026, 1, 6), Decimal("7.50"), "Meta")
    assert client.post(url("spend-delete", entry.pk)).status_code == 302
    assert not SpendEntry.objects.exists()
    assert AuditEvent.objects.filter(action="spend.delete").exists()


def test_spend_of_a_closed_month_cannot_be_edited_or_deleted(client, marketer, finance, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    close_month(finance, D(2026, 1, 1))
    response = login(client, marketer).post(
        url("spend-edit", entry.pk), {"date": "2026-01-05", "amount": "9", "currency": "USD"}
    )
    assert "closed by finance" in str(response.context["form"].errors["date"])
    response = client.post(url("spend-delete", entry.pk), follow=True)
    assert "closed by finance" in response.content.decode()
    assert SpendEntry.objects.get().amount == Decimal("5.00")


def test_moving_spend_to_a_currency_without_a_rate_is_refused(client, marketer, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    response = login(client, marketer).post(
        url("spend-edit", entry.pk), {"date": "2026-01-05", "amount": "5", "currency": "GBP"}
    )
    assert "No exchange rate for GBP" in str(response.context["form"].errors["currency"])


# --- results, a week at a time ------------------------------------------------------------------


def week_post(rows: dict[int, dict]):
    """The week form's POST data: ``rows`` maps a day offset (0 = Monday) to its measures."""
    data = {"day-TOTAL_FORMS": "7", "day-INITIAL_FORMS": "7", "day-MIN_NUM_FORMS": "7", "day-MAX_NUM_FORMS": "7"}
    for offset in range(7):
        for measure, value in rows.get(offset, {}).items():
            data[f"day-{offset}-{measure}"] = str(value)
    return data


def test_a_week_of_results_is_logged_day_by_day(client, marketer, campaign):
    page = url("results-log", campaign.pk) + "?week=2026-01-07"  # any day picks its week
    response = login(client, marketer).get(page)
    assert response.context["week"] == D(2026, 1, 5)
    response = client.post(page, week_post({0: {"leads": 3, "clicks": 40}, 1: {"leads": 5}, 4: {"revenue": "99.50"}}))
    assert response.status_code == 302
    facts = {f.date: f for f in ResultFact.objects.all()}
    assert sorted(facts) == [D(2026, 1, 5), D(2026, 1, 6), D(2026, 1, 9)]
    assert (facts[D(2026, 1, 5)].leads, facts[D(2026, 1, 5)].clicks) == (3, 40)
    assert facts[D(2026, 1, 9)].revenue == Decimal("99.50")
    message = next(iter(client.get(response.url).context["messages"]))
    assert str(message) == "3 days created, 0 updated, 0 unchanged."


def test_logging_the_week_again_reports_updated_and_unchanged_days(client, marketer, campaign):
    page = url("results-log", campaign.pk) + "?week=2026-01-05"
    login(client, marketer).post(page, week_post({0: {"leads": 3}, 1: {"leads": 5}}))
    # The form comes back filled with what was saved.
    form = client.get(page).context["formset"].forms[0]
    assert form.initial["leads"] == 3
    response = client.post(page, week_post({0: {"leads": 3}, 1: {"leads": 6}, 2: {"leads": 1}}), follow=True)
    assert "1 day created, 1 updated, 1 unchanged." in response.content.decode()
    assert ResultFact.objects.count() == 3
    assert ResultFact.objects.get(date=D(2026, 1, 6)).leads == 6


def test_a_bad_row_saves_nothing_of_the_week(client, marketer, campaign):
    page = url("results-log", campaign.pk) + "?week=2026-01-05"
    response = login(client, marketer).post(page, week_post({0: {"leads": 3}, 3: {"leads": -1}}))
    assert response.status_code == 200
    assert "greater than or equal to 0" in str(response.context["formset"].forms[3].errors["leads"])
    assert not ResultFact.objects.exists()


def test_a_closed_day_rolls_back_the_rows_saved_before_it(client, marketer, finance, campaign):
    close_month(finance, D(2026, 2, 1))
    page = url("results-log", campaign.pk) + "?week=2026-01-26"  # Mon 26 Jan … Sun 1 Feb
    response = login(client, marketer).post(page, week_post({0: {"leads": 3}, 6: {"leads": 2}}))
    assert response.status_code == 200
    row = response.context["formset"].forms[6]
    assert "Feb 2026 is closed by finance" in str(row.non_field_errors())
    assert "Nothing was saved" in response.content.decode()
    assert not ResultFact.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="results.").exists()


def test_an_empty_week_saves_nothing(client, marketer, campaign):
    response = login(client, marketer).post(url("results-log", campaign.pk) + "?week=2026-01-05", week_post({}))
    assert response.status_code == 302
    assert not ResultFact.objects.exists()


def test_a_tampered_week_form_is_refused(client, marketer, campaign):
    data = week_post({0: {"leads": 1}}) | {"day-TOTAL_FORMS": "8"}
    response = login(client, marketer).post(url("results-log", campaign.pk) + "?week=2026-01-05", data)
    assert response.status_code == 200
    assert not ResultFact.objects.exists()
