"""Who may see and do what, URL by URL (ARCHITECTURE.md "Who may do what", every app's permissions.py).

Every named URL of the project (from the URL conf: a new URL fails ``test_every_url_is_classified``
until it is added to ``MATRIX``) is requested by each role — anonymous, a marketer of the team that
owns the objects (M), a marketer of the other team (X: the ids are the first team's, so every id is
a guessed id of another team's object), the CMO (C), finance (F) and an ops admin (O) — with GET and
the writes it serves (pages: the methods in the row; API: every unsafe method its route serves),
with an empty body (or the row's ``body`` where the refusal comes only with a real action).
Expected:

* GET allowed: 200 (pages may redirect, never to the login); refused: 403 or 404, never data.
* write allowed: the request gets past the policy (any answer but 401/403/404/405 or a server error;
  an empty body is mostly a 400); refused: 403, 404 or 405, and not one row inserted, updated or
  deleted in any table (the session aside).
* anonymous: pages redirect to the login, the API answers 401; only the login, the health check and
  the token endpoint are open.

Each request runs inside a savepoint that is rolled back, so an allowed write never changes what the
next request sees. ``test_lists_show_only_what_the_policy_allows`` then checks that lists (API and
pages) show a marketer their own team's rows only and the other roles what their policy says, and
``test_a_body_naming_another_teams_objects_writes_nothing`` that a write naming another team's objects
in its body (campaign, line, team, import mapping …) is refused.
"""

import json
import re
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from tests.authz import build_shared, build_team_world, writes, written_tables
from tests.needs import postgresql
from tests.urlwalk import all_routes

SIGNED_IN = "MXCFO"
ROLE_LETTER = {"marketer": "M", "outsider": "X", "cmo": "C", "finance": "F", "ops_admin": "O"}
UNSAFE = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Rule:
    """Who may GET a URL and who may write through it (role letters), its methods (pages only: the
    API's come from the router) and which object of the team's world fills each URL argument."""

    get: str
    write: str | dict = ""  # a dict for API routes whose methods differ: {"put": "", "patch": "CM"}
    methods: str = "G"  # pages: G (GET), P (POST), GP
    args: dict = field(default_factory=dict)
    query: str = ""  # formatted with the world's ids
    open: str = ""  # methods served to anonymous users too: "get", "post", "get post"
    body: dict = field(default_factory=dict)  # a write's body (values formatted with the world's ids)
    # How a page refuses a write the policy lets the user attempt but the service turns down (a
    # workflow step that is not theirs): "redirect" back with the reason as a message.
    refusal: str = ""
    ok: tuple = (200,)  # what an allowed GET answers

    def writers(self, method: str) -> str:
        return self.write.get(method, "") if isinstance(self.write, dict) else self.write


def page(get, write="", methods="G", query="", open="", body=None, refusal="", **args):
    return Rule(get, write, methods, args, query, open, body or {}, refusal)


def api(get, write="", query="", open="", body=None, ok=(200,), **args):
    return Rule(get, write, "", args, query, open, body or {}, ok=ok)


