"""Money: one precision, one rounding rule, used by every app (ARCHITECTURE.md "Money")."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

CENT = Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)
# The largest amount one row may carry, in its currency and in base currency (settings.MONEY_MAX).
MONEY_MAX = Decimal(settings.MONEY_MAX)
MONEY_MAX_TEXT = f"{MONEY_MAX:,}"


def money_bound_message(what: str = "An amount") -> str:
    """The one wording for an amount past the bound; it names the limit."""
    return f"{what} must be between -{MONEY_MAX_TEXT} and {MONEY_MAX_TEXT}."


def check_money_bound(value, *, what: str = "An amount", field: str | None = None) -> None:
    """Raise ValidationError (on ``field`` when given) if ``value`` is not a finite amount within the
    bound. Every write path calls this (or relies on MoneyField's validator, which uses it)."""
    try:
        amount = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):  # unparsable: out of bounds by definition
        amount = None
    if amount is None or not amount.is_finite() or abs(amount) > MONEY_MAX:
        message = money_bound_message(what)
        raise ValidationError({field: message} if field else message, code="money_bound")


def _validate_money_bound(value) -> None:
    check_money_bound(value)


def money(value) -> Decimal:
    """Round an amount to the money precision, half away from zero (the accounting convention)."""
    if isinstance(value, float):
        # Floats only ever come from the outside (a spreadsheet cell); go through str so 0.1 stays 0.1.
        value = str(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def MoneyField(**kwargs) -> models.DecimalField:  # noqa: N802 — reads like a field class at call sites
    """A DecimalField with the project's money precision."""
    kwargs["validators"] = [*kwargs.get("validators", ()), _validate_money_bound]
    return models.DecimalField(
        max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )


def CurrencyField(**kwargs) -> models.CharField:  # noqa: N802
    """An ISO-4217 code beside every money amount."""
    kwargs.setdefault("max_length", 3)
    return models.CharField(**kwargs)
