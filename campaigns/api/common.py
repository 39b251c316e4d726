"""Fields and helpers the campaigns endpoints share: request-scoped related fields that look each id
up once per request (a bulk of 500 rows on three campaigns is three lookups), money and currency
fields, and the all-or-nothing bulk contract."""

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from rest_framework import serializers, status
from rest_framework.response import Response

from mops.api_base import (  # noqa: F401 — the API's money fields live in the core
    MoneyField,
    money_field,
    money_sum_field,
)
from mops.models import Currency

User = get_user_model()

BULK_MAX_ITEMS = 1000


def active_users():
    return User.objects.filter(is_active=True)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among the objects the requesting user may see (``visible(user)``); anything else is
    "does not exist", so ids of other teams' rows reveal nothing. Lookups are remembered per
    serializer, which the bulk endpoints reuse for every item."""

    def __init__(self, *, model, visible, **kwargs):
        self.visible = visible
        self._seen = {}
        if not kwargs.get("read_only"):
            kwargs["queryset"] = model.objects.none()  # for the schema; requests use ``visible``
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.visible(self.context["request"].user)

    def to_internal_value(self, data):
        key = str(data)
        if key not in self._seen:
            self._seen[key] = super().to_internal_value(data)
        return self._seen[key]


class CurrencyField(serializers.CharField):
    """An active ISO-4217 code (``/api/v1/currencies/``); the list is read once per serializer."""

    default_error_messages = {"unknown": "Unknown or inactive currency {value!r}."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)
        self._codes = None

    def to_internal_value(self, data):
        code = super().to_internal_value(data).strip().upper()
        if self._codes is None:
            self._codes = set(Currency.objects.filter(is_active=True).values_list("code", flat=True))
        if code not in self._codes:
            self.fail("unknown", value=code)
        return code


class BulkOutcomeSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class BulkItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the refused item in the posted list (from 0).")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Field → messages."
    )


class BulkErrorSerializer(serializers.Serializer):
    """The refused items; or, for a body that is no usable list (not a list, empty, too long),
    ``non_field_errors``; or ``detail`` for a body that is not even JSON."""

    errors = BulkItemErrorSerializer(many=True, required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)


def validate_items(child: serializers.Serializer, data) -> tuple[dict[int, dict], dict[int, dict]]:
    """Check the shape of every item of a bulk body with one ``child`` serializer.

    Returns (valid rows by index, field errors by index). A body that is not a list, is empty or
    is too long is a 400 at once.
    """
    if not isinstance(data, list):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON list of items."]})
    if not data:
        raise serializers.ValidationError({"non_field_errors": ["The list is empty."]})
    if len(data) > BULK_MAX_ITEMS:
        raise serializers.ValidationError(
            {"non_field_errors": [f"At most {BULK_MAX_ITEMS} items per request; split the batch."]}
        )
    rows, errors = {}, {}
    for index, item in enumerate(data):
        try:
            rows[index] = child.run_validation(item)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, Mapping) else {"non_field_errors": exc.detail}
            errors[index] = detail
    return rows, errors


def bulk_error_response(errors: Mapping[int, Mapping]) -> Response:
    body = {"errors": [{"index": index, "errors": errors[index]} for index in sorted(errors)]}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def bulk_outcome_response(outcomes: Mapping[str, int]) -> Response:
    body = {outcome: outcomes.get(outcome, 0) for outcome in ("created", "updated", "unchanged")}
    return Response(body, status=status.HTTP_201_CREATED)