# --- the policy, URL by URL ------------------------------------------------------------------------
# M: marketer of the objects' team; X: marketer of another team; C: CMO; F: finance; O: ops admin.
MATRIX = {
    # core
    "home": page(SIGNED_IN),
    "healthz": page(SIGNED_IN, open="get"),
    "login": page(SIGNED_IN, open="get post"),  # a signed-in user is sent on to their landing page
    "logout": page("", "", "P", open="post"),  # not requested signed in: it would end the test's session
    "mops:team-list": page(SIGNED_IN, "O", "GP"),
    "mops:team-detail": page("MCFO", "O", "GP", slug="team"),
    "mops:membership-remove": page("", "O", "P", slug="team", membership_id="membership"),
    # Rates are reference data every signed-in user reads (the API); the page is the rate desk of
    # finance and ops admins, which the CMO reads.
    "mops:fx-list": page("CFO", "FO", "GP"),
    "mops:ops-home": page("O"),
    # planning: read by everyone; finance closes months, ops admins keep the taxonomy, the CMO and
    # ops admins set objectives
    "planning:home": page(SIGNED_IN),
    "planning:period-close": page("", "F", "P", pk="period"),
    "planning:period-reopen": page("", "F", "P", pk="period"),
    "planning:taxonomy": page(SIGNED_IN, "O", "GP", body={"kind": "channel"}),
    "planning:objective-create": page("CO", "CO", "GP"),
    "planning:objective-detail": page(SIGNED_IN, "CO", "GP", pk="objective"),
    # campaigns: everyone with a role sees the area; a team's campaigns are seen by its marketers and
    # the CMO, finance and ops admins, and written by its marketers only
    "campaigns:home": page(SIGNED_IN),
    "campaigns:campaign-create": page("MX", "MX", "GP"),
    "campaigns:calendar": page(SIGNED_IN),
    "campaigns:campaign-detail": page("MCFO", pk="campaign"),
    "campaigns:campaign-edit": page("M", "M", "GP", pk="campaign"),
    "campaigns:campaign-status": page("", "M", "P", pk="campaign"),
    "campaigns:campaign-submit": page("", "M", "P", pk="campaign"),
    "campaigns:tactic-create": page("", "M", "P", pk="campaign"),
    "campaigns:spend-log": page("MCFO", "M", "GP", pk="campaign"),
    "campaigns:spend-edit": page("M", "M", "GP", entry_id="spend"),
    "campaigns:spend-delete": page("", "M", "P", entry_id="spend"),
    "campaigns:results-log": page("MCFO", "M", "GP", pk="campaign"),
    "campaigns:attachment-add": page("", "M", "P", pk="campaign"),
    "campaigns:attachment-download": page("MCFO", attachment_id="attachment"),
    "campaigns:attachment-delete": page("", "M", "P", attachment_id="attachment"),
    # imports: any marketer uploads; an import is seen by its uploader, the CMO and ops admins
    "campaigns:import-list": page(SIGNED_IN),
    "campaigns:import-upload": page("MX", "MX", "GP"),
    "campaigns:import-detail": page("MCO", pk="import"),
    "campaigns:import-map": page("", "M", "P", pk="import"),
    "campaigns:import-start": page("", "M", "P", pk="import"),
    "campaigns:import-progress": page("MCO", pk="import"),
    # budgets: the area is finance's and the CMO's; finance changes it; marketers ask for money and
    # see their own teams' requests and transfers
    "budgets:home": page("CF", "F", "GP", query="action=budget"),
    "budgets:phasing": page("CF", "F", "GP", pk="line"),
    "budgets:phasing-download": page("CF", pk="budget"),
    "budgets:phasing-upload": page("F", "F", "GP", pk="budget"),
    "budgets:commitments": page("CF", "F", "GP"),
    "budgets:commitment-close": page("", "F", "P", pk="commitment"),
    "budgets:request-list": page("MXCF"),
    "budgets:request-create": page("M", "M", "GP", query="campaign={campaign}"),
    "budgets:request-detail": page("MCF", pk="allocation_request"),
    # Deciding is the assignee's (finance's step); the requester never approves their own request.
    "budgets:request-decide": page(
        "", "F", "P", pk="allocation_request", body={"action": "approve", "task": "{task}"}, refusal="redirect"
    ),
    "budgets:queue": page("CF", "CF", "GP"),
    "budgets:transfer-list": page("MXCF"),
    "budgets:transfer-create": page("MXF", "MXF", "GP"),
    "budgets:transfer-detail": page("MCF", pk="transfer"),
    "budgets:bva": page("CF"),
    "budgets:bva-cell": page("CF", query="budget={budget}&group_by=line&key={line}"),
    # workflows: instances of a team are seen by its members, the CMO, finance and ops admins; a step
    # is acted on by its assignee; ops admins (and team leads) reassign; ops admins keep templates
    "workflows:my-tasks": page(SIGNED_IN),
    "workflows:task-detail": page("MCFO", "F", "GP", pk="task", body={"action": "approve"}),
    "workflows:task-reassign": page("", "O", "P", pk="task"),
    "workflows:instance-detail": page("MCFO", "MO", "GP", pk="instance", body={"operation": "cancel"}),
    "workflows:template-list": page(SIGNED_IN),
    "workflows:template-create": page("O", "O", "GP"),
    "workflows:template-detail": page(SIGNED_IN, slug="template"),
    "workflows:template-edit": page("O", "O", "GP", slug="template"),
    "workflows:template-retire": page("", "O", "P", slug="template"),
    "workflows:request-list": page(SIGNED_IN),
    "workflows:request-create": page(SIGNED_IN, SIGNED_IN, "GP"),
    "workflows:request-detail": page("MCFO", "MO", "GP", pk="general_request", body={"operation": "cancel"}),
    "workflows:delegation-list": page(SIGNED_IN, SIGNED_IN, "GP"),
    # metrics: each dashboard for the roles it serves; KPI definitions read organisation-wide by the
    # CMO, finance and ops admins and kept by ops admins; scenarios: planners (marketers for their
    # own teams, the CMO and finance for all), changed by their owner and the CMO
    "metrics:dashboard": page(SIGNED_IN),
    "metrics:cmo": page("C"),
    "metrics:finance": page("CF"),
    "metrics:marketer": page("MX"),
    "metrics:ops": page("CO"),
    "metrics:kpi-list": page("CFO"),
    "metrics:kpi-create": page("O", "O", "GP"),
    "metrics:kpi-detail": page("CFO", "O", "GP", code="kpi", body={"action": "deactivate"}),
    "metrics:kpi-edit": page("O", "O", "GP", code="kpi"),
    "metrics:scenarios": page("MXCF"),
    "metrics:scenario-model-create": page("MXCF", "MXCF", "GP"),
    "metrics:scenario-model": page(
        "MCF", "MC", "GP", pk="response_model", body={"action": "delete"}, refusal="redirect"
    ),
    "metrics:scenario-create": page("MCF", "MCF", "GP", query="model={response_model}"),
    "metrics:scenario-compare": page("MXCF"),
    "metrics:scenario-backsolve": page("MXCF"),
    "metrics:scenario-detail": page("MCF", "MC", "GP", pk="scenario", body={"action": "accept"}, refusal="redirect"),
    # --- API ---
    "auth-token": api("", SIGNED_IN, open="post"),  # POST: a token for a password; DELETE: revoke one's own
    "me": api(SIGNED_IN),
    "api-root": api(SIGNED_IN),
    "api-schema": api(SIGNED_IN),
    "api-docs": page(SIGNED_IN),
    "team-list": api(SIGNED_IN, "O"),
    "team-detail": api("MCFO", "O", slug="team"),
    "currency-list": api(SIGNED_IN),
    "currency-detail": api(SIGNED_IN, code="currency"),
    "fx-rate-list": api(SIGNED_IN, "FO"),
    "fx-rate-detail": api(SIGNED_IN, pk="fx_rate"),
    "channel-list": api(SIGNED_IN, "O"),
    "channel-detail": api(SIGNED_IN, "O", pk="channel"),
    "region-list": api(SIGNED_IN, "O"),
    "region-detail": api(SIGNED_IN, "O", pk="region"),
    "segment-list": api(SIGNED_IN, "O"),
    "segment-detail": api(SIGNED_IN, "O", pk="segment"),
    "fiscal-year-list": api(SIGNED_IN),
    "fiscal-year-detail": api(SIGNED_IN, pk="fiscal_year"),
    "period-list": api(SIGNED_IN),
    "period-detail": api(SIGNED_IN, pk="period"),
    "period-close": api("", "F", pk="period"),
    "period-reopen": api("", "F", pk="period"),
    "objective-list": api(SIGNED_IN, "CO"),
    "objective-detail": api(SIGNED_IN, "CO", pk="objective"),
    "objective-targets": api("", "CO", pk="objective"),
    # Programs are shared plans: any marketer or ops admin starts one; a team's program is changed by
    # that team's marketers (and ops admins), like its campaigns.
    "program-list": api(SIGNED_IN, "MXO"),
    "program-detail": api(SIGNED_IN, "MO", pk="program"),
    "campaign-list": api(SIGNED_IN, "MX"),
    "campaign-detail": api("MCFO", "M", pk="campaign"),
    "campaign-status": api("", "M", pk="campaign"),
    "campaign-submit-for-launch": api("", "M", pk="campaign"),
    "spend-list": api(SIGNED_IN, "MX"),
    "spend-bulk": api("", "MX"),
    "spend-detail": api("MCFO", "M", pk="spend"),
    "result-list": api(SIGNED_IN, "MX"),
    "result-bulk": api("", "MX"),
    "result-detail": api("MCFO", "M", pk="result"),
    "import-list": api(SIGNED_IN, "MX"),
    "import-detail": api("MCO", pk="import"),
    "import-map": api("", "M", pk="import"),
    "import-start": api("", "M", pk="import"),
    "campaign-attachment-list": api(SIGNED_IN, "MX"),
    "campaign-attachment-detail": api("MCFO", "M", pk="attachment"),
    "campaign-attachment-download": api("MCFO", pk="attachment"),
    # Budgets (envelopes) are read by every planner; a line of a team by its marketers, the CMO and
    # finance; ops admins have no business with money.
    "budget-list": api(SIGNED_IN),
    "budget-detail": api("MXCF", pk="budget"),
    "budget-line-list": api(SIGNED_IN),
    "budget-line-detail": api("MCF", pk="line"),
    "allocation-request-list": api(SIGNED_IN, "MX"),
    "allocation-request-detail": api("MCF", pk="allocation_request"),
    "allocation-request-approve": api("", "F", pk="allocation_request"),
    "allocation-request-reject": api("", "F", pk="allocation_request"),
    "allocation-request-return": api("", "F", pk="allocation_request"),
    "commitment-list": api(SIGNED_IN, "F"),
    "commitment-detail": api("MCF", pk="commitment"),
    "commitment-close": api("", "F", pk="commitment"),
    "transfer-list": api(SIGNED_IN, "MXF"),
    "transfer-detail": api("MCF", pk="transfer"),
    "budget-vs-actual": api("MXCF"),
    "workflow-subject-type-list": api(SIGNED_IN),
    "workflow-subject-type-detail": api(SIGNED_IN, key="subject_type"),
    "workflow-template-list": api(SIGNED_IN, "O"),
    "workflow-template-detail": api(SIGNED_IN, "O", slug="template"),
    "workflow-template-preview": api(SIGNED_IN, slug="template"),
    "workflow-template-retire": api("", "O", slug="template"),
    "workflow-instance-list": api(SIGNED_IN),
    "workflow-instance-detail": api("MCFO", pk="instance"),
    "workflow-instance-cancel": api("", "MO", pk="instance"),  # who started it, or an ops admin
    "workflow-instance-resubmit": api("", "M", pk="instance"),  # who started it
    "workflow-task-list": api(SIGNED_IN),
    "workflow-task-detail": api("MCFO", pk="task"),
    "workflow-task-approve": api("", "F", pk="task"),
    "workflow-task-reject": api("", "F", pk="task"),
    "workflow-task-return": api("", "F", pk="task"),
    "workflow-task-complete": api("", "", pk="task"),  # an approval step is never "completed"
    "workflow-task-reassign": api("", "O", pk="task", body={"user": "{teammate}"}),
    # Anyone raises a request (for their own teams: the service decides on the body's team) and
    # delegates their own steps.
    "workflow-request-list": api(SIGNED_IN, SIGNED_IN),
    "workflow-request-detail": api("MCFO", pk="general_request"),
    "delegation-list": api(SIGNED_IN, SIGNED_IN),
    "delegation-detail": api("MO", pk="delegation"),  # the delegator, the delegate, its creator, ops admins
    "kpi-definition-list": api(SIGNED_IN, "O"),
    "kpi-definition-detail": api(SIGNED_IN, "O", code="kpi"),
    "kpi-definition-versions": api(SIGNED_IN, code="kpi"),
    "response-model-list": api("MXCF", "MXCF"),
    "response-model-detail": api("MCF", "MC", pk="response_model"),  # deleted by its requester or the CMO
    "scenario-list": api("MXCF", "MXCF"),
    "scenario-optimise": api("", "MXCF"),
    "scenario-detail": api("MCF", {"put": "", "patch": "MC", "delete": "MC"}, pk="scenario"),
    "scenario-accept": api("", "MC", pk="scenario"),
    "scenario-propose-transfers": api("", "MC", pk="scenario"),
    "scenario-reopen": api("", "MC", pk="scenario"),
    "kpis": api(SIGNED_IN),
    "rollup-status": api(SIGNED_IN),
    # No rollups in this world, so no cost per lead: a 400 that has passed the policy.
    "backsolve": api("MXCF", "MXCF", query="target=1000", ok=(200, 400)),
}

