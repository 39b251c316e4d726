"""What every app's API shares: pagination, search, error bodies, the policy permission class."""

import decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.encoding import smart_str
from rest_framework import exceptions, filters, pagination, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mops.errors import Conflict
from mops.money import check_money_bound
from mops.selectors import FxRateMissing


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class SearchFilter(filters.SearchFilter):
    """DRF's, with a refused term (one holding a NUL character) named by its parameter,
    ``{"search": ["Null characters are not allowed."]}``, like every other field error."""

    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.search_param: exc.detail}) from exc


def exception_handler(exc, context):
    """DRF's handler, plus the errors services raise, mapped to the same JSON bodies.

    Field errors: ``{"field": ["message"]}`` with 400; everything else ``{"detail": "..."}``;
    a ``mops.errors.Conflict`` (someone acted first) is 409.
    """
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, FxRateMissing):
        exc = exceptions.ValidationError({"currency": [str(exc)]})
    elif isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(_parse_error_text(str(exc.detail)))
    return drf_exception_handler(exc, context)


def _parse_error_text(detail: str) -> str:
    """DRF's "JSON parse error - Expecting value: line 1 column 2 (char 1)" as a sentence."""
    if detail.startswith("JSON parse error - "):
        return f"The request body is not valid JSON: {detail.removeprefix('JSON parse error - ')}."
    return detail if detail.endswith(".") else f"{detail}."


class Policy(permissions.BasePermission):
    """Checks a view's ``policy`` mapping of action → predicate from the app's permissions module.

    ``policy = {"list": rules.is_authenticated, "create": can_manage, "update": can_manage, ...}``.
    Collection actions test ``predicate(user)``; detail actions test ``predicate(user, obj)`` on the
    object the view's queryset (a ``*_visible_to(user)``) found, so an invisible object is a 404
    and a visible one the user may not change is a 403. An action not named is refused.
    """

    def _predicate(self, view):
        action = getattr(view, "action", None) or view.request.method.lower()
        return view.policy.get(action)

    def has_permission(self, request, view):
        predicate = self._predicate(view)
        if predicate is None or not request.user.is_authenticated:
            return False
        if getattr(view, "detail", False):
            return True  # decided per object in has_object_permission
        return predicate.test(request.user)

    def has_object_permission(self, request, view, obj):
        predicate = self._predicate(view)
        return predicate is not None and predicate.test(request.user, obj)


# --- money ----------------------------------------------------------------------------------


class MoneyField(serializers.DecimalField):
    """A money amount: a decimal string with the project's precision.

    In: any amount past the bound — NaN, Infinity, 1e308 as a string or a JSON number — is a 400
    naming the limit (``mops.money.check_money_bound``), not DRF's "A valid number is required." or
    a digit count. Out: any stored or summed value renders (DRF would quantize within ``max_digits``
    and fail with a 500 on a sum wider than that); ``max_digits`` still documents the field's width.
    """

    def to_internal_value(self, data):
        text = smart_str(data).strip()
        if len(text) <= self.MAX_STRING_LENGTH:
            try:
                number = decimal.Decimal(text)
            except decimal.DecimalException:
                number = None  # not a number: DRF's own message
            if number is not None:
                try:
                    check_money_bound(number, what=str(self.label or "An amount"))
                except DjangoValidationError as exc:
                    raise serializers.ValidationError(exc.messages, code="money_bound") from None
        return super().to_internal_value(data)

    def quantize(self, value):
        wide = decimal.getcontext().copy()
        wide.prec = max(self.max_digits, settings.MONEY_SUM_MAX_DIGITS)
        return value.quantize(decimal.Decimal(1).scaleb(-self.decimal_places), rounding=self.rounding, context=wide)


def money_field(**kwargs) -> MoneyField:
    """A money amount (one row's: within ``settings.MONEY_MAX``), never negative unless told."""
    kwargs.setdefault("min_value", 0)
    return MoneyField(max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs)


def money_sum_field(**kwargs) -> MoneyField:
    """A total of amounts (read only), as wide as the sum of every allowed amount (``MONEY_SUM_MAX_DIGITS``)."""
    return MoneyField(
        max_digits=settings.MONEY_SUM_MAX_DIGITS,
        decimal_places=settings.MONEY_DECIMAL_PLACES,
        read_only=True,
        **kwargs,
    )
