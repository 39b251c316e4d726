"""Redis stops while marketers work (issue 8, "Faults"): every page and write still works, quickly;
the changes wait in the database as dirty marks, an import that cannot be queued says so and stays
startable; once Redis is back a real worker and the sweep catch up to exactly a full rebuild.

Redis here is a private ``redis-server`` on a free port (tests/faults/redis_proc.py): stopping it
never touches the Redis the rest of the suite shares."""

import datetime
import time
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse

from campaigns.models import ImportBatch, ImportStatus, ResultFact, SpendEntry
from metrics.rollups import services
from metrics.rollups.models import DirtyMark, Rollup
from metrics.tasks import refresh_rollups
from planning.services import fiscal_year_ensure
from tests import needs
from tests.factories import CampaignFactory
from tests.faults.redis_proc import celery_on, private_redis, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
D = datetime.date
IMPORT_CSV = "Date,Campaign,Spend,Clicks\n2026-02-02,fault-webinars,40.00,12\n2026-02-03,fault-webinars,60.00,18\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_users_work_while_redis_is_down_and_nothing_is_lost(
    client, marketer, team, lead, cmo, finance, ops_admin, capsys
):
    needs.postgresql("a real worker shares the test database")
    from campaigns.subjects import CAMPAIGN_LAUNCH
    from workflows import services as workflow_services

    fiscal_year_ensure(year=2026)
    workflow_services.template_create(
        actor=ops_admin,
        name="Campaign launch",
        subject_type=CAMPAIGN_LAUNCH,
        steps=[{"name": "Lead review", "stage": 1, "kind": "approval", "assignee_type": "team_lead"}],
    )
    to_launch = CampaignFactory(team=team, owner=marketer, code="fault-launch")
    campaign = CampaignFactory(team=team, owner=marketer, code="fault-webinars", start_date=D(2026, 1, 1))
    SpendEntry.objects.create(
        campaign=campaign, date=D(2026, 1, 5), amount=Decimal("10"), currency="USD", amount_base=Decimal("10.00")
    )
    services.rebuild_all(compare=False)
    DirtyMark.objects.all().delete()
    timings = {}

    with private_redis() as redis_server, celery_on(redis_server.url(4)) as app:
        # Before Redis stops: a change sends its refresh task. The web process must not subscribe to
        # its result (a subscription makes every later send retry the result store ~20 s while
        # Redis is down, then raise).
        SpendEntry.objects.create(
            campaign=campaign, date=D(2026, 1, 6), amount=Decimal("5"), currency="USD", amount_base=Decimal("5.00")
        )
        assert not getattr(app.backend.result_consumer, "subscribed_to", None)
        redis_server.stop()
        assert not redis_server.answers()

        # Pages: campaigns, a campaign, the dashboards of three roles, the health check.
        client.force_login(marketer)
        for name, args in [
            ("campaigns:home", ()),
            ("campaigns:campaign-detail", (campaign.pk,)),
            ("campaigns:spend-log", (campaign.pk,)),
            ("campaigns:results-log", (campaign.pk,)),
            ("campaigns:import-list", ()),
            ("metrics:dashboard", ()),
            ("metrics:marketer", ()),
        ]:
            response = client.get(reverse(name, args=args), follow=True)
            assert response.status_code == 200, (name, response.status_code)
        for user in (cmo, finance):
            client.force_login(user)
            assert client.get(reverse("metrics:dashboard"), follow=True).status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["database"] == "ok" and health.json()["redis"].startswith("error: ConnectionError")

        # Writes through the page and the API: saved, each with its dirty mark; the refresh task
        # cannot be sent and the request does not fail for it.
        client.force_login(marketer)
        response, timings["spend page"] = timed(
            lambda: client.post(
                reverse("campaigns:spend-log", args=[campaign.pk]),
                {"date": "2026-02-10", "amount": "100", "currency": "USD", "vendor": "Google"},
            )
        )
        assert response.status_code == 302
        week = reverse("campaigns:results-log", args=[campaign.pk]) + "?week=2026-02-09"
        form = {"day-TOTAL_FORMS": "7", "day-INITIAL_FORMS": "7", "day-MIN_NUM_FORMS": "7", "day-MAX_NUM_FORMS": "7"}
        response, timings["results page"] = timed(lambda: client.post(week, {**form, "day-1-leads": "4"}))
        assert response.status_code == 302
        response, timings["spend API"] = timed(
            lambda: client.post(
                "/api/v1/spend/",
                {"campaign": campaign.pk, "date": "2026-02-11", "amount": "25.50", "currency": "USD"},
                content_type="application/json",
            )
        )
        assert response.status_code == 201, response.content
        response, timings["results API"] = timed(
            lambda: client.post(
                "/api/v1/results/",
                {"campaign": campaign.pk, "date": "2026-02-11", "clicks": 30},
                content_type="application/json",
            )
        )
        assert response.status_code == 201, response.content
        assert DirtyMark.objects.filter(source_id=campaign.pk).count() >= 4
        # Submitting a campaign for launch e-mails its reviewer after commit: the e-mail cannot be
        # queued, the submission stands (no 500 for a saved change).
        response, timings["launch submit"] = timed(
            lambda: client.post(reverse("campaigns:campaign-submit", args=[to_launch.pk]), follow=True)
        )
        assert response.status_code == 200 and "Submitted for launch review." in response.content.decode()
        to_launch.refresh_from_db()
        assert to_launch.status == "in_launch_review"

        # An import: uploaded and checked; starting it cannot queue the task — the user is told,
        # the batch is left as it was (startable), nothing is written.
        upload = SimpleUploadedFile("fault.csv", IMPORT_CSV.encode(), "text/csv")
        response = client.post(reverse("campaigns:import-upload"), {"format": "", "commit_mode": "all", "file": upload})
        batch = ImportBatch.objects.get()
        assert response.status_code == 302 and batch.status == ImportStatus.UPLOADED
        start = reverse("campaigns:import-start", args=[batch.pk])
        response, timings["import start"] = timed(lambda: client.post(start, follow=True))
        assert response.status_code == 200
        assert "The task queue is not answering just now" in response.content.decode()
        batch.refresh_from_db()
        assert batch.status == ImportStatus.UPLOADED
        assert not SpendEntry.objects.filter(date=D(2026, 2, 2)).exists()
        api_start = client.post(f"/api/v1/imports/{batch.pk}/start/")
        assert api_start.status_code == 400 and "task queue" in str(api_start.json())
        # The rollups have not moved yet: the marks wait.
        org = Rollup.objects.get(dimension="org", grain="y", period_start=D(2026, 1, 1))
        assert org.spend == Decimal("10.00")  # the 5.00's refresh task was lost with Redis (no persistence)

        # Redis is back on the same port: a real worker, the sweep the beat sends every minute, and
        # the user's second start of the import.
        redis_server.start()
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            refresh_rollups.apply_async(ignore_result=True)  # the beat's "metrics-refresh-sweep"
            response = client.post(start, follow=True)
            assert "Import started." in response.content.decode()
            assert wait_until(lambda: ImportBatch.objects.get().status == ImportStatus.DONE)
            assert wait_until(lambda: not DirtyMark.objects.exists()), "the sweep never caught up"

    spend = SpendEntry.objects.aggregate(total=Sum("amount_base"))["total"]
    assert spend == Decimal("15.00") + Decimal("100.00") + Decimal("25.50") + Decimal("100.00")
    assert ResultFact.objects.aggregate(clicks=Sum("clicks"))["clicks"] == 30 + 30
    org = Rollup.objects.get(dimension="org", grain="y", period_start=D(2026, 1, 1))
    assert (org.spend, org.clicks) == (spend, 60)
    assert services.rebuild_all(compare=True).agreed is True
    with capsys.disabled():
        print("\nwith Redis stopped, seconds per request: " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
