"""Anonymous users see only the login page and the health check; everything else is refused."""

import pytest

from tests.urlwalk import all_paths

PUBLIC = {"/accounts/login/", "/healthz"}
PATHS = all_paths()


def test_the_url_walk_sees_the_whole_project():
    assert {"/", "/healthz", "/teams/", "/api/v1/teams/", "/api/schema/", "/metrics/"} <= set(PATHS)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in PATHS if p not in PUBLIC])
def test_anonymous_is_refused(client, path):
    response = client.get(path)
    if path.startswith(("/api/v1/", "/api/schema/")):
        assert response.status_code == 401, path
    elif path.startswith("/admin/"):
        assert response.status_code == 302 and "/admin/login/" in response.url
    else:
        assert response.status_code == 302, path
        assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_login_and_health_are_open(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_anonymous_post_is_refused_too(client):
    response = client.post("/teams/", {"name": "Sneaky"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