ROUTES = {route.name: route for route in all_routes()}


def is_api(name: str) -> bool:
    return ROUTES[name].route.startswith("api/") and name != "api-docs"


def test_every_url_is_classified():
    """A URL added to the project without a row here fails: the matrix keeps up with the code."""
    assert sorted(set(ROUTES) - set(MATRIX)) == [], "add these URLs to MATRIX"
    assert sorted(set(MATRIX) - set(ROUTES)) == [], "these URLs are gone: remove them from MATRIX"
    for name, rule in MATRIX.items():
        assert set(rule.args) == set(ROUTES[name].kwargs), name
        if isinstance(rule.write, dict):
            assert set(rule.write) <= set(ROUTES[name].methods), name


# --- the world -------------------------------------------------------------------------------------


@pytest.fixture
def org(settings, tmp_path, team, other_team, marketer, outsider, cmo, finance, ops_admin):
    """Two teams with the same objects each: the marketer's ("na") and the outsider's ("emea")."""
    postgresql("a refused request is shown to write nothing by PostgreSQL's per-transaction row counters")
    settings.MEDIA_ROOT = tmp_path
    shared = build_shared(finance=finance, cmo=cmo, ops_admin=ops_admin)
    return {
        "shared": shared,
        "own": build_team_world(shared=shared, team=team, owner=marketer, finance=finance),
        "other": build_team_world(shared=shared, team=other_team, owner=outsider, finance=finance),
    }


