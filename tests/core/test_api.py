import pytest
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_token_obtain_use_and_revoke(api, marketer):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/").json()
    assert me["username"] == "alice"
    assert me["roles"] == ["marketer"]
    assert me["teams"] == [{"slug": "na", "name": "North America", "is_lead": False}]

    assert api.delete("/api/v1/auth/token/").status_code == 204
    assert not Token.objects.filter(key=token).exists()
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_token_obtain_twice_returns_the_same_token(api, marketer):
    first = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}).json()["token"]
    second = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}).json()["token"]
    assert first == second


def test_wrong_password_is_a_400_with_a_message(api, marketer):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with the given username and password."]}


def test_missing_fields_are_named(api):
    response = api.post("/api/v1/auth/token/", {})
    assert response.status_code == 400
    assert response.json() == {"username": ["This field is required."], "password": ["This field is required."]}


def test_anonymous_api_calls_get_401_json(api):
    response = api.get("/api/v1/teams/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_api_path_is_404_json(api_as, marketer):
    response = api_as(marketer).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_forbidden_is_403_json(api_as, marketer):
    response = api_as(marketer).post("/api/v1/teams/", {"name": "Rogue"})
    assert response.status_code == 403
    assert "detail" in response.json()


def test_list_endpoints_are_paginated(api_as, cmo):
    body = api_as(cmo).get("/api/v1/currencies/").json()
    assert isinstance(body, list)  # reference list: small, unpaginated
    body = api_as(cmo).get("/api/v1/teams/").json()
    assert set(body) == {"count", "next", "previous", "results"}


def test_openapi_schema_and_docs_work_offline(client, marketer):
    client.force_login(marketer)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/teams/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html


def test_schema_requires_login(api):
    assert api.get("/api/schema/").status_code == 401
