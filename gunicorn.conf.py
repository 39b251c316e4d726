"""gunicorn's settings for mops, read from the working directory (the image's /app, a checkout's
root) whenever gunicorn starts there; the command line may still override any of them.

``timeout``: a sync worker silent for this long is killed mid-request and the client gets
gunicorn's HTML 500. mops stops its own requests earlier (``REQUEST_TIME_BUDGET_SECONDS``, 30 s by
default: mops.middleware.RequestTimeBudgetMiddleware) and answers a clean 503 with Retry-After,
JSON under /api/; so a worker refuses to start unless that budget is below this timeout.
"""

from mops.env import env_int

workers = env_int("GUNICORN_WORKERS", 3, min_value=1)
worker_class = "sync"  # the time budget needs one request at a time in the worker's main thread
timeout = env_int("GUNICORN_TIMEOUT", 60, min_value=2)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30, min_value=1)


def post_worker_init(worker):
    """The app is loaded (settings known): refuse to serve with a budget gunicorn would cut short,
    and import the URL conf (every view, with numpy and scipy behind some) now rather than in the
    first request, whose budget it would use up."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — evaluated for its imports

    budget = settings.REQUEST_TIME_BUDGET_SECONDS  # 0: no budget (gunicorn's timeout alone)
    if budget >= worker.cfg.timeout:
        raise ImproperlyConfigured(
            f"REQUEST_TIME_BUDGET_SECONDS ({budget}) must be below gunicorn's timeout "
            f"({worker.cfg.timeout} s, GUNICORN_TIMEOUT): past that timeout gunicorn kills the worker and "
            "answers its own HTML 500."
        )
