"""Proof of issue 7 on public simulated datasets, through the path real data takes: the weekly spend per
channel and the revenue, written as a generic long spreadsheet (date, campaign code, spend, revenue),
imported by a marketer, rolled up, then fitted by the response-model service and its Celery task.

Robyn's weekly data (MIT, Meta) and Meridian's national data (Apache-2.0, Google): see
tests/data/README.md. The figures asserted are the ones the README's "Scenario planning" reports.
"""

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db.models import Sum

from campaigns.imports.services import import_start, import_upload
from campaigns.models import ImportStatus, ResultFact, SpendEntry
from metrics.rollups import services
from metrics.scenarios import selectors as scenario_selectors
from metrics.scenarios import services as scenario_services
from metrics.scenarios.models import FitStatus
from tests.factories import CampaignFactory, ChannelFactory

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def read(name: str, date_column: str) -> list[dict]:
    with open(DATA / name, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return sorted(rows, key=lambda row: row[date_column])


def import_weekly(marketer, team, rows, *, date_column, spend_columns: dict, revenue, captured):
    """One campaign per channel (named as the dataset's column) plus a no-spend "Baseline" campaign that
    carries the week's revenue; each week's figures dated on its Monday. Returns the campaigns."""
    first = datetime.date.fromisoformat(rows[0][date_column])
    last = datetime.date.fromisoformat(rows[-1][date_column]) + datetime.timedelta(days=6)
    campaigns = {}
    for name in [*spend_columns.values(), "Baseline"]:
        channel = ChannelFactory(name=name, slug=name.lower().replace(" ", "-"))
        campaigns[name] = CampaignFactory(
            name=f"{name} always-on",
            code=f"ds-{channel.slug}",
            team=team,
            owner=marketer,
            channel=channel,
            start_date=first,
            end_date=last,
        )
    out = io.StringIO()
    sheet = csv.writer(out)
    sheet.writerow(["Date", "Campaign code", "Spend", "Currency", "Won revenue"])
    for row in rows:
        day = row[date_column]
        for column, name in spend_columns.items():
            sheet.writerow([day, campaigns[name].code, f"{float(row[column]):.2f}", "USD", "0"])
        sheet.writerow([day, campaigns["Baseline"].code, "0", "USD", f"{revenue(row):.2f}"])
    batch = import_upload(
        actor=marketer, file=ContentFile(out.getvalue().encode(), name="weekly.csv"), filename="weekly.csv"
    )
    assert (batch.format, batch.errors) == ("generic", [])
    with captured(execute=True):
        import_start(actor=marketer, batch=batch)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE, batch.errors
    return campaigns


def imported_totals() -> tuple[Decimal, Decimal]:
    spend = SpendEntry.objects.aggregate(total=Sum("amount_base"))["total"]
    return spend, ResultFact.objects.aggregate(total=Sum("revenue"))["total"]


def fit_through_the_service(cmo, captured):
    services.rebuild_all(compare=False)
    with captured(execute=True):  # the task runs eagerly after commit, like `make run`
        model = scenario_services.response_model_request(actor=cmo, outcome="revenue")
    model.refresh_from_db()
    return model


def test_robyn_weekly_through_import_rollup_and_fit(marketer, team, cmo, django_capture_on_commit_callbacks):
    rows = read("robyn_dt_simulated_weekly.csv", "DATE")
    spend_columns = {"tv_S": "TV", "ooh_S": "Out of home", "print_S": "Print", "search_S": "Search"}
    spend_columns["facebook_S"] = "Facebook"
    import_weekly(
        marketer,
        team,
        rows,
        date_column="DATE",
        spend_columns=spend_columns,
        revenue=lambda row: float(row["revenue"]),
        captured=django_capture_on_commit_callbacks,
    )
    spend, revenue = imported_totals()  # the README's oracles, to the rounding of 208 rows to cents
    assert abs(spend - Decimal("14529098.51")) < 1 and abs(revenue - Decimal("379005696.67")) < 1

    model = fit_through_the_service(cmo, django_capture_on_commit_callbacks)

    assert model.status == FitStatus.DONE, model.error
    assert (model.weeks, model.first_week, model.last_week) == (
        208,
        datetime.date(2015, 11, 23),
        datetime.date(2019, 11, 11),
    )
    result = scenario_selectors.fit_result(model)
    assert sorted(c.key for c in result.channels) == sorted(spend_columns.values())  # "Baseline" never spent
    assert result.seasonality and result.bootstrap == scenario_services.BOOTSTRAP
    holdout = result.holdout
    assert holdout.weeks == 13 and holdout.beats_baseline
    assert holdout.rmse < 0.9 * holdout.baseline_rmse  # 266,8xx against 313,254 (same week last year)
    assert 0 <= result.ranking_stability <= 1 and 0 < result.top_channel_stability <= 1
    assert all(0 <= c.rank_stability <= 1 for c in result.channels)
    assert result.ranking[0] == "Facebook"  # the highest marginal return at current spend
    assert model.fit_seconds < 15


def test_meridian_national_through_import_rollup_and_fit(marketer, team, cmo, django_capture_on_commit_callbacks):
    rows = read("meridian_national_all_channels.csv", "time")
    spend_columns = {f"Channel{j}_spend": f"Channel {j}" for j in range(5)}
    import_weekly(
        marketer,
        team,
        rows,
        date_column="time",
        spend_columns=spend_columns,
        revenue=lambda row: float(row["conversions"]) * float(row["revenue_per_conversion"]),
        captured=django_capture_on_commit_callbacks,
    )
    spend, revenue = imported_totals()
    assert abs(spend - Decimal("219492402.35")) < 1 and abs(revenue - Decimal("1318718006.13")) < 1

    model = fit_through_the_service(cmo, django_capture_on_commit_callbacks)

    assert model.status == FitStatus.DONE, model.error
    assert model.weeks == 156
    result = scenario_selectors.fit_result(model)
    assert len(result.channels) == 5
    assert result.holdout.beats_baseline  # 514,8xx against 532,559: better, by little
    assert 0 <= result.ranking_stability <= 1
    # Three channels show no measurable effect in this history, and the page says so in words.
    assert sum("no measurable effect" in w for w in result.warnings) >= 2
