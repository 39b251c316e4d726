"""Domain errors every app may raise from its services, mapped once to HTTP by the API and pages;
and the 500 handler, which answers a lost database with a clean 503 instead of a server error."""

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token


class Conflict(Exception):
    """The thing changed under the caller (someone acted first, or it is in the wrong state): 409."""


RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException | None) -> bool:
    """PostgreSQL unreachable, restarting or ending our session (``pg_ctl restart``, a failover): the
    request may succeed if tried again, so it is a 503, not a bug. Django wraps the driver's errors,
    except on a few paths that reach the driver directly (closing a server-side cursor during
    ``.iterator()``, as a form's choices do), so the driver's own classes count too."""
    driver = connection.Database
    return isinstance(exc, (OperationalError, InterfaceError, driver.OperationalError, driver.InterfaceError))


def database_unavailable(request) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a short page for the rest. The page is rendered without
    the request's context, whose processors would ask the database for the user."""
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": "The database is unavailable; try again in a few seconds."}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@requires_csrf_token
def server_error(request, template_name="500.html"):
    """``handler500``. Django calls it for an exception raised anywhere in the request — a view, or a
    middleware such as the session lookup behind ``request.user``, which a middleware's
    ``process_exception`` would never see — and it still logs the exception with its traceback."""
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable(request)
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Server error: the request failed on our side and was logged."}, status=500)
    return defaults.server_error(request, template_name)