def url_of(name: str, rule: Rule, ids: dict) -> str:
    path = reverse(name, kwargs={arg: ids[key] for arg, key in rule.args.items()})
    return f"{path}?{rule.query.format(**ids)}" if rule.query else path


def cases(name: str, rule: Rule) -> list[tuple[str, str]]:
    """(method, who may) for every request a signed-in user makes on this URL."""
    if is_api(name):
        methods = ROUTES[name].methods
        return [("get", rule.get)] * ("get" in methods) + [(m, rule.writers(m)) for m in UNSAFE if m in methods]
    return [("get", rule.get)] * ("G" in rule.methods) + [("post", rule.write)] * ("P" in rule.methods)


def send(client, method: str, url: str, api_call: bool, body: dict | None = None):
    if method == "get":
        return client.get(url)
    if api_call:
        return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")
    return client.post(url, body or {}, format="multipart")  # a form, as the browser sends it


def in_savepoint(run):
    """Run ``run()`` and undo whatever it wrote, so the next request sees the same world."""
    with transaction.atomic():
        outcome = run()
        transaction.set_rollback(True)
    return outcome


def _said(response) -> str:
    """The start of what the server answered, to tell why in a failure message."""
    text = response.content.decode(errors="replace") if not response.streaming else ""
    if response.get("Content-Type", "").startswith("text/html"):
        text = " ".join(re.sub(r"<[^>]+>", " ", text.split("<main", 1)[-1]).split())
    return text[:160]


