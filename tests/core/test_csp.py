"""Every page carries a Content-Security-Policy that forbids inline and foreign scripts; the pages
satisfy it (the browser tests fail on any console error, CSP violations included)."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/metrics/cmo/", "/api/docs/"])
def test_responses_carry_a_strict_script_policy(client, cmo, path):
    client.force_login(cmo)
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


@pytest.mark.parametrize("path", ["/accounts/login/", "/metrics/cmo/", "/campaigns/", "/api/docs/"])
def test_pages_have_no_inline_scripts(client, cmo, path):
    if path != "/accounts/login/":
        client.force_login(cmo)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "the page loads its scripts"
    for attributes, body in scripts:
        assert "src=" in attributes and not body.strip(), f"inline script on {path}: {body[:80]!r}"
