import pytest
import redis
from django.conf import settings

from tests import needs

REAL_REDIS = settings.REDIS_URL or "redis://127.0.0.1:6379/0"


def _redis_answers(url):
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


@pytest.mark.django_db
def test_health_without_redis_reports_eager(client, settings):
    settings.REDIS_URL = None
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": settings.MOPS_VERSION,
        "database": "ok",
        "redis": "eager",
        "rollups": "ok",  # metrics' check, registered from its AppConfig
    }


@pytest.mark.django_db
def test_health_with_redis_answering(client, settings):
    if not _redis_answers(REAL_REDIS):
        needs.skip_or_fail(f"no Redis answers at {REAL_REDIS}")
    settings.REDIS_URL = REAL_REDIS
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["redis"] == "ok"


@pytest.mark.django_db
def test_health_is_503_when_configured_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ConnectionError")


@pytest.mark.django_db
def test_health_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405