def judge(*, name, method, url, allowed, api_call, response, changed, refusal="", ok=(200,)) -> str | None:
    status = response.status_code
    where = f"{method.upper()} {url} ({name}) [{_said(response)}]"
    if status >= 500:
        return f"{where}: server error {status}"
    if method == "get":
        if allowed:
            redirect_to_login = status == 302 and response.url.startswith("/accounts/login/")
            if status in ok or (status == 302 and not api_call and not redirect_to_login):
                return None
            return f"{where}: expected 200, got {status}"
        if status not in (403, 404):
            return f"{where}: expected 403/404, got {status}"
        return f"{where}: refused, but wrote to {changed}" if changed else None
    if allowed:
        if status in (401, 403, 404, 405):
            return f"{where}: a permitted write was refused with {status}"
        return None
    redirected_back = refusal == "redirect" and status == 302 and not response.url.startswith("/accounts/login/")
    if status not in (403, 404, 405) and not redirected_back:
        return f"{where}: a refused write answered {status}" + (f", and wrote to {changed}" if changed else "")
    if changed:
        return f"{where}: refused with {status}, but wrote to {changed}"
    return None


@pytest.mark.parametrize("role", list(ROLE_LETTER))
def test_the_matrix(request, org, role):
    """Every URL × every method it serves, as ``role``, on the marketer's team's objects."""
    user = request.getfixturevalue(role)
    letter = ROLE_LETTER[role]
    client = APIClient(raise_request_exception=False)
    client.force_login(user)
    ids = org["own"].ids
    mismatches, requests = [], 0
    for name, rule in sorted(MATRIX.items()):
        if name == "logout" or (name == "api-schema" and letter != "M"):
            continue  # logout would end the session; the schema (slow to build) is the same for every role
        api_call = is_api(name)
        url = url_of(name, rule, ids)
        for method, who in cases(name, rule):
            allowed = letter in who

            body = {key: str(value).format(**ids) for key, value in rule.body.items()}

            def run(method=method, url=url, allowed=allowed, api_call=api_call, body=body):
                before = writes()
                response = send(client, method, url, api_call, body)
                return response, written_tables(before)

            response, changed = in_savepoint(run)
            requests += 1
            mismatch = judge(
                name=name,
                method=method,
                url=url,
                allowed=allowed,
                api_call=api_call,
                response=response,
                changed=changed,
                refusal=rule.refusal,
                ok=rule.ok,
            )
            if mismatch:
                mismatches.append(mismatch)
    assert requests > 150
    assert mismatches == [], "\n".join(mismatches)


