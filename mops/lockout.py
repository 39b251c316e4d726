"""Login lock-out: the parts of django-axes' policy that are ours (settings.py says what and why).

- ``client_ip``: the address failures are counted against, read from ``X-Forwarded-For`` only when
  the deployment says how many proxies it runs behind.
- ``LockoutHandler``: axes' database handler (username + address) plus a wider brake per address.
- ``is_locked_out`` / ``LOCKED_OUT_MESSAGE``: what the API's token endpoint answers when locked.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

LOCKED_OUT_MESSAGE = (
    "Too many failed log-ins for this username from your address: logging in is paused for {minutes} minutes. "
    "Try again later, or ask an ops admin to unlock it."
)


def locked_out_message() -> str:
    return LOCKED_OUT_MESSAGE.format(minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def client_ip(request) -> str | None:
    """``REMOTE_ADDR``, unless ``TRUSTED_PROXY_COUNT`` proxies stand in front of mops: then the
    address the outermost of them saw, the ``TRUSTED_PROXY_COUNT``-th entry of ``X-Forwarded-For``
    from the right (each proxy appends the address it was called from). Entries further left are
    whatever the client wrote and are never used; without the setting the header is ignored, or
    a client could claim a new address with every guess."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            address = _valid_address(forwarded[-count])
            if address:
                return address
    return _valid_address(request.META.get("REMOTE_ADDR", ""))


def _valid_address(raw: str) -> str | None:
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None  # the attempt is still counted by username (the column allows NULL)


class LockoutHandler(AxesDatabaseHandler):
    """Axes' handler (failures per username + address) and a brake on one address trying many
    usernames: ``LOCKOUT_ADDRESS_FAILURE_LIMIT`` failures from an address within the cool-off time,
    whatever the usernames, lock that address for every username."""

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self._address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        # The failure that reaches the address limit is answered as a lock-out already.
        if request is not None and not request.axes_locked_out and self._address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials

    def _address_locked(self, request) -> bool:
        address = request.axes_ip_address
        if not address:
            return False
        failures = AccessAttempt.objects.filter(
            ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
        ).aggregate(total=Sum("failures_since_start"))["total"]
        return (failures or 0) >= settings.LOCKOUT_ADDRESS_FAILURE_LIMIT


def is_locked_out(request) -> bool:
    """After ``authenticate(request, …)`` returned None: was it because of a lock-out? Axes marks
    the request it was given (for the API, DRF's request, which Django's middleware never sees)."""
    return bool(getattr(request, "axes_locked_out", False))
