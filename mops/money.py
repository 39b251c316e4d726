"""Money: one precision, one rounding rule, used by every app (ARCHITECTURE.md "Money")."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models

CENT = Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)


def money(value) -> Decimal:
    """Round an amount to the money precision, half away from zero (the accounting convention)."""
    if isinstance(value, float):
        # Floats only ever come from the outside (a spreadsheet cell); go through str so 0.1 stays 0.1.
        value = str(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def MoneyField(**kwargs) -> models.DecimalField:  # noqa: N802 — reads like a field class at call sites
    """A DecimalField with the project's money precision."""
    return models.DecimalField(
        max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )


def CurrencyField(**kwargs) -> models.CharField:  # noqa: N802
    """An ISO-4217 code beside every money amount."""
    kwargs.setdefault("max_length", 3)
    return models.CharField(**kwargs)
