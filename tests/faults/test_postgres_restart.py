"""PostgreSQL restarted under load: the real server (gunicorn, 2 workers, DEBUG off) on a private
cluster, several clients on a page and the API, and the database restarted in the middle (``pg_ctl
restart -m fast``, then a stop held until every client has met the outage, and a start).

While it is down every answer is the normal 200 or a clean 503 (a short page or a JSON error, with
Retry-After) — never a 500 — and no request hangs; once it is back every request is a 200 again,
without restarting gunicorn (dead connections are replaced: CONN_HEALTH_CHECKS).
"""

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest
import requests
from django import db
from django.db import connection
from rest_framework.test import APIClient

from mops.errors import server_error
from tests.faults.pg_proc import free_port, private_cluster

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PASSWORD = "restart-test-password"
CLIENT_TIMEOUT = (3, 15)  # connect, read (seconds): a request that takes longer counts as hung
PAGE, API = "/campaigns/", "/api/v1/campaigns/"

# Migrate, then a CMO to log in as and a few campaigns to list (one Django start-up for both).
PREPARE = f"""
from django.core.management import call_command
call_command("migrate", verbosity=0)
from mops.roles import Role
from tests.factories import CampaignFactory, TeamFactory, UserFactory
team = TeamFactory(name="North America", slug="na")
owner = UserFactory(username="mia", roles=[Role.MARKETER], teams=[team])
UserFactory(username="cmo", roles=[Role.CMO], password={PASSWORD!r})
for n in range(5):
    CampaignFactory(team=team, owner=owner, name=f"Campaign {{n}}", code=f"cmp-{{n}}")
"""


@dataclasses.dataclass
class Outcome:
    client: str
    started: float
    ended: float
    status: int | None  # None: no answer (refused, reset or timed out); ``error`` says which
    content_type: str = ""
    retry_after: str | None = None
    body: str = ""
    error: str = ""


def server_env(tmp: Path, database_url: str) -> dict:
    # No REDIS_URL: tasks run eagerly, and the only service that goes away is the database.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mops.settings",
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY="restart-test-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        MOPS_VAR_DIR=str(tmp / "var"),
        STATIC_ROOT=str(tmp / "static"),
        # Plain HTTP on the loopback: no redirect to https, cookies sent back over http.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def finish(process: subprocess.Popen, what: str) -> None:
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, f"{what} failed:\n{output.decode()}"


@pytest.fixture
def server(tmp_path):
    """A migrated, seeded private database behind gunicorn; yields (base URL, cluster)."""
    # DEBUG off needs the static files' manifest for every page; collected while the database is made.
    static = manage(server_env(tmp_path, "sqlite:///:memory:"), "collectstatic", "--noinput", "--verbosity", "0")
    try:
        with private_cluster() as cluster:
            cluster.createdb("mops")
            env = server_env(tmp_path, cluster.url("mops"))
            finish(manage(env, "shell", "--command", PREPARE), "migrate and seed")
            finish(static, "collectstatic")
            yield from serve(env, tmp_path, cluster)
    finally:
        if static.poll() is None:
            static.kill()
            static.wait()


