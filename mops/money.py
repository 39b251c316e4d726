"""Money: one precision, one rounding rule, used by every app (ARCHITECTURE.md "Money")."""

from decimal import ROUND_HALF_UP, Decimal

from django import forms
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


class MoneyFormField(forms.DecimalField):
    """A money amount typed into a form: the project's precision, and any amount past the bound —
    NaN, Infinity and 1e308 included — refused with the one message that names the limit (Django's
    own field says "Enter a number." or adds a digit count). ModelForms take it through
    ``Meta.field_classes``; the message names the field by ``what`` or else its label."""

    def __init__(self, *, what: str | None = None, **kwargs):
        self.what = what
        kwargs.setdefault("max_digits", settings.MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", settings.MONEY_DECIMAL_PLACES)
        kwargs.setdefault("max_value", MONEY_MAX)  # also the input's max attribute
        kwargs.setdefault("min_value", -MONEY_MAX)
        super().__init__(**kwargs)

    def _refuse(self):
        raise ValidationError(money_bound_message(str(self.what or self.label or "An amount")), code="money_bound")

    def validate(self, value):
        if value not in self.empty_values and not value.is_finite():
            self._refuse()  # Django's field would say "Enter a number."
        super().validate(value)

    def run_validators(self, value):
        if value not in self.empty_values and abs(value) > MONEY_MAX:
            self._refuse()  # alone: not also "no more than 18 digits" or "less than or equal to"
        super().run_validators(value)


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
