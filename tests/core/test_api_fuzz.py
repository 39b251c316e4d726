"""API fuzzing: every operation of the OpenAPI schema, as a user of each role, with schemathesis.

The schema is the one the project serves (``/api/schema/``, drf-spectacular); requests go to the
project's WSGI application in-process (no network), authenticated by a DRF token, against the demo
organisation (``seed_demo``, plus an attachment, an import and a delegation it lacks) so that detail
endpoints find real objects. Each generated request runs in a savepoint that is rolled back, so every
example sees the same data and a failing write cannot poison the next one.

Checks on every response: not a 5xx, a documented status code, a documented content type, a body
matching the documented schema for that status (``mops.api_schema.AutoSchema`` documents the error
answers). Hypothesis generates ``POSITIVE_EXAMPLES`` schema-valid and ``NEGATIVE_EXAMPLES``
schema-violating requests per operation and role, derandomized (the same requests on every run) and
without its example database, so CI is deterministic.
"""

import datetime
import io
import json
import traceback

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import close_old_connections, transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from campaigns.attachments import services as attachment_services
from campaigns.models import Campaign, ImportBatch
from workflows.models import Delegation

POSITIVE_EXAMPLES = 3
NEGATIVE_EXAMPLES = 2
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLE_USERS = {"marketer": "marketer", "cmo": "cmo", "finance": "finance", "ops_admin": "opsadmin"}  # demo users
SAMPLES_PER_ROLE = 4  # lookup values of real objects per path parameter and role; plus one that matches nothing
MISSING = {"integer": 999_999_999, "string": "no-such-object"}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HYPOTHESIS = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "phases": [Phase.explicit, Phase.generate],  # no shrinking: the report shows the request as generated
}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """``(raw schema, lookup values)`` over the demo organisation, seeded once for the module in a
    transaction rolled back at its end (each test's own transaction is a savepoint inside it).
    Uploads the fuzzer makes go to a temporary MEDIA_ROOT, and the schemathesis client's host is allowed."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"), ALLOWED_HOSTS=["localhost", "testserver"])
    with django_db_blocker.unblock(), media, transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        _add_what_the_demo_lacks()
        for user in get_user_model().objects.filter(username__in=ROLE_USERS.values()):
            Token.objects.get_or_create(user=user)
        client = Client()
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {_token('cmo')}"
        response = client.get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        raw = response.json()
        lookups = _lookup_values(client, raw)
        # Django closes the connection at the end of each request, which in a test transaction it must
        # not: its test client disconnects these too (and reconnects them after each of its requests).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            yield raw, lookups
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            transaction.set_rollback(True)


def _add_what_the_demo_lacks():
    users = {
        user.username: user for user in get_user_model().objects.filter(username__in=["marketer", "finance", "felix"])
    }
    campaign = Campaign.objects.filter(team__slug="na-demand", owner=users["marketer"]).order_by("pk").first()
    attachment_services.attachment_add(
        actor=users["marketer"], campaign=campaign, uploaded_file=SimpleUploadedFile("brief.pdf", PDF), kind="brief"
    )
    ImportBatch.objects.create(
        filename="spend.csv", file_sha256="0" * 64, format="generic", uploaded_by=users["marketer"]
    )
    today = datetime.date.today()
    Delegation.objects.create(
        delegator=users["finance"], delegate=users["felix"], starts_on=today, ends_on=today, created_by=users["finance"]
    )


def _token(role: str) -> str:
    return Token.objects.get(user__username=ROLE_USERS[role]).key


def _lookup_values(client: Client, raw: dict) -> dict[tuple[str, str], list]:
    """``{(collection path, parameter): [values]}``: lookup values of real objects from each collection's
    list endpoint, read as every role (so one role's values include objects it may not see or change)."""
    found: dict[tuple[str, str], list] = {}
    for path in raw["paths"]:
        collection, _, rest = path.partition("{")
        key = (collection, rest.split("}", 1)[0])
        if not rest or key in found or "get" not in raw["paths"].get(collection, {}):
            continue
        values = []
        for role in ROLE_USERS:
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {_token(role)}"
            response = client.get(collection, {"page_size": 500})
            if response.status_code != 200:
                continue
            body = response.json()
            rows = body["results"] if isinstance(body, dict) and "results" in body else body
            taken = [row[key[1]] for row in rows if isinstance(row, dict) and key[1] in row][:SAMPLES_PER_ROLE]
            values.extend(value for value in taken if value not in values)
        found[key] = values
    return found


def _narrowed(raw: dict, lookups: dict) -> dict:
    """The schema with each path parameter narrowed to real lookup values plus one that matches nothing:
    a random id is a 404 almost always, which would leave the detail endpoints unexercised. Negative
    examples still send values outside the list."""
    raw = json.loads(json.dumps(raw))
    for path, item in raw["paths"].items():
        collection = path.partition("{")[0]
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                values = lookups.get((collection, parameter["name"])) if parameter["in"] == "path" else None
                if values:
                    kind = parameter["schema"].get("type", "string")
                    parameter["schema"] = {"type": kind, "enum": [*values, MISSING[kind]]}
    return raw


def _fuzz(operation, token: str, failures: list[str]) -> int:
    """Run the operation's examples; add a report per failing request to ``failures``; return the
    number of requests sent."""
    headers = {"Authorization": f"Token {token}"}
    sent = 0
    tracebacks: list[str] = []

    def remember(sender, request=None, **kwargs):
        tracebacks.append(traceback.format_exc())

    def run(case):
        nonlocal sent
        sent += 1
        tracebacks.clear()
        signals.got_request_exception.connect(remember)
        try:
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
        finally:
            signals.got_request_exception.disconnect(remember)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as exc:
            failures.append(
                f"{operation.label}: {exc}\n{case.as_curl_command(headers)}\n"
                f"{response.status_code} {response.text[:500]}\n{''.join(tracebacks)[-3000:]}"
            )

    modes = [(GenerationMode.POSITIVE, POSITIVE_EXAMPLES)]
    if operation.query or operation.path_parameters or operation.body:  # else there is nothing to violate
        modes.append((GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES))
    for mode, examples in modes:
        try:
            settings(max_examples=examples, **HYPOTHESIS)(given(operation.as_strategy(generation_mode=mode))(run))()
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {exc}")
    return sent


# --- what the fuzzing found, pinned down -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/channels/", {"name": "Podcasts", "group": "owned"}),
        ("/api/v1/regions/", {"name": "LATAM"}),
        ("/api/v1/segments/", {"name": "SMB", "kind": "segment"}),
        ("/api/v1/teams/", {"name": "Partners"}),
    ],
)
def test_reference_data_can_be_created_inactive(api_as, ops_admin, path, body):
    """``is_active`` is in the create body; the create services took no such argument: a 500."""
    response = api_as(ops_admin).post(path, {**body, "is_active": False})
    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is False
    lookup = response.json()["slug" if path.endswith("/teams/") else "id"]
    assert api_as(ops_admin).get(f"{path}{lookup}/").json()["is_active"] is False