def serve(env: dict, tmp_path: Path, cluster):
    """gunicorn (2 workers) on a free port, ready once /healthz answers; stopped afterwards."""
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    # No control socket: its default path is one per user, shared with any other gunicorn running.
    command = [str(VENV_BIN / "gunicorn"), "mops.wsgi:application", f"--bind=127.0.0.1:{port}", "--workers=2"]
    gunicorn = subprocess.Popen(
        [*command, "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert gunicorn.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer /healthz within 30 s")
        yield base, cluster
    finally:
        gunicorn.send_signal(signal.SIGINT)  # quick shutdown: nothing is in flight any more
        try:
            gunicorn.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
            gunicorn.wait()
        log.close()


def log_in(base: str) -> tuple[dict, str]:
    """The CMO's session cookies (through the login form, CSRF and all) and an API token."""
    browser = requests.Session()
    form = browser.get(f"{base}/accounts/login/", timeout=CLIENT_TIMEOUT)
    csrf = browser.cookies["csrftoken"]
    assert form.status_code == 200 and csrf
    answer = browser.post(
        f"{base}/accounts/login/",
        data={"username": "cmo", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        allow_redirects=False,
        timeout=CLIENT_TIMEOUT,
    )
    assert answer.status_code == 302, answer.text[:500]
    token = requests.post(
        f"{base}/api/v1/auth/token/", data={"username": "cmo", "password": PASSWORD}, timeout=CLIENT_TIMEOUT
    )
    assert token.status_code == 200, token.text
    return browser.cookies.get_dict(), token.json()["token"]


class Load:
    """Clients in threads, each asking one URL again and again until told to stop."""

    def __init__(self, base: str, cookies: dict, token: str):
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        clients = [
            ("page-1", PAGE, {"cookies": cookies}),
            ("page-2", PAGE, {"cookies": cookies}),
            ("api-1", API, {"headers": {"Authorization": f"Token {token}"}}),
            ("api-2", API, {"headers": {"Authorization": f"Token {token}"}}),
        ]
        self.names = [name for name, _, _ in clients]
        self.threads = [
            threading.Thread(target=self._run, args=(name, base + path, auth), daemon=True)
            for name, path, auth in clients
        ]

    def _run(self, name: str, url: str, auth: dict) -> None:
        session = requests.Session()
        for key, value in auth.get("cookies", {}).items():
            session.cookies.set(key, value)
        session.headers.update(auth.get("headers", {}))
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                response = session.get(url, timeout=CLIENT_TIMEOUT, allow_redirects=False)
            except requests.RequestException as exc:
                outcome = Outcome(name, started, time.monotonic(), None, error=f"{type(exc).__name__}: {exc}")
            else:
                outcome = Outcome(
                    name,
                    started,
                    time.monotonic(),
                    response.status_code,
                    response.headers.get("Content-Type", ""),
                    response.headers.get("Retry-After"),
                    response.text[:2000],
                )
            with self.lock:
                self.outcomes.append(outcome)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait_for(self, n: int, since: float) -> None:
        """Until every client has had ``n`` answers to requests it started after ``since``."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self.lock:
                counts = [sum(1 for o in self.outcomes if o.client == c and o.started > since) for c in self.names]
            if min(counts) >= n:
                return
            time.sleep(0.05)
        pytest.fail(f"the clients did not get {n} answers each in 60 s: {counts}")

    def stop(self) -> list[Outcome]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        return sorted(self.outcomes, key=lambda o: o.started)


def describe(outcome: Outcome) -> str:
    return f"{outcome.client} {outcome.status} {outcome.error or outcome.body[:300]!r}"


def assert_clean_503(outcome: Outcome) -> None:
    assert outcome.retry_after == "5", describe(outcome)
    if outcome.client.startswith("api"):
        assert outcome.content_type == "application/json", describe(outcome)
        assert "database is unavailable" in outcome.body, describe(outcome)
    else:
        assert outcome.content_type.startswith("text/html"), describe(outcome)
        assert "The database is unavailable" in outcome.body and "Traceback" not in outcome.body, describe(outcome)


def test_requests_fail_cleanly_while_postgresql_restarts_and_recover_without_restarting_the_server(server):
    base, cluster = server
    cookies, token = log_in(base)
    load = Load(base, cookies, token)
    load.start()
    try:
        load.wait_for(3, since=0)  # all clients up and answered
        # 1. ``pg_ctl restart -m fast`` as an operator runs it: every session ended, back within a second.
        restart_began = time.monotonic()
        cluster.restart()
        restarted = time.monotonic()
        load.wait_for(5, since=restarted)
        # 2. The same in two halves, the database held down until every client has met the outage.
        stop_began = time.monotonic()
        cluster.stop("fast")
        down = time.monotonic()
        load.wait_for(4, since=down)  # every request started now needs the database (session or token)
        health_down = requests.get(f"{base}/healthz", timeout=CLIENT_TIMEOUT)
        cluster.start()
        up = time.monotonic()
        load.wait_for(10, since=up)  # and keep going a while after
        health_up = requests.get(f"{base}/healthz", timeout=CLIENT_TIMEOUT)
    finally:
        outcomes = load.stop()

    unanswered = [describe(o) for o in outcomes if o.status is None]
    assert not unanswered, unanswered  # nothing refused, reset or hung beyond CLIENT_TIMEOUT
    outages = {"restart": (restart_began, restarted), "held down": (stop_began, up)}
    during = {
        name: [o for o in outcomes if o.ended >= began and o.started <= ready]
        for name, (began, ready) in outages.items()
    }
    healthy = [  # before the restart, between the two outages, after the second
        o
        for o in outcomes
        if o.ended < restart_began or (restarted < o.started and o.ended < stop_began) or o.started > up
    ]
    assert all(o.status == 200 for o in healthy), [describe(o) for o in healthy if o.status != 200]
    for name, answers in during.items():
        assert {o.status for o in answers} <= {200, 503}, (name, [describe(o) for o in answers if o.status != 200])
    refused = [o for o in during["held down"] + during["restart"] if o.status == 503]
    for outcome in refused:
        assert_clean_503(outcome)
    clients_refused = {o.client.split("-")[0] for o in during["held down"] if o.status == 503}
    assert clients_refused == {"page", "api"}

    assert health_down.status_code == 503, health_down.text
    assert health_down.json()["status"] == "error" and health_down.json()["database"].startswith("error")
    assert health_up.status_code == 200 and health_up.json()["database"] == "ok", health_up.text

    figures = []
    for name, (began, ready) in outages.items():
        answers = during[name]
        failed = [o.ended for o in answers if o.status == 503]
        recovered = min(o.ended for o in outcomes if o.status == 200 and o.started > max(failed, default=began))
        figures.append(
            f"{name}: {len(answers)} requests during the outage ({ready - began:.2f} s to ready),"
            f" {len(failed)} answered 503, first 200 after the last 503 {recovered - began:.2f} s after it began"
        )
    slowest = max(o.ended - o.started for o in outcomes)
    print(f"\n{'; '.join(figures)}; slowest answer {slowest:.2f} s; {len(outcomes)} requests in all")


@contextlib.contextmanager
def unreachable_database():
    """The suite's own connection pointed at a port where no PostgreSQL listens, for a while: every
    query fails to connect, as during a restart (nothing mocked: psycopg2 really cannot connect)."""
    connection.close()
    saved = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = str(free_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


@pytest.mark.django_db(transaction=True)  # the connection is closed and reopened: no test transaction
def test_a_lost_database_is_a_clean_503_for_pages_the_api_and_the_health_check(client, cmo, needs_postgresql):
    client.force_login(cmo)
    api = APIClient()
    api.force_authenticate(cmo)
    client.raise_request_exception = api.raise_request_exception = False  # answer as in production

    with unreachable_database():
        page, listing, health = client.get(PAGE), api.get(API), client.get("/healthz")

    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert page["Content-Type"].startswith("text/html") and b"The database is unavailable" in page.content
    assert page["Content-Security-Policy"]  # still passed through the middleware on its way out
    assert listing.status_code == 503 and listing["Retry-After"] == "5"
    assert listing.json() == {"detail": "The database is unavailable; try again in a few seconds."}
    assert health.status_code == 503
    assert health.json()["status"] == "error" and health.json()["database"].startswith("error: OperationalError")
    # The session survived (a 503 never saves it), and the next request finds the database again.
    assert client.get(PAGE).status_code == 200 and api.get(API).status_code == 200


@pytest.mark.parametrize(
    "error, status",
    [
        (db.OperationalError("connection refused"), 503),
        (db.InterfaceError("connection already closed"), 503),
        # Raised unwrapped when a server-side cursor (``.iterator()``, a form's choices) is closed on a
        # dead connection: seen as a 500 in the restart test before the driver's classes counted.
        (psycopg2.OperationalError("server closed the connection unexpectedly"), 503),
        (psycopg2.InterfaceError("cursor already closed"), 503),
        (db.IntegrityError("duplicate key"), 500),  # a bug, not an outage
        (ValueError("a bug"), 500),
    ],
)
@pytest.mark.parametrize("path", [PAGE, API])
def test_the_error_handler_tells_a_lost_database_from_a_bug(rf, error, status, path):
    try:
        raise error
    except Exception:
        response = server_error(rf.get(path))
    assert response.status_code == status
    assert (response.get("Retry-After") == "5") == (status == 503)
    if status == 503 and path == API:
        assert response["Content-Type"] == "application/json"
