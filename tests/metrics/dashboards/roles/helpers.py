"""Builders and constants of the finance, marketer and ops dashboard tests (fixtures in ``conftest``)."""

import datetime
from decimal import Decimal

from campaigns.models import FactSource, ResultFact, SpendEntry
from metrics.dashboards.panels import Inputs
from metrics.rollups.selectors import Filters, scope_of

D = Decimal
YEAR = Filters(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
TODAY = datetime.date(2026, 3, 15)  # "today" of the board-level tests: mid-March of FY2026
FY = {"period": "fy2026"}


def spend(campaign, day, amount, *, source=FactSource.MANUAL, key=None, currency="USD", base=None):
    return SpendEntry.objects.create(
        campaign=campaign,
        date=day,
        amount=D(amount),
        currency=currency,
        amount_base=D(base if base is not None else amount),
        source=source,
        external_key=key,
    )


def results(campaign, day, **values):
    return ResultFact.objects.create(campaign=campaign, date=day, **values)


def board(board_class, user, *, filters=YEAR, today=TODAY):
    inputs = Inputs(filters=filters, scope=scope_of(user), user=user, today=today, currency="USD")
    return board_class(inputs)


def by_first_column(rows):
    return {row[0]: row for row in rows}
