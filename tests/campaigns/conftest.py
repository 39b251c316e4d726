"""Fixtures and helpers for campaign tests: the fiscal year, a channel, a campaign and another team's,
a EUR rate; the page helpers (url, login) and the import helpers (run, upload, spend_total, counts)."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db.models import Sum
from django.urls import reverse

from campaigns.imports.services import import_start, import_upload
from campaigns.models import ImportBatch, SpendEntry
from planning.services import fiscal_year_ensure
from tests.factories import CampaignFactory, ChannelFactory, FxRateFactory


@pytest.fixture
def fiscal_2026(db):
    return fiscal_year_ensure(year=2026)


@pytest.fixture
def paid_search(db):
    return ChannelFactory(name="Paid search", slug="paid-search", group="paid_media")


@pytest.fixture
def campaign(team, marketer, paid_search, fiscal_2026):
    return CampaignFactory(
        name="Spring webinar series", code="spring-webinars", team=team, owner=marketer, channel=paid_search
    )


@pytest.fixture
def eur_rate(db):
    return FxRateFactory(currency_id="EUR", date=datetime.date(2026, 1, 1), rate=Decimal("1.10"))


def url(name, *args):
    return reverse(f"campaigns:{name}", args=args)


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def other_campaign(other_team, outsider, paid_search, fiscal_2026):
    """A campaign of another team (charlie's): invisible to alice and bob."""
    return CampaignFactory(
        name="EMEA roadshow", code="emea-roadshow", team=other_team, owner=outsider, channel=paid_search
    )


DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``run(actor, batch)``: start the import and let the (eager) task run after commit."""

    def start(actor, batch):
        with django_capture_on_commit_callbacks(execute=True):
            import_start(actor=actor, batch=batch)
        batch.refresh_from_db()
        return batch

    return start


def upload(actor, name, *, content: bytes | None = None, **kwargs) -> ImportBatch:
    content = (DATA / name).read_bytes() if content is None else content
    return import_upload(actor=actor, file=ContentFile(content, name=name), filename=name, **kwargs)


def spend_total(**filters):
    return SpendEntry.objects.filter(**filters).aggregate(s=Sum("amount"))["s"]


def counts(batch):
    return batch.rows_created, batch.rows_updated, batch.rows_unchanged, batch.rows_rejected
