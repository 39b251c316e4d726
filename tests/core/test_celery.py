import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from mops.celery import app as celery_app
from mops.tasks import worker_health
from tests import needs


def test_celery_is_configured_for_json_acks_late_and_time_limits():
    conf = celery_app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert isinstance(conf.beat_schedule, dict)


def test_tasks_retry_transient_errors_with_backoff():
    assert worker_health.max_retries == 5
    assert worker_health.retry_backoff is True
    assert ConnectionError in worker_health.autoretry_for


@pytest.mark.django_db
def test_task_runs_eagerly_in_process():
    assert worker_health.delay().get(timeout=5) == {"database": "ok", "version": settings.MOPS_VERSION}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_task_round_trip_through_a_real_worker_on_redis():
    broker = celery_app.conf.broker_url
    if not broker.startswith("redis://"):
        reason = f"no Redis answered at {settings.TEST_CELERY_REDIS_URL} when the suite started"
        needs.skip_or_fail(f"{reason}; start redis-server to run the real-worker test")
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    with start_worker(celery_app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        result = worker_health.delay()
        assert result.get(timeout=30) == {"database": "ok", "version": settings.MOPS_VERSION}
        assert result.successful()
