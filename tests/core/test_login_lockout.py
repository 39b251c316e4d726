"""Log-in lock-out (django-axes, settings "Login lock-out"): five failures lock a username + address
for 15 minutes — on the login page and the API token endpoint alike — while other usernames and
other addresses go on; a success clears the count; one address trying many usernames meets a wider
brake; X-Forwarded-For counts only when the deployment says it runs behind proxies."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from mops.lockout import client_ip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
TOKEN = "/api/v1/auth/token/"
LIMIT = 5
LOCKED = "Too many failed log-ins"


def page_login(client, username, password, address="127.0.0.1", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def fail(client, username, times, address="127.0.0.1"):
    return [page_login(client, username, "wrong-password", address).status_code for _ in range(times)]


def logged_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


def test_the_settings_are_the_ones_documented(settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_one_failure_short_of_the_limit_the_right_password_still_works(client, marketer):
    assert fail(client, marketer.username, LIMIT - 1) == [200] * (LIMIT - 1)  # the form again, with its error
    assert logged_in(page_login(client, marketer.username, PASSWORD))


def test_the_fifth_failure_locks_and_even_the_right_password_is_refused(client, marketer):
    statuses = fail(client, marketer.username, LIMIT)
    assert statuses == [200] * (LIMIT - 1) + [429]

    response = page_login(client, marketer.username, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "base.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert LOCKED in page and marketer.username in page and "paused for 15 minutes" in page
    assert "Your username and password didn't match" not in page


def test_a_lock_holds_only_that_username_from_that_address(client, marketer, teammate):
    fail(client, marketer.username, LIMIT)

    assert logged_in(page_login(client, teammate.username, PASSWORD))  # another user, same address
    client.logout()
    assert logged_in(page_login(client, marketer.username, PASSWORD, address="10.1.2.3"))  # same user, elsewhere


@pytest.mark.parametrize(("minutes_ago", "still_locked"), [(14, True), (16, False)])
def test_a_lock_ends_after_the_cool_off_time(client, marketer, minutes_ago, still_locked):
    fail(client, marketer.username, LIMIT)
    # Time passes: the failures happened that long ago.
    moved = AccessAttempt.objects.filter(username=marketer.username).update(
        attempt_time=AccessAttempt.objects.get(username=marketer.username).attempt_time - timedelta(minutes=minutes_ago)
    )
    assert moved == 1

    response = page_login(client, marketer.username, PASSWORD)

    assert (response.status_code == 429) is still_locked
    assert logged_in(response) is not still_locked


def test_attempts_while_locked_do_not_extend_the_lock(client, marketer):
    fail(client, marketer.username, LIMIT)
    attempt = AccessAttempt.objects.get(username=marketer.username)

    assert fail(client, marketer.username, 3) == [429] * 3
    page_login(client, marketer.username, PASSWORD)

    attempt.refresh_from_db()
    assert attempt.failures_since_start == LIMIT
    assert AccessAttempt.objects.get(pk=attempt.pk).attempt_time == attempt.attempt_time


def test_a_success_clears_the_count(client, marketer):
    fail(client, marketer.username, LIMIT - 1)
    assert logged_in(page_login(client, marketer.username, PASSWORD))
    client.logout()
    assert not AccessAttempt.objects.exists()

    # Another run of failures starts from zero: four more do not lock.
    assert fail(client, marketer.username, LIMIT - 1) == [200] * (LIMIT - 1)
    assert logged_in(page_login(client, marketer.username, PASSWORD))


# --- the API token endpoint -----------------------------------------------------------------


def token(api, username, password, address="127.0.0.1"):
    return api.post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_token_endpoint_locks_with_a_clear_json_error(api, marketer):
    statuses = [token(api, marketer.username, "wrong-password").status_code for _ in range(LIMIT)]
    assert statuses == [400] * (LIMIT - 1) + [429]

    response = token(api, marketer.username, PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "Too many failed log-ins for this username from your address: logging in is paused for "
        "15 minutes. Try again later, or ask an ops admin to unlock it."
    }
    assert response["Retry-After"] == "900"
    assert "token" not in response.json()
    # Elsewhere the same user gets a token.
    assert token(api, marketer.username, PASSWORD, address="10.1.2.3").status_code == 200


def test_page_and_api_failures_count_together(client, api, marketer):
    fail(client, marketer.username, LIMIT - 1)
    assert token(api, marketer.username, "wrong-password").status_code == 429
    assert page_login(client, marketer.username, PASSWORD).status_code == 429


def test_a_token_success_clears_the_count(api, marketer):
    for _ in range(LIMIT - 1):
        token(api, marketer.username, "wrong-password")
    assert token(api, marketer.username, PASSWORD).status_code == 200
    assert not AccessAttempt.objects.exists()
    marketer.refresh_from_db()
    assert marketer.last_login is not None


# --- one address, many usernames ------------------------------------------------------------


def test_one_address_trying_many_usernames_is_stopped(client, settings, marketer, teammate, lead):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 6
    # Two guesses at each of three usernames: no username + address pair reaches five.
    statuses = [s for name in ["x-one", "x-two", "x-three"] for s in fail(client, name, 2, address="10.9.9.9")]
    assert statuses == [200] * 5 + [429]

    # From that address every username is refused, even with the right password …
    assert page_login(client, teammate.username, PASSWORD, address="10.9.9.9").status_code == 429
    # … and the users themselves, elsewhere, are not.
    assert logged_in(page_login(client, teammate.username, PASSWORD))


# --- the client address ---------------------------------------------------------------------


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(client, marketer, settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    # A new made-up address with every guess changes nothing: the count is by REMOTE_ADDR.
    statuses = [
        client.post(
            LOGIN, {"username": marketer.username, "password": "nope"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        ).status_code
        for i in range(LIMIT)
    ]
    assert statuses[-1] == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "203.0.113.7", "10.0.0.1"),
        (1, "10.0.0.1", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the left entry is the client's own claim
        (2, "10.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "10.0.0.1", "203.0.113.7", "10.0.0.1"),  # fewer entries than proxies: not configured as said
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_behind_proxies(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(LOGIN, REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_behind_a_proxy_each_client_is_counted_apart(client, marketer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(LIMIT):
        client.post(
            LOGIN,
            {"username": marketer.username, "password": "nope"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    response = client.post(
        LOGIN,
        {"username": marketer.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    assert logged_in(response)  # a colleague behind the same proxy


# --- ops admins unlock ----------------------------------------------------------------------


def test_an_ops_admin_sees_and_removes_a_lock_in_the_admin(client, marketer, ops_admin):
    fail(client, marketer.username, LIMIT)
    attempt = AccessAttempt.objects.get()
    ops_admin.is_staff = True
    ops_admin.save()
    client.force_login(ops_admin)

    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert marketer.username in listing.content.decode()
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    client.logout()

    assert not AccessAttempt.objects.exists()
    assert logged_in(page_login(client, marketer.username, PASSWORD))


@pytest.mark.parametrize("field", ["username", "password"])
def test_the_token_endpoint_refuses_oversized_credentials_before_counting(api, marketer, field):
    """A username longer than any user's (or than the lock-out's record holds) is a 400, not a 500."""
    data = {"username": marketer.username, "password": "x", field: "x" * 5000}
    response = api.post(TOKEN, data)
    assert response.status_code == 400
    assert field in response.json()
    assert not AccessAttempt.objects.exists()
