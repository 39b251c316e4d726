import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mops.errors import Conflict
from mops.models import AuditEvent
from planning import services
from planning.models import Period
from planning.selectors import PeriodClosed, assert_open, closed_periods_between

pytestmark = pytest.mark.django_db


@pytest.fixture
def fy(settings):
    settings.FISCAL_YEAR_START_MONTH = 7
    return services.fiscal_year_ensure(year=2027)  # 2026-07-01 … 2027-06-30


@pytest.fixture
def march(fy):
    return Period.objects.get(start_date=datetime.date(2027, 3, 1))


def test_a_fiscal_year_has_twelve_monthly_periods(fy):
    periods = list(fy.periods.order_by("start_date"))
    assert len(periods) == 12
    assert (periods[0].start_date, periods[0].end_date) == (datetime.date(2026, 7, 1), datetime.date(2026, 7, 31))
    assert periods[7].end_date == datetime.date(2027, 2, 28)
    assert [p.fiscal_quarter for p in periods] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    assert services.fiscal_year_ensure(year=2027).periods.count() == 12  # idempotent


def test_finance_closes_and_reopens_a_month_audited(finance, march):
    services.period_close(actor=finance, period=march)
    with pytest.raises(PeriodClosed, match="Mar 2027 is closed by finance"):
        assert_open(datetime.date(2027, 3, 15))
    assert_open(datetime.date(2027, 4, 1))  # the next month is open
    services.period_reopen(actor=finance, period=march)
    assert_open(datetime.date(2027, 3, 15))
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == ["period.close", "period.reopen"]


def test_closing_twice_is_a_conflict(finance, march):
    services.period_close(actor=finance, period=march)
    with pytest.raises(Conflict, match="already closed"):
        services.period_close(actor=finance, period=march)


@pytest.mark.parametrize("who", ["marketer", "cmo", "ops_admin"])
def test_only_finance_closes_periods(request, who, march):
    with pytest.raises(PermissionDenied):
        services.period_close(actor=request.getfixturevalue(who), period=march)
    march.refresh_from_db()
    assert not march.is_closed


def test_closed_periods_between_finds_overlaps_in_one_query(finance, fy, django_assert_num_queries):
    for period in fy.periods.filter(start_date__in=[datetime.date(2026, 8, 1), datetime.date(2026, 10, 1)]):
        services.period_close(actor=finance, period=period)
    with django_assert_num_queries(1):
        closed = closed_periods_between(datetime.date(2026, 8, 20), datetime.date(2026, 12, 31))
    assert [str(p) for p in closed] == ["Aug 2026", "Oct 2026"]


def test_calendar_page_lets_finance_close_a_month(client, finance, march):
    client.force_login(finance)
    page = client.get(reverse("planning:home") + "?year=2027")
    assert page.status_code == 200
    assert b"Close" in page.content
    response = client.post(reverse("planning:period-close", args=[march.pk]))
    assert response.status_code == 302
    march.refresh_from_db()
    assert march.is_closed
    again = client.post(reverse("planning:period-close", args=[march.pk]), follow=True)
    assert "already closed" in again.content.decode()


def test_calendar_page_hides_and_refuses_closing_for_marketers(client, marketer, march):
    client.force_login(marketer)
    page = client.get(reverse("planning:home") + "?year=2027")
    assert page.context["can_close"] is False
    assert client.post(reverse("planning:period-close", args=[march.pk])).status_code == 403


def test_period_api(api_as, finance, marketer, march):
    listed = api_as(marketer).get("/api/v1/periods/?fiscal_year__year=2027").json()
    assert listed["count"] == 12
    assert api_as(marketer).post(f"/api/v1/periods/{march.pk}/close/").status_code == 403
    closed = api_as(finance).post(f"/api/v1/periods/{march.pk}/close/")
    assert closed.status_code == 200
    assert closed.json()["is_closed"] is True
    assert closed.json()["closed_by"] == finance.username
    conflict = api_as(finance).post(f"/api/v1/periods/{march.pk}/close/")
    assert conflict.status_code == 409
    assert "already closed" in conflict.json()["detail"]