@pytest.mark.django_db
def test_a_created_or_changed_team_comes_back_with_its_counts(api_as, ops_admin, team, marketer):
    """The schema promises member and lead counts; the answer to a create or update lacked them."""
    created = api_as(ops_admin).post("/api/v1/teams/", {"name": "Partners"}).json()
    assert (created["member_count"], created["lead_count"]) == (0, 0)
    changed = api_as(ops_admin).patch(f"/api/v1/teams/{team.slug}/", {"description": "US"}).json()
    assert (changed["member_count"], changed["lead_count"], changed["description"]) == (1, 0, "US")


@pytest.mark.django_db
def test_imports_filter_by_file_format(api_as, marketer):
    """``?format=`` is the imports' file-format filter; DRF took it for the response's format (404 or HTML)."""
    ImportBatch.objects.create(filename="spend.csv", file_sha256="0" * 64, format="generic", uploaded_by=marketer)
    client = api_as(marketer)
    generic = client.get("/api/v1/imports/", {"format": "generic"})
    assert generic.status_code == 200 and generic["Content-Type"] == "application/json"
    assert [row["filename"] for row in generic.json()["results"]] == ["spend.csv"]
    assert client.get("/api/v1/imports/", {"format": "meta_ads"}).json()["results"] == []
    assert client.get("/api/v1/imports/", {"format": "api"})["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_nul_in_search_is_a_400_naming_the_parameter(api_as, marketer):
    response = api_as(marketer).get("/api/v1/teams/", {"search": "n\x00a"})
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}


# Last in the module: the module-scoped demo data stays until the module's end, and the tests above
# must not see it.
@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_every_operation_as_each_role(demo, role):
    from mops.wsgi import application

    raw, lookups = demo
    schema = schemathesis.openapi.from_dict(_narrowed(raw, lookups))
    schema.app = application
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100  # the whole API, not a schema that failed to load
    token = _token(role)
    failures: list[str] = []
    sent = sum(_fuzz(operation, token, failures) for operation in operations)
    empty = sorted(collection for (collection, _), values in lookups.items() if not values)
    print(f"{role}: {len(operations)} operations, {sent} requests; no real objects for {empty or 'none'}")
    assert not failures, f"{len(failures)} failing requests as {role}:\n\n" + "\n\n".join(failures)
