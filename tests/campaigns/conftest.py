import datetime
from decimal import Decimal

import pytest

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
