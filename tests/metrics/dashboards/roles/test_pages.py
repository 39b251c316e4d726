"""The finance, marketer and ops pages: filter bar, formulas, currency, no value, a bad filter and
constant query counts."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets.requests import services as request_services
from campaigns.models import FactSource, ImportBatch
from metrics.rollups import services
from tests.factories import CampaignFactory
from tests.metrics.dashboards.roles.helpers import FY, D, results, spend
from workflows import subjects
from workflows.models import StepStatus, StepTask

pytestmark = pytest.mark.django_db


# --- pages: filters, formulas, currency, no value, query counts -------------------------------


def test_pages_show_the_filter_bar_formulas_and_currency(world, client, finance, marketer, ops_admin):
    for user, url_name, formula in (
        (finance, "metrics:finance", "Budget utilisation = (spend + committed) ÷ budget"),
        (marketer, "metrics:marketer", "run rate = spent ÷ days since the start"),
        (ops_admin, "metrics:ops", "breach rate = breached ÷ steps due"),
    ):
        client.force_login(user)
        page = client.get(reverse(url_name), FY).content.decode()
        assert 'data-testid="filter-bar"' in page
        assert "FY2026: 1 Jan – 31 Dec 2026" in page and "no changes waiting" in page
        assert formula in page
        assert "(USD)" in page
        assert "mops-figure" in page


def test_the_team_filter_narrows_the_finance_dashboard(world, client, finance, other_team):
    client.force_login(finance)
    response = client.get(reverse("metrics:finance"), {**FY, "team": other_team.pk, "download": "by-team"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(response.content.decode()))}
    assert set(rows) == {"Team", "EMEA", "Total"}
    page = client.get(reverse("metrics:finance"), {**FY, "team": other_team.pk}).content.decode()
    assert "Team: EMEA" in page
    assert D(rows["Total"][4]) == D("5000.00")


def _grow(world, team, other_team, marketer, outsider, ops_admin, templates, size):
    """More of everything: campaigns with facts and allocations, workflows, imports."""
    month = world["month"]
    for index in range(size):
        for owner, owner_team, line in ((marketer, team, world["na_line"]), (outsider, other_team, world["emea_line"])):
            campaign = CampaignFactory(
                team=owner_team,
                owner=owner,
                channel=world["q1"].channel,
                start_date=datetime.date(2026, 1, 1),
                end_date=datetime.date(2026, 12, 31),
            )
            for day in (datetime.date(2026, 1, 5 + index), datetime.date(2026, 2, 9 + index)):
                spend(campaign, day, "100")
                spend(campaign, day, "100", source=FactSource.META_ADS, key="m")
                results(campaign, day, leads=2)
            request_services.allocation_request_create(
                actor=owner,
                line=line,
                campaign=campaign,
                months={month[1]: D("500")},
                currency="USD",
                justification="more",
            )
        subjects.request_create(actor=ops_admin, template=templates, title=f"Launch {index}", team=team)
        ImportBatch.objects.create(
            file="imports/y.csv",
            filename="y.csv",
            file_sha256="1" * 64,
            format=FactSource.META_ADS,
            status="done",
            uploaded_by=marketer,
            finished_at=timezone.now(),
        )
    StepTask.objects.filter(status=StepStatus.ACTIVE).update(due_at=timezone.now() - datetime.timedelta(days=1))
    services.refresh_pending()


@pytest.mark.parametrize(
    ("url_name", "who", "limit"),
    [("metrics:finance", "finance", 29), ("metrics:marketer", "marketer", 15), ("metrics:ops", "ops_admin", 24)],
)
def test_query_count_is_constant_in_the_size_of_the_data(
    world,
    client,
    request,
    django_assert_max_num_queries,
    team,
    other_team,
    marketer,
    outsider,
    ops_admin,
    templates,
    url_name,
    who,
    limit,
):
    client.force_login(request.getfixturevalue(who))
    counts = []
    for size in (1, 6):
        _grow(world, team, other_team, marketer, outsider, ops_admin, templates, size)
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(url_name), FY).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_pages_work_with_no_data_at_all(client, finance, marketer, ops_admin):
    for user, url_name in ((finance, "metrics:finance"), (marketer, "metrics:marketer"), (ops_admin, "metrics:ops")):
        client.force_login(user)
        page = client.get(reverse(url_name)).content.decode()
        assert "No data for these filters." in page or "—" in page


def test_a_bad_filter_shows_the_error_and_the_default_period(world, client, finance):
    client.force_login(finance)
    page = client.get(reverse("metrics:finance"), {"start": "2026-05-01", "end": "2026-01-01"}).content.decode()
    assert 'data-testid="filter-errors"' in page
