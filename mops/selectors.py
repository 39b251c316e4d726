"""Reads of the core that pages, the API and other apps share."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, Q

from mops.models import FxRate, Membership, Team
from mops.money import money
from mops.permissions import teams_visible_to


class FxRateMissing(LookupError):
    """No rate for the currency on or before the date: the booking cannot be converted."""

    def __init__(self, currency: str, on: datetime.date):
        self.currency, self.on = currency, on
        super().__init__(f"No exchange rate for {currency} on or before {on:%Y-%m-%d}; ask finance to add one.")


def fx_rate_on(currency: str, on: datetime.date) -> Decimal:
    """Units of base currency per unit of ``currency``: the latest rate dated on or before ``on``."""
    if currency == settings.BASE_CURRENCY:
        return Decimal(1)
    rate = (
        FxRate.objects.filter(currency_id=currency, date__lte=on)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise FxRateMissing(currency, on)
    return rate


def team_list(*, user, search: str = ""):
    """Teams the user may see, with member and lead counts for list pages and the API."""
    qs = teams_visible_to(user).annotate(
        member_count=Count("memberships", distinct=True),
        lead_count=Count("memberships", filter=Q(memberships__is_lead=True), distinct=True),
    )
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return qs.order_by("name")


def team_detail_queryset(*, user):
    members = Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("user__username"))
    return teams_visible_to(user).prefetch_related(members)


def teams_of(user):
    """The teams a user belongs to, with their membership (lead or not)."""
    return Team.objects.filter(memberships__user=user).prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("user__username"))
    )


def to_base_currency(amount: Decimal, currency: str, on: datetime.date) -> Decimal:
    """``amount`` in ``currency`` converted to the base currency at the rate of ``on``, rounded to money."""
    return money(amount * fx_rate_on(currency, on))