def test_anonymous_sees_only_the_open_urls(org, client):
    client.raise_request_exception = False
    ids = org["own"].ids
    mismatches = []
    for name, rule in sorted(MATRIX.items()):
        url = url_of(name, rule, ids)
        api_call = is_api(name)
        if api_call:
            methods = sorted(ROUTES[name].methods)
        else:
            methods = ["get"] * ("G" in rule.methods) + ["post"] * ("P" in rule.methods)
        for method in methods:

            def run(m=method, u=url, a=api_call):
                before = writes()
                return send(client, m, u, a), written_tables(before)

            response, changed = in_savepoint(run)
            status, where = response.status_code, f"{method.upper()} {url} ({name})"
            if method in rule.open.split():
                if status >= 500 or status in (401, 403):
                    mismatches.append(f"{where}: open, but answered {status}")
                continue
            if api_call:
                if status not in (401, 403):
                    mismatches.append(f"{where}: expected 401, got {status}")
            elif not (status == 302 and response.url.startswith("/accounts/login/?next=")):
                mismatches.append(f"{where}: expected a redirect to the login, got {status}")
            if changed:
                mismatches.append(f"{where}: wrote to {changed}")
    assert mismatches == [], "\n".join(mismatches)


# --- lists ----------------------------------------------------------------------------------------
# API list → the world id its rows carry, and whose rows each role sees: "own" (the marketer's team),
# "both" teams, or "none".
LISTS = {
    "team-list": ("team_id", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "campaign-list": ("campaign", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "spend-list": ("spend", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "result-list": ("result", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "import-list": ("import", {"M": "own", "C": "both", "F": "none", "O": "both"}),
    "campaign-attachment-list": ("attachment", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "budget-line-list": ("line", {"M": "own", "C": "both", "F": "both", "O": "none"}),
    "allocation-request-list": ("allocation_request", {"M": "own", "C": "both", "F": "both", "O": "none"}),
    "commitment-list": ("commitment", {"M": "own", "C": "both", "F": "both", "O": "none"}),
    "transfer-list": ("transfer", {"M": "own", "C": "both", "F": "both", "O": "none"}),
    "workflow-instance-list": ("instance", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "workflow-request-list": ("general_request", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "delegation-list": ("delegation", {"M": "own", "C": "none", "F": "none", "O": "both"}),
    "response-model-list": ("response_model", {"M": "own", "C": "both", "F": "both"}),
    "scenario-list": ("scenario", {"M": "own", "C": "both", "F": "both"}),
}
# Pages listing a team's things → the text that names the team's object ("na …" / "emea …").
PAGE_LISTS = {
    "campaigns:home": ("{slug} campaign", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "campaigns:calendar?start=2026-01": ("{slug} campaign", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "budgets:request-list": ("{slug} campaign", {"M": "own", "C": "both", "F": "both"}),
    "budgets:transfer-list": ("{slug} line", {"M": "own", "C": "both", "F": "both"}),
    "workflows:request-list": ("{slug} booth", {"M": "own", "C": "both", "F": "both", "O": "both"}),
    "metrics:scenarios": ("{slug} plan", {"M": "own", "C": "both", "F": "both"}),
    "mops:team-list": ("{name}", {"M": "own", "C": "both", "F": "both", "O": "both"}),
}


def test_list_tables_name_urls_that_exist():
    assert set(LISTS) | {name.partition("?")[0] for name in PAGE_LISTS} <= set(MATRIX)


def _ids(client, name) -> set:
    url, rows = reverse(name) + "?page_size=500", []
    payload = json.loads(client.get(url).content)
    rows = payload["results"] if isinstance(payload, dict) else payload
    return {row.get("id", row.get("slug")) for row in rows}


@pytest.mark.parametrize("role", ["marketer", "cmo", "finance", "ops_admin"])
def test_lists_show_only_what_the_policy_allows(request, org, role):
    user = request.getfixturevalue(role)
    letter = ROLE_LETTER[role]
    client = APIClient()
    client.force_login(user)
    own, other = org["own"], org["other"]
    expected_of = {"own": (True, False), "both": (True, True), "none": (False, False)}
    mismatches = []
    for name, (key, expected) in LISTS.items():
        if letter not in expected:
            continue
        seen = _ids(client, name)
        got = (own.ids[key] in seen, other.ids[key] in seen)
        if got != expected_of[expected[letter]]:
            mismatches.append(f"{name}: expected {expected[letter]}, saw (own, other) = {got}")
    for name, (text, expected) in PAGE_LISTS.items():
        if letter not in expected:
            continue
        path, _, query = name.partition("?")
        html = client.get(f"{reverse(path)}?{query}").content.decode()
        got = tuple(text.format(slug=w.team.slug, name=w.team.name) in html for w in (own, other))
        if got != expected_of[expected[letter]]:
            mismatches.append(f"{name}: expected {expected[letter]}, saw (own, other) = {got}")
    assert mismatches == [], "\n".join(mismatches)


# --- writes that name another team's objects in the body ------------------------------------------
# A marketer may POST to these collections, so the matrix (empty bodies) only shows they get past the
# role check. Here the body names the marketer's team's objects: the owner's write goes through (the
# control: the body is valid), the outsider's is refused (400 for an id it may not see, 403, 404) and
# writes nothing.
CROSS_TEAM_WRITES = {
    "spend-list": {"campaign": "{campaign}", "date": "2026-01-06", "amount": "10.00", "currency": "USD"},
    "result-list": {"campaign": "{campaign}", "date": "2026-01-06", "leads": "1"},
    "spend-bulk": [{"campaign": "{campaign}", "date": "2026-01-07", "amount": "10.00", "currency": "USD"}],
    "result-bulk": [{"campaign": "{campaign}", "date": "2026-01-07", "leads": "1"}],
    "campaign-list": {
        "team": "{team_id}",
        "name": "Sneaky launch",
        "code": "sneaky-launch",
        "channel": "{channel}",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "planned_cost": "100.00",
        "currency": "USD",
    },
    "program-list": {"name": "Sneaky program", "team": "{team_id}"},
    "program-detail": {"name": "Taken over"},
    "allocation-request-list": {
        "line": "{line}",
        "campaign": "{campaign}",
        "currency": "USD",
        "justification": "More search",
        "months": [{"month": "2026-02-01", "amount": "10.00"}],
    },
    "transfer-list": {
        "from_line": "{line}",
        "from_month": "2026-01-01",
        "to_line": "{line}",
        "to_month": "2026-02-01",
        "amount": "10.00",
        "reason": "Later",
    },
    "workflow-request-list": {"title": "Sneaky booth", "team": "{team_id}"},
    "delegation-list": {
        "delegator": "{owner}",
        "delegate": "{teammate}",
        "starts_on": "2027-01-01",  # the world's delegation covers 2026
        "ends_on": "2027-01-31",
    },
    "import-map": {"mapping": {"some-campaign": "{campaign}"}},
}


def _filled(value, ids):
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, ids) for item in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize("role", ["marketer", "outsider"])
def test_a_body_naming_another_teams_objects_writes_nothing(request, org, role):
    client = APIClient(raise_request_exception=False)
    client.force_login(request.getfixturevalue(role))
    own = org["own"].ids
    mismatches = []
    for name, body in CROSS_TEAM_WRITES.items():
        rule = MATRIX[name]
        # The import to map is the writer's own (an outsider cannot even see the marketer's): the
        # campaign it maps to is the marketer's team's.
        ids = {**own, "import": (org["own"] if role == "marketer" else org["other"]).ids["import"]}
        url = url_of(name, rule, ids)
        method = "patch" if name.endswith("-detail") else "post"

        def run(url=url, method=method, body=body):
            before = writes()
            response = getattr(client, method)(
                url, data=json.dumps(_filled(body, own)), content_type="application/json"
            )
            return response, written_tables(before)

        response, changed = in_savepoint(run)
        where = f"{method.upper()} {url} ({name}) as {role} [{_said(response)}]"
        if role == "marketer" and response.status_code not in (200, 201):
            mismatches.append(f"{where}: the control write failed with {response.status_code}")
        if role == "outsider" and (response.status_code not in (400, 403, 404) or changed):
            mismatches.append(f"{where}: answered {response.status_code}, wrote to {changed}")
    assert mismatches == [], "\n".join(mismatches)


def test_deciding_through_ones_own_request_does_not_reveal_another_teams_request(org, client, outsider):
    """The request page's decide form names its step by id: a step of a request the user cannot see
    is "no longer exists", never a message that names the other team's request (amount, campaign)."""
    client.force_login(outsider)
    own_request = org["other"].ids["allocation_request"]  # the outsider's own request
    their_task = org["own"].ids["task"]  # a step of the marketer's team's request
    response = client.post(
        reverse("budgets:request-decide", args=[own_request]), {"action": "approve", "task": their_task}, follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This step no longer exists." in page
    assert "na campaign" not in page and "na line" not in page
