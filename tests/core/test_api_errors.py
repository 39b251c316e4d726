"""Every error under /api/ is JSON (issue 19, section 6): the ones raised before or outside a view
(a bad Host, a body past DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a method a non-DRF view
refuses, an exception in a middleware or a view), unreadable JSON, and a request that runs past the
app's time budget — answered 503 with Retry-After before gunicorn's timeout would kill the worker
and answer its HTML 500 (proven with a real gunicorn on the loopback)."""

import json

import psycopg2
import pytest
import requests
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.faults.test_postgres_restart import serve, server_env

API = "/api/v1/campaigns/"


@pytest.fixture
def api_client(marketer):
    """The Django test client as production answers: an exception becomes the handler's response."""
    client = Client(raise_request_exception=False)
    client.force_login(marketer)
    return client


def assert_json_error(response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert set(body) == {"detail"} and body["detail"].endswith("."), body
    for word in words:
        assert word in body["detail"], body
    return body


@pytest.mark.django_db
def test_a_bad_host_is_a_json_400(api_client):
    response = api_client.get(API, HTTP_HOST="evil.example")
    assert_json_error(response, 400, "Host header", "ALLOWED_HOSTS")


@pytest.mark.django_db
def test_a_body_past_the_size_limit_is_a_json_400_naming_the_limit(api_client, settings):
    body = json.dumps({"name": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    response = api_client.post(API, body, content_type="application/json")
    assert_json_error(response, 400, f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes", "DATA_UPLOAD_MAX_MEMORY_SIZE")


@pytest.mark.django_db
def test_too_many_form_fields_is_a_json_400_naming_the_limit(api_client, settings):
    fields = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = api_client.post(API, fields, content_type="application/x-www-form-urlencoded")
    assert_json_error(response, 400, f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields")


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["{nope", b"\xff\xfe{"])
def test_unreadable_json_is_a_json_400(api_client, body):
    assert_json_error(api_client.post(API, body, content_type="application/json"), 400, "not valid JSON")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/docs/"),  # the Swagger page: HTML by nature, its 405 was HTML too
        ("delete", "/api/schema/"),  # the schema: its 405 was YAML
        ("put", "/api/v1/kpis/"),
    ],
)
def test_a_refused_method_is_a_json_405_with_allow(api_client, method, path):
    response = getattr(api_client, method)(path)
    if response.status_code == 403:  # a DRF view checks permissions first; still JSON
        assert_json_error(response, 403)
        return
    assert_json_error(response, 405)
    assert "GET" in response["Allow"]


@pytest.mark.django_db
def test_an_unknown_api_url_is_a_json_404(api_client):
    assert_json_error(api_client.get("/api/v1/no-such-thing/"), 404, "Not found")
    assert_json_error(api_client.get("/api/no-such-thing"), 404, "Not found")


class ExplodingMiddleware:
    """A middleware with a bug (for the next test): raises on one path, before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.endswith("/explode/"):
            raise RuntimeError("a bug in a middleware")
        return self.get_response(request)


@pytest.mark.django_db
def test_an_exception_outside_a_view_is_a_json_500_under_the_api_and_the_page_elsewhere(marketer, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.core.test_api_errors.Exploding" + "Middleware"]
    client = Client(raise_request_exception=False)
    client.force_login(marketer)
    body = assert_json_error(client.get("/api/v1/campaigns/explode/"), 500, "Server error")
    assert "a bug" not in body["detail"]  # nothing of the internals leaks
    page = client.get("/campaigns/explode/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


# --- the time budget -------------------------------------------------------------------------


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class TableLock:
    """Another session holding ``ACCESS EXCLUSIVE`` on a table: every query reading it waits — a
    real slow request, as a long migration or a stuck transaction makes one."""

    def __init__(self, table: str):
        s = connection.settings_dict
        self.conn = psycopg2.connect(
            dbname=s["NAME"],
            user=s["USER"],
            password=s.get("PASSWORD") or None,
            host=s["HOST"] or "127.0.0.1",
            port=s["PORT"] or 5432,
        )
        self.table = table

    def __enter__(self):
        with self.conn.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


@pytest.mark.django_db(transaction=True)  # the locking session and the server see committed rows
def test_a_request_past_the_time_budget_is_a_503_json_under_the_api(marketer, settings, needs_postgresql):
    settings.REQUEST_TIME_BUDGET_SECONDS = 1
    client = Client(raise_request_exception=False)  # a new handler: its middleware reads the budget
    client.force_login(marketer)
    with TableLock("campaigns_campaign"):
        response = client.get(API)
        page = client.get("/campaigns/")
    assert_json_error(response, 503, "limit of 1 seconds", "Try again")
    assert response["Retry-After"] == "5"
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")
    assert b"took longer than this server&#x27;s limit of 1 seconds" in page.content
    assert client.get(API).status_code == 200  # the next request finds a fresh connection


@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_a_request_past_the_budget_with_json_not_its_html_500(
    marketer, tmp_path, settings, needs_postgresql
):
    """A real gunicorn (sync workers, DEBUG off) whose timeout is 4 s and the app's budget 1 s: a
    request held by a lock for longer than gunicorn's timeout is answered 503 JSON by the app, the
    worker lives on, and the next request is a 200."""
    token = Token.objects.create(user=marketer).key
    session = Client()
    session.force_login(marketer)
    cookies = {"sessionid": session.cookies["sessionid"].value}
    env = server_env(tmp_path, database_url())
    # The suite's secret key: the session made here must be valid there.
    env.update(REQUEST_TIME_BUDGET_SECONDS="1", GUNICORN_TIMEOUT="4", SECRET_KEY=settings.SECRET_KEY)
    server = serve(env, tmp_path, None)
    base, _ = next(server)
    try:
        headers = {"Authorization": f"Token {token}"}
        assert requests.get(base + API, headers=headers, timeout=10).status_code == 200
        with TableLock("campaigns_campaign"):
            answer = requests.get(base + API, headers=headers, timeout=(3, 30))
            page = requests.get(base + "/campaigns/", cookies=cookies, timeout=(3, 30), allow_redirects=False)
        after = requests.get(base + API, headers=headers, timeout=10)
    finally:
        server.close()
    log = (tmp_path / "gunicorn.log").read_text()
    assert answer.status_code == 503, answer.text[:500]
    assert answer.headers["Content-Type"] == "application/json" and answer.headers["Retry-After"] == "5"
    assert "limit of 1 seconds" in answer.json()["detail"]
    assert page.status_code == 503 and "took longer" in page.text and "Internal Server Error" not in page.text
    assert after.status_code == 200
    assert "WORKER TIMEOUT" not in log, log  # gunicorn never had to kill a worker


# --- bodies naming another team's objects (section 7) ------------------------------------------

DOES_NOT_EXIST = 'Invalid pk "{pk}" - object does not exist.'


@pytest.fixture
def theirs(finance, other_team, outsider):
    """The other team's campaign, tactic, program and budget line, and the marketer's own."""
    from budgets import services as budget_services
    from campaigns.models import Program, Tactic
    from planning.services import fiscal_year_ensure
    from tests.factories import CampaignFactory

    year = fiscal_year_ensure(year=2026)
    budget = budget_services.budget_create(actor=finance, fiscal_year=year, name="FY2026", target=1_000_000)
    campaign = CampaignFactory(team=other_team, owner=outsider)
    return {
        "team": other_team,
        "campaign": campaign,
        "tactic": Tactic.objects.create(campaign=campaign, name="Their booth"),
        "program": Program.objects.create(name="Their program", code="their-program", team=other_team),
        "line": budget_services.line_create(actor=finance, budget=budget, name="EMEA", team=other_team),
        "budget": budget,
    }


@pytest.fixture
def mine(finance, team, marketer, theirs, ops_admin):
    """The marketer's campaign and line, and the workflows their requests start."""
    from budgets import services as budget_services
    from mops.roles import Role
    from tests.factories import CampaignFactory
    from tests.workflows.conftest import step
    from workflows import services as workflow_services
    from workflows import subjects

    for name, subject in (("Budget allocation request", "budget_allocation"), ("Spend", subjects.GENERAL_REQUEST)):
        workflow_services.template_create(
            actor=ops_admin, name=name, subject_type=subject, steps=[step("Finance", stage=1, role=Role.FINANCE)]
        )

    return {
        "campaign": CampaignFactory(team=team, owner=marketer),
        "line": budget_services.line_create(actor=finance, budget=theirs["budget"], name="NA", team=team),
    }


def _walk(mine, theirs):
    """(method, url, body, field naming the other team's object) for every endpoint that takes ids."""
    campaign, line = mine["campaign"], mine["line"]
    month = [{"month": "2026-03-01", "amount": "100"}]
    request = {"currency": "USD", "justification": "Spring", "months": month}
    return [
        ("post", "/api/v1/spend/", {"date": "2026-02-02", "amount": "10", "currency": "USD"}, "campaign"),
        (
            "post",
            "/api/v1/spend/",
            {"campaign": campaign.pk, "date": "2026-02-02", "amount": "10", "currency": "USD"},
            "tactic",
        ),
        ("post", "/api/v1/results/", {"date": "2026-02-02", "leads": 1}, "campaign"),
        ("post", "/api/v1/allocation-requests/", {"campaign": campaign.pk, **request}, "line"),
        ("post", "/api/v1/allocation-requests/", {"line": line.pk, **request}, "campaign"),
        ("post", "/api/v1/allocation-requests/", {"line": line.pk, **request}, "program"),
        (
            "post",
            "/api/v1/transfers/",
            {"to_line": line.pk, "from_month": "2026-03-01", "to_month": "2026-04-01", "amount": "10", "reason": "x"},
            "from_line",
        ),
        (
            "post",
            "/api/v1/transfers/",
            {"from_line": line.pk, "from_month": "2026-03-01", "to_month": "2026-04-01", "amount": "10", "reason": "x"},
            "to_line",
        ),
        (
            "post",
            "/api/v1/campaigns/",
            {"name": "Ours", "start_date": "2026-01-01", "end_date": "2026-01-31", "channel": campaign.channel_id},
            "team",
        ),
        ("patch", f"/api/v1/campaigns/{campaign.pk}/", {}, "team"),
        ("patch", f"/api/v1/campaigns/{campaign.pk}/", {}, "program"),
        ("post", "/api/v1/programs/", {"name": "Ours", "code": "ours"}, "team"),
        ("post", "/api/v1/workflow-requests/", {"title": "Help", "description": "x"}, "team"),
    ]


OBJECT_OF_FIELD = {
    "campaign": "campaign",
    "tactic": "tactic",
    "line": "line",
    "from_line": "line",
    "to_line": "line",
    "program": "program",
    "team": "team",
}


@pytest.mark.django_db
def test_bodies_naming_another_teams_objects_answer_400_does_not_exist_everywhere(api_as, marketer, mine, theirs):
    """The documented policy (docs/api.md, README "API errors"): an id in a body is looked up among
    what the user may see, so another team's campaign, tactic, budget line, program or team is
    ``400 {"<field>": ["Invalid pk \\"<id>\\" - object does not exist."]}`` — the answer for an id
    that exists nowhere — and nothing was written."""
    from budgets.models import AllocationRequest, Transfer
    from campaigns.models import Campaign, Program, ResultFact, SpendEntry
    from workflows.models import Request

    models = (AllocationRequest, Transfer, Campaign, Program, ResultFact, SpendEntry, Request)
    before = [model.objects.count() for model in models]
    client = api_as(marketer)
    wrong = []
    for method, url, body, field in _walk(mine, theirs):
        other = theirs[OBJECT_OF_FIELD[field]]
        response = getattr(client, method)(url, {**body, field: other.pk}, format="json")
        # Ids by number; the workflow requests' team is an id or a slug, so it says "There is no team".
        said = [DOES_NOT_EXIST.format(pk=other.pk), f"There is no team '{other.pk}'."]
        if response.status_code != 400 or response.json() not in ({field: [text]} for text in said):
            wrong.append((method, url, field, response.status_code, response.json()))
    assert wrong == []
    assert [model.objects.count() for model in models] == before
