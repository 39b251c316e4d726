"""The rollup refresh through a real Celery worker on Redis: a burst of changes is a few task runs,
not one per change, and the rollups end up exactly right."""

import datetime
import time
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from campaigns.models import SpendEntry
from metrics.rollups import services
from metrics.rollups.models import DirtyMark, RefreshKind, RefreshRun, Rollup
from mops.celery import app as celery_app
from tests import needs
from tests.factories import CampaignFactory

CHANGES = 300


def wait_until(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_is_a_few_refreshes_through_a_real_worker(marketer, team):
    if not celery_app.conf.broker_url.startswith("redis://"):
        needs.skip_or_fail(f"no Redis answered at {settings.TEST_CELERY_REDIS_URL}; start redis-server")
    campaign = CampaignFactory(team=team, owner=marketer, start_date=datetime.date(2026, 1, 1))
    services.rebuild_all(compare=False)
    services.refresh_pending()
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    with start_worker(celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        for i in range(CHANGES):  # each its own transaction, as separate requests would be
            SpendEntry.objects.create(
                campaign=campaign,
                date=datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 90),
                amount=Decimal("1.25"),
                currency="USD",
                amount_base=Decimal("1.25"),
            )
        assert wait_until(lambda: not DirtyMark.objects.exists()), "the worker never caught up"
    runs = RefreshRun.objects.filter(kind=RefreshKind.INCREMENTAL).count()
    assert 1 <= runs <= CHANGES // 10, f"{runs} task runs for {CHANGES} changes"
    org = Rollup.objects.get(dimension="org", grain="y", period_start=datetime.date(2026, 1, 1))
    assert org.spend == Decimal("1.25") * CHANGES
    assert services.rebuild_all(compare=True).agreed is True
