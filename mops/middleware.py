"""The project's middleware: log-in required, the Content-Security-Policy, JSON errors under /api/
and the request time budget."""

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader

from mops.errors import RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Anonymous users see only the login page and the health check (views marked
    ``@login_not_required``). The JSON API is left to DRF, which answers 401 instead of
    redirecting to the login page; its default permission is IsAuthenticated."""

    api_prefixes = ("/api/v1/", "/api/schema/")

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(self.api_prefixes):
            return None
        # Open views before ``request.user`` (Django asks the other way round): the health check must not
        # need the session store, or a client sending a session cookie gets the 503 page, not the report.
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class ContentSecurityPolicyMiddleware:
    """Every response says where its scripts, styles and images may come from: our own origin only.
    Pages carry no inline scripts (figures are JSON drawn by a static script), so ``script-src
    'self'`` holds; plotly.js sets inline styles on the charts it draws, hence ``'unsafe-inline'``
    for styles only. A response that sets its own policy (attachments: ``sandbox``) keeps it."""

    POLICY = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


# --- every error under /api/ is JSON -----------------------------------------------------------


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class ApiJsonErrorsMiddleware:
    """The last word on errors under ``/api/``: any error answer that is not JSON — Django's own
    405 of a plain view, a renderer's YAML or HTML error, a 413 from anything in between — becomes
    ``{"detail": "<reason>"}`` with the same status and headers (Allow, Retry-After, WWW-Authenticate).
    The handlers (``mops.views.bad_request``, ``not_found``, ``forbidden``, ``mops.errors.server_error``)
    already answer JSON with the precise reason; this catches whatever reaches a client another way.
    Second in MIDDLEWARE, so that it sees the answers of every middleware below it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not is_api(request) or "json" in response.get("Content-Type", ""):
            return response
        data = getattr(response, "data", None)  # a DRF answer drawn by another renderer keeps its reason
        detail = str(data["detail"]) if isinstance(data, dict) and "detail" in data else f"{response.reason_phrase}."
        replaced = JsonResponse({"detail": detail}, status=response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "Content-Security-Policy"):
            if header in response:
                replaced[header] = response[header]
        return replaced


# --- the request time budget -------------------------------------------------------------------


class RequestTimeout(BaseException):
    """The request ran past ``REQUEST_TIME_BUDGET_SECONDS``. A BaseException, like KeyboardInterrupt,
    so that no ``except Exception`` on the way can swallow it."""


@dataclass
class _Request:
    active: bool = True  # inside the middleware's try: the alarm may interrupt it
    fired: bool = False  # the budget ran out


class _Watchdog:
    """One daemon thread per worker process that calls the armed callback when the current
    request's deadline passes (a thread, because the main thread may be blocked in a database call
    where no Python signal handler runs). Started lazily, so a forked worker starts its own."""

    def __init__(self):
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._callback = None
        self._pid: int | None = None

    def arm(self, seconds: float, callback) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="request-time-budget", daemon=True).start()
            self._deadline, self._callback = time.monotonic() + seconds, callback
            self._cond.notify()

    def disarm(self) -> None:
        # Under the lock: once this returns the callback has either run to its end or never will.
        with self._cond:
            self._deadline = self._callback = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._deadline is None or self._deadline > time.monotonic():
                    self._cond.wait(None if self._deadline is None else self._deadline - time.monotonic())
                callback, self._deadline, self._callback = self._callback, None, None
                try:
                    callback()
                except Exception:  # never let one failure end the watchdog of every later request
                    log.exception("The request time budget's watchdog failed.")


_watchdog = _Watchdog()
_current: _Request | None = None
IMPORT_RETRY_SECONDS = 0.05


def _on_alarm(signum, frame):
    if _current is None or not _current.active or not _current.fired:
        return
    # Never inside an import: a module cut off half-way stays broken for every later request of
    # the worker. Try again a moment later, once the import is done.
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            signal.setitimer(signal.ITIMER_REAL, IMPORT_RETRY_SECONDS)
            return
        frame = frame.f_back
    raise RequestTimeout


class RequestTimeBudgetMiddleware:
    """Stops a request that runs past ``REQUEST_TIME_BUDGET_SECONDS`` (shorter than gunicorn's
    ``timeout``, which would kill the worker mid-request and answer gunicorn's HTML 500) and answers
    503 with Retry-After: JSON under ``/api/``, a short page elsewhere.

    When the budget runs out a watchdog thread cancels the database statement in flight (psycopg2's
    ``cancel()``, sqlite3's ``interrupt()``: both may be called from another thread) and sends the
    main thread SIGALRM, whose handler raises ``RequestTimeout`` as soon as Python code runs; the
    transaction in progress is rolled back on the way out and the connection closed. Sync workers
    only (gunicorn's default, one request at a time in the main thread); requests served in other
    threads (``runserver``) run without a budget. First in MIDDLEWARE, so the whole request counts."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.budget = settings.REQUEST_TIME_BUDGET_SECONDS
        self.enabled = bool(self.budget) and threading.current_thread() is threading.main_thread()
        if self.enabled and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None, _on_alarm):
            signal.signal(signal.SIGALRM, _on_alarm)
        else:
            self.enabled = False  # someone else owns SIGALRM (a test timeout plugin): leave it to them

    def __call__(self, request):
        global _current
        if not self.enabled or threading.current_thread() is not threading.main_thread():
            return self.get_response(request)
        state = _current = _Request()
        database = connections[DEFAULT_DB_ALIAS]
        main = threading.main_thread().ident

        def expire():  # in the watchdog thread
            state.fired = True
            _interrupt(database)
            signal.pthread_kill(main, signal.SIGALRM)

        response = None
        try:
            try:
                _watchdog.arm(self.budget, expire)
                response = self.get_response(request)
            finally:
                state.active = False
                _watchdog.disarm()
                signal.setitimer(signal.ITIMER_REAL, 0)  # a retry left by the alarm during an import
        except RequestTimeout:
            pass
        finally:
            _current = None
        if not state.fired:
            return response
        log.error(
            "%s %s stopped: it ran past the request time budget of %s s.", request.method, request.path, self.budget
        )
        if not database.in_atomic_block:
            database.close()  # interrupted mid-statement: start the next request on a fresh connection
        return timed_out(request, self.budget)


def _interrupt(database) -> None:
    raw = database.connection
    for method in ("cancel", "interrupt"):  # psycopg2, sqlite3
        if raw is not None and hasattr(raw, method):
            try:
                getattr(raw, method)()
            except Exception:  # the connection went away meanwhile: nothing to cancel
                log.warning("Could not cancel the statement of a timed-out request.", exc_info=True)
            return


def timed_out(request, budget: float) -> HttpResponse:
    """503 with Retry-After for a request stopped by the time budget: JSON under /api/, a page else."""
    message = (
        f"The request took longer than this server's limit of {budget:g} seconds and was stopped. "
        "Try again in a moment, or ask for less at once (a smaller page, period or file)."
    )
    if is_api(request):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503_timeout.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
