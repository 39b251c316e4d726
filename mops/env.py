"""Typed readers for configuration from the environment.

Each helper returns the default when the variable is unset *or empty* (an empty
``DATABASE_URL=`` in a compose file means "not configured", not "broken"), and
raises ``ImproperlyConfigured`` naming the variable when a value cannot be read
as the wanted type — a typo in production config must stop the process, not be
silently coerced.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_UNSET = object()


def _raw(name):
    value = os.environ.get(name, "").strip()
    return value or None


def env_str(name, default=_UNSET):
    value = _raw(name)
    if value is None:
        if default is _UNSET:
            raise ImproperlyConfigured(f"Set the {name} environment variable.")
        return default
    return value


def env_bool(name, default=False):
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off.")


def env_int(name, default, *, min_value=None, max_value=None):
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if (min_value is not None and number < min_value) or (max_value is not None and number > max_value):
        raise ImproperlyConfigured(f"{name}={number} is outside {min_value}..{max_value}.")
    return number


def env_list(name, default=()):
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_currency(name, default):
    value = (_raw(name) or default).upper()
    if len(value) != 3 or not value.isalpha():
        raise ImproperlyConfigured(f"{name}={value!r} is not an ISO-4217 currency code (three letters).")
    return value
