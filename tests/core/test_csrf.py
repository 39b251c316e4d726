"""CSRF on every form and every write: each ``<form method="post">`` a user can reach carries the
token (pages crawled as each role, and every template read), and a POST without the token is
refused with 403 at every URL the project serves, pages and API alike, before any view runs."""

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve

from campaigns.attachments import services as attachment_services
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory
from tests.urlwalk import all_paths

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
NOT_CRAWLED = ("/api/", "/admin/", "/static/", "/media/", "/accounts/logout/")
# DRF views drawn with an HTML template (Swagger UI): a refusal shows the house 403 page, not DRF's detail.
HTML_RENDERED_API = {"/api/docs/"}
PAGES_PER_VIEW = 2  # a list's first rows are enough: every row of one view renders the same forms


class _Page(HTMLParser):
    """The links (``href``, ``hx-get``) and the POST forms of one page, with whether each has the token."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []  # {"action": str, "token": bool}
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.links.append(attrs["hx-get"])
        if tag == "form":
            self._form = {"action": attrs.get("action") or "", "post": (attrs.get("method") or "").lower() == "post"}
            self._form["token"] = False
        elif tag == "input" and self._form is not None and attrs.get("name") == "csrfmiddlewaretoken":
            self._form["token"] = bool(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            if self._form["post"]:
                self.forms.append(self._form)
            self._form = None


def _view_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def crawl(client, start: list[str]) -> tuple[set[str], list[tuple[str, dict]]]:
    """Every page reachable from ``start`` by links (at most PAGES_PER_VIEW per view): the views
    seen and the POST forms found as (page, form)."""
    queue, seen_paths, per_view, forms = list(start), set(), {}, []
    while queue:
        path = queue.pop(0)
        name = _view_name(path)
        if path in seen_paths or name is None or per_view.get(name, 0) >= PAGES_PER_VIEW:
            continue
        seen_paths.add(path)
        per_view[name] = per_view.get(name, 0) + 1
        response = client.get(path)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        page = _Page()
        page.feed(response.content.decode())
        forms.extend((path, form) for form in page.forms)
        for link in page.links:
            url = urlsplit(urljoin(path, link))
            if url.netloc in ("", "testserver") and not url.path.startswith(NOT_CRAWLED):
                queue.append(url.path + (f"?{url.query}" if url.query else ""))
    return set(per_view), forms


@pytest.fixture
def organisation(team, marketer, teammate, lead, cmo, finance, ops_admin):
    """Enough to reach every kind of page with forms: a fiscal year with periods, a campaign with a file."""
    fiscal_year_ensure(year=2026)
    channel = ChannelFactory(name="Paid search", slug="paid-search", group="paid_media")
    campaign = CampaignFactory(name="Spring webinars", code="spring", team=team, owner=marketer, channel=channel)
    attachment_services.attachment_add(
        actor=marketer, campaign=campaign, uploaded_file=SimpleUploadedFile("brief.pdf", PDF), kind="brief"
    )
    return campaign


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["marketer", "lead", "cmo", "finance", "ops_admin"])
def test_every_post_form_a_role_reaches_carries_the_token(request, media_root, organisation, who):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    start = ["/", *(p for p in all_paths() if "some-" not in p and "/1/" not in p and not p.startswith(NOT_CRAWLED))]

    views, forms = crawl(client, start)

    assert len(views) >= 10, views  # the crawl really walked the site
    assert forms, "no POST form found: the crawl saw no write"
    missing = [(page, form["action"]) for page, form in forms if not form["token"]]
    assert missing == [], f"POST forms without csrfmiddlewaretoken: {missing}"


def test_the_page_reader_tells_a_form_without_the_token():
    page = _Page()
    page.feed(
        '<form method="post" action="/a/"><input type="hidden" name="csrfmiddlewaretoken" value="t"></form>'
        '<form method="POST" action="/b/"><input name="name"></form>'
        '<form action="/search/"><input name="q"></form><a href="/next/">next</a><div hx-get="/part/"></div>'
    )
    assert page.forms == [
        {"action": "/a/", "post": True, "token": True},
        {"action": "/b/", "post": True, "token": False},
    ]
    assert page.links == ["/next/", "/part/"]


def test_every_post_form_in_the_templates_has_the_token_tag():
    """Pages the crawl may not reach (other data, other states): the template source itself."""
    post_form = re.compile(r"<form\b[^>]*method=[\"']post[\"']", re.IGNORECASE)
    template_dirs = [ROOT / "templates", *ROOT.glob("*/templates")]
    offenders = []
    for path in sorted(p for d in template_dirs for p in d.rglob("*.html")):
        text = path.read_text()
        for match in post_form.finditer(text):
            body = text[match.end() : text.find("</form>", match.end())]
            if "{% csrf_token %}" not in body:
                offenders.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}")
    assert offenders == []


def test_crispy_forms_render_their_own_form_tag_with_the_token():
    """``{% crispy form %}`` without a surrounding <form> relies on crispy's own tag including the token."""
    from crispy_forms.helper import FormHelper
    from django import forms as django_forms
    from django.template import engines
    from django.test import RequestFactory

    class Form(django_forms.Form):
        name = django_forms.CharField()

    form = Form()
    form.helper = FormHelper()
    # Rendered as a view renders: with the request, so the CSRF context processor runs.
    html = (
        engines["django"]
        .from_string("{% load crispy_forms_tags %}{% crispy form %}")
        .render({"form": form}, RequestFactory().get("/"))
    )
    assert 'method="post"' in html and 'name="csrfmiddlewaretoken"' in html


# --- a POST without the token -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_post_without_the_token_is_refused_everywhere(ops_admin):
    """A logged-in browser tricked into posting from another site: refused at every URL before the
    view runs (whatever the view would answer — 404 for the sample ids here, 405 for GET-only pages)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_admin)
    paths = all_paths()
    assert len(paths) > 50

    wrong = {}
    for path in paths:
        response = client.post(path, {"name": "forged"})
        explained = path in HTML_RENDERED_API or b"CSRF" in response.content
        if response.status_code != 403 or not explained:
            wrong[path] = (response.status_code, response.content[:200])

    assert wrong == {}


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(HTML_RENDERED_API))
def test_the_html_api_pages_refuse_for_the_token_alone(ops_admin, path):
    """Their 403 page drops DRF's "CSRF Failed" detail: with the token the same POST is a 405."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_admin)
    client.get("/teams/")  # sets the CSRF cookie

    response = client.post(path, {"csrfmiddlewaretoken": client.cookies[settings.CSRF_COOKIE_NAME].value})

    assert response.status_code == 405


@pytest.mark.django_db
def test_the_login_form_needs_the_token_too(marketer):
    """Login CSRF: a forged log-in as the attacker's account is refused."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": marketer.username, "password": "pass-for-tests"})
    assert response.status_code == 403 and b"CSRF" in response.content


@pytest.mark.django_db
def test_the_same_post_with_the_token_gets_through(ops_admin):
    """The control: what the refusals above lack is the token, nothing else."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops_admin)
    client.get("/teams/")  # sets the CSRF cookie

    response = client.post(
        "/accounts/logout/", {"csrfmiddlewaretoken": client.cookies[settings.CSRF_COOKIE_NAME].value}
    )

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
