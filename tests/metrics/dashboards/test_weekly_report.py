"""The weekly e-mail report: who gets it, the numbers (the same as the selectors', and by hand),
"—" for no value, the link to the CMO dashboard, and the Celery task."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from budgets import services as budget_services
from campaigns import services as campaign_services
from metrics.dashboards import report
from metrics.kpis import selectors as kpi_selectors
from metrics.rollups import selectors, services
from metrics.tasks import send_weekly_report
from mops.roles import Role
from planning.models import Period
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = datetime.date(2026, 3, 16)  # a Monday: the last full week is 9–15 March 2026
WEEK = (datetime.date(2026, 3, 9), datetime.date(2026, 3, 15))
ALL = selectors.Scope(team_ids=None, budgets=True)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://mops.example.test/"
    settings.FISCAL_YEAR_START_MONTH = 1
    settings.BASE_CURRENCY = "USD"


@pytest.fixture
def facts(team, marketer, finance):
    """FY2026: 120,000 budget; spend 1,300 in February and 700 in the report's week (and 250 the day
    after it, which neither column counts); 2 customers and 3,000 revenue before the week, 5,000
    pipeline in it."""
    year = fiscal_year_ensure(year=2026)
    budget = budget_services.budget_create(actor=finance, fiscal_year=year, name="FY2026")
    line = budget_services.line_create(actor=finance, budget=budget, name="All marketing")
    budget_services.phasing_set(actor=finance, line=line, amounts={p: D("10000") for p in Period.objects.all()})
    campaign = CampaignFactory(
        team=team,
        owner=marketer,
        channel=ChannelFactory(name="Paid search"),
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
    )
    for date, amount in (((2026, 2, 2), "1300.00"), ((2026, 3, 10), "700.00"), ((2026, 3, 16), "250.00")):
        campaign_services.spend_log(
            actor=marketer, campaign=campaign, date=datetime.date(*date), amount=D(amount), currency="USD"
        )
    campaign_services.results_log(
        actor=marketer, campaign=campaign, date=datetime.date(2026, 2, 20), new_customers=2, revenue=D("3000.00")
    )
    campaign_services.results_log(actor=marketer, campaign=campaign, date=datetime.date(2026, 3, 12), pipeline=D(5000))
    services.refresh_pending()


@pytest.fixture
def people(cmo, finance, ops_admin, marketer):
    UserFactory(username="both", email="both@example.test", roles=[Role.CMO, Role.FINANCE])
    UserFactory(username="gone", email="gone@example.test", roles=[Role.FINANCE], is_active=False)
    UserFactory(username="no-mail", email="", roles=[Role.CMO])
    UserFactory(username="same-inbox", email="CAROL-CMO@example.test", roles=[Role.FINANCE])


def test_recipients_are_active_cmo_and_finance_users_with_an_address_once_each(people):
    assert report.recipients() == ["both@example.test", "carol-cmo@example.test", "fred-finance@example.test"]


def test_last_full_week_is_monday_to_sunday_before_today():
    assert report.last_full_week(TODAY) == WEEK
    assert report.last_full_week(datetime.date(2026, 3, 22)) == WEEK  # Sunday: its own week is not over
    new_year = report.last_full_week(datetime.date(2026, 1, 1))
    assert new_year == (datetime.date(2025, 12, 22), datetime.date(2025, 12, 28))


def test_numbers_match_the_selectors_and_a_hand_computation(facts):
    built = report.build(TODAY)
    catalogue = kpi_selectors.kpi_catalogue()
    codes = list(report.HEADLINES)
    for start, attribute in ((WEEK[0], "week"), (datetime.date(2026, 1, 1), "year_to_date")):
        rows = selectors.measures_by(selectors.Filters(start=start, end=WEEK[1]), "organisation", scope=ALL)
        expected = kpi_selectors.with_kpis([selectors.total(rows)], codes, catalogue)[0].values
        assert {line.code: getattr(line, attribute) for line in built.headlines} == expected

    by_code = {line.code: line for line in built.headlines}
    assert [(c, by_code[c].week, by_code[c].year_to_date) for c in codes] == [
        ("spend", D("700.00"), D("2000.00")),
        ("pipeline", D("5000.00"), D("5000.00")),
        ("revenue", D("0.00"), D("3000.00")),
        ("roi", D(-1), D("0.5")),  # (0 − 700) / 700; (3000 − 2000) / 2000
        ("cac", None, D(1000)),  # no customer won that week: no value
    ]
    assert (built.budget, built.spend_to_date, built.budget_used) == (D("120000.00"), D("2000.00"), D(2000) / 120000)
    assert (by_code["cac"].week_shown, by_code["cac"].year_to_date_shown) == ("—", "1,000.00 USD")
    assert (by_code["roi"].week_shown, by_code["roi"].year_to_date_shown) == ("-100.0 %", "50.0 %")
    assert (built.budget_shown, built.budget_used_shown) == ("120,000.00 USD", "1.7 %")


def test_the_email_goes_to_each_recipient_with_the_numbers_and_the_link(facts, people):
    assert report.send(TODAY) == 3
    assert [m.to for m in mail.outbox] == [
        ["both@example.test"],
        ["carol-cmo@example.test"],
        ["fred-finance@example.test"],
    ]
    message = mail.outbox[0]
    assert message.subject == "Marketing weekly: W11 2026 (9 Mar – 15 Mar 2026)"
    link = "https://mops.example.test/metrics/cmo/"
    text = message.body
    assert link in text
    assert "2,000.00 USD spent in FY2026 to date, of a budget of 120,000.00 USD (1.7 % used)" in text
    spend_line = next(line for line in text.splitlines() if line.startswith("Spend ") and "last week" in line)
    assert "700.00 USD" in spend_line and "2,000.00 USD" in spend_line
    cac_line = next(line for line in text.splitlines() if line.startswith("CAC "))
    assert "last week: —" in cac_line and "1,000.00 USD" in cac_line
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert "1,000.00 USD" in html and "-100.0 %" in html and "—" in html


def test_an_organisation_without_data_reads_no_value_not_zero_ratios(cmo):
    built = report.build(TODAY)
    shown = {line.code: (line.week_shown, line.year_to_date_shown) for line in built.headlines}
    assert shown["spend"] == ("0.00 USD", "0.00 USD")
    assert shown["roi"] == ("—", "—")
    assert shown["cac"] == ("—", "—")
    assert (built.budget_shown, built.budget_used_shown) == ("—", "—")
    _, text, _ = report.render(built)
    assert "of a budget of — (— used)" in text


def test_the_task_sends_the_report_and_returns_how_many_were_sent(people):
    assert send_weekly_report.delay().get() == 3
    assert len(mail.outbox) == 3
    assert all("https://mops.example.test/metrics/cmo/" in m.body for m in mail.outbox)


def test_nobody_to_send_to_sends_nothing(marketer, ops_admin):
    assert send_weekly_report.delay().get() == 0
    assert mail.outbox == []
