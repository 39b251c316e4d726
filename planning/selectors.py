"""Reads of planning data shared by pages, the API and other apps."""

import datetime
from itertools import groupby

from django.utils import timezone

from planning.fiscal import fiscal_months, fiscal_year_of
from planning.models import ChannelGroup, FiscalYear
from planning.permissions import channels_visible_to


def current_fiscal_year() -> FiscalYear | None:
    return FiscalYear.objects.filter(year=fiscal_year_of(timezone.localdate())).first()


def channels_by_group(*, user, active_only: bool = True) -> list[tuple[str, list]]:
    """[(group label, [channels…]), …] in the taxonomy's order."""
    qs = channels_visible_to(user)
    if active_only:
        qs = qs.filter(is_active=True)
    labels = dict(ChannelGroup.choices)
    return [
        (labels[group], list(items)) for group, items in groupby(qs.order_by("group", "name"), key=lambda c: c.group)
    ]


def months_of(fiscal_year: FiscalYear) -> list[datetime.date]:
    return fiscal_months(fiscal_year.year)
