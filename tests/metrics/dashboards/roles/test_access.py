"""Who may open the finance, marketer and ops dashboards (and their downloads)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


# --- permissions ------------------------------------------------------------------------------

ALLOWED = {
    "metrics:finance": {"finance", "cmo"},
    "metrics:marketer": {"marketer", "outsider"},
    "metrics:ops": {"ops_admin", "cmo"},
}


@pytest.mark.parametrize("url_name", list(ALLOWED))
@pytest.mark.parametrize("who", ["marketer", "outsider", "cmo", "finance", "ops_admin"])
def test_each_dashboard_is_for_its_roles(client, request, url_name, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse(url_name))
    if who in ALLOWED[url_name]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "dashboard is for" in response.content.decode()


@pytest.mark.parametrize("url_name", list(ALLOWED))
def test_anonymous_is_sent_to_log_in(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url_name", list(ALLOWED))
def test_a_refused_download_is_refused_too(client, marketer, finance, url_name):
    other = finance if url_name == "metrics:marketer" else marketer
    client.force_login(other)
    assert client.get(reverse(url_name), {"download": "pacing", "format": "csv"}).status_code == 403
