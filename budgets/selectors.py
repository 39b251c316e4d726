"""Reads of budget data shared by pages, the API and dashboards."""

from django.conf import settings
from django.db.models import OuterRef, Subquery

from mops.models import Currency, FxRate


def latest_fx_rates():
    """Every active currency but the base one, with its latest rate and that rate's date."""
    latest = FxRate.objects.filter(currency=OuterRef("pk")).order_by("-date")
    return (
        Currency.objects.filter(is_active=True)
        .exclude(code=settings.BASE_CURRENCY)
        .annotate(latest_rate=Subquery(latest.values("rate")[:1]), latest_date=Subquery(latest.values("date")[:1]))
        .order_by("code")
    )
