"""``manage.py seed_demo`` on today's date (``pytest --today=…`` runs it on another; every date of three
years is tests/core/test_demo_any_date.py). The module's tests share one seeding, rolled back at the
end; each test still runs in its own transaction (a savepoint inside that one)."""

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse

from mops import settings as project_settings
from mops.models import AuditEvent, FxRate, Membership, Team
from planning.models import Channel, FiscalYear

pytestmark = pytest.mark.django_db

MODELS = [get_user_model(), Team, Membership, Channel, FiscalYear, FxRate, AuditEvent]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _authenticate(username, password):
    """As the login page does: the lock-out backend (django-axes) needs the request."""
    return authenticate(RequestFactory().post("/accounts/login/"), username=username, password=password)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo seeded once for the module, with the fiscal year the environment sets (the suite pins
    January, tests/conftest.py); what the command printed."""
    fiscal_start = override_settings(FISCAL_YEAR_START_MONTH=project_settings.FISCAL_YEAR_START_MONTH)
    with django_db_blocker.unblock(), fiscal_start, transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_seed_demo_builds_the_demo_organisation(seeded):
    assert Team.objects.count() == 4
    assert (
        Channel.objects.filter(name__in=["Paid search", "Paid social", "Email", "Events", "Webinars", "PR"]).count()
        == 6
    )
    assert FiscalYear.objects.count() == 1
    assert FxRate.objects.filter(currency_id="EUR").exists()
    for username in ["marketer", "cmo", "finance", "opsadmin"]:
        assert _authenticate(username, "demo") is not None, username
        assert username in seeded
    assert "password 'demo'" in seeded


def test_seed_demo_twice_changes_nothing(seeded):
    first = _counts()
    marketer = get_user_model().objects.get(username="marketer")
    marketer.set_password("changed-by-the-user")
    marketer.save()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
    # A second run does not reset what users changed.
    assert _authenticate("marketer", "changed-by-the-user") is not None


@pytest.mark.parametrize(
    ("username", "landing"),
    [
        ("marketer", "campaigns:home"),
        ("cmo", "metrics:cmo"),
        ("finance", "budgets:home"),
        ("opsadmin", "mops:ops-home"),
    ],
)
def test_each_demo_user_lands_on_their_page(seeded, client, username, landing):
    response = client.post(reverse("login"), {"username": username, "password": "demo"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert response.status_code == 200
