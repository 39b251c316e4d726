"""Settings for mops, read from the environment (see README "Configuration").

The embedded run (``make run``) needs no variables: SQLite in ``var/``, tasks run eagerly,
a generated secret key kept in ``var/``. Production must set ``SECRET_KEY`` and
``ALLOWED_HOSTS``; nothing secret has a default.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from mops.env import env_bool, env_currency, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MOPS_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)


def _secret_key():
    key = env_str("SECRET_KEY", None)
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Embedded run only: generate once and keep it so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    # The areas bottom-up, as imports point (ARCHITECTURE.md): each app's demo data and roles are
    # applied in this order, so an app finds what the apps below it provide.
    "mops.apps.CoreConfig",
    "workflows",
    "planning",
    "campaigns",
    "budgets",
    "metrics",
]

MIDDLEWARE = [
    # First: the whole request counts against its time budget (REQUEST_TIME_BUDGET_SECONDS).
    "mops.middleware.RequestTimeBudgetMiddleware",
    # Second: whatever answers an error under /api/ (a middleware, a plain view), the client gets JSON.
    "mops.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "mops.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mops.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a locked-out log-in into the lock-out page (AXES_LOCKOUT_TEMPLATE).
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username + address before any password is checked. It needs the
    # request: authenticate(request, username=..., password=...); in tests use force_login.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "mops.urls"
WSGI_APPLICATION = "mops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mops.context_processors.mops",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL (postgres://user:pass@host:5432/name) or an SQLite file for the embedded run.
_database_url = env_str("DATABASE_URL", None) or f"sqlite:///{VAR_DIR / 'mops.sqlite3'}"
if _database_url.startswith("sqlite:///"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": environ.Env.db_url_config(_database_url)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, min_value=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Login lock-out (django-axes) -----------------------------------------------------------
# Failed log-ins (the login page, the admin's, the API token endpoint) are counted per username
# AND client address together: 5 failures lock that pair for 15 minutes. Neither one alone: by
# username, anyone could lock a colleague out by typing her name with wrong passwords; by address,
# one person behind an office's NAT would lock out the whole office. Trying a few passwords on many
# usernames from one address meets a second, wider brake (mops.lockout.LockoutHandler):
# LOCKOUT_ADDRESS_FAILURE_LIMIT failures from one address within the 15 minutes, whatever the
# usernames, lock that address for every username. Ops admins see and delete locks ("Access
# attempts") in Django's admin; `manage.py axes_reset` clears them all.
AXES_HANDLER = "mops.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
LOCKOUT_ADDRESS_FAILURE_LIMIT = 30
AXES_COOLOFF_TIME = timedelta(minutes=15)
# A lock ends 15 minutes after the failure that set it: attempts while locked (refused, even with
# the right password) neither count nor extend it, so "try again in 15 minutes" is true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful log-in clears that username + address's failures: typos spread over a day never
# add up to a lock.
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Successful log-ins are not logged by axes (a table growing forever; User.last_login keeps the latest).
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner on every manage.py command; failures and lock-outs are still logged.
AXES_VERBOSE = False
# The client address is REMOTE_ADDR. Behind reverse proxies set TRUSTED_PROXY_COUNT to how many
# there are: the address is then read from X-Forwarded-For as the outermost proxy recorded it
# (mops.lockout.client_ip). Never without it: anyone can send that header, and a new address with
# every guess would defeat the count.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, min_value=0, max_value=10)
AXES_CLIENT_IP_CALLABLE = "mops.lockout.client_ip"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
# static/vendor/ (Bootstrap, plotly.js) is filled by `make assets` from npm and the plotly wheel.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- Business settings ----------------------------------------------------------------------
BASE_CURRENCY = env_currency("BASE_CURRENCY", "USD")
FISCAL_YEAR_START_MONTH = env_int("FISCAL_YEAR_START_MONTH", 1, min_value=1, max_value=12)
# One precision for every money column (STYLE.md §5): 18 digits, 2 decimals.
MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2
# The one bound for a single amount anywhere money is written (forms, API, bulk, imports, budget
# entries), in its own currency and in base currency: below one trillion (mops.money.MONEY_MAX).
# Sums (rollup cells and rollups, report totals) use MONEY_SUM_MAX_DIGITS: 28 integer digits hold
# 10^16 rows at the bound, so no sum of allowed amounts can overflow.
MONEY_MAX = "999999999999.99"
MONEY_SUM_MAX_DIGITS = 30
MOPS_VERSION = __import__("mops").__version__
# A web request running longer than this (seconds) is stopped and answered 503 with Retry-After
# (JSON under /api/): mops.middleware.RequestTimeBudgetMiddleware. Keep it below gunicorn's
# ``timeout`` (gunicorn.conf.py, GUNICORN_TIMEOUT, 60 s), which kills the worker and answers its own
# HTML 500; a worker refuses to start otherwise. 0 turns the budget off.
REQUEST_TIME_BUDGET_SECONDS = env_int("REQUEST_TIME_BUDGET_SECONDS", 30, min_value=0, max_value=3600)
# The largest spreadsheet or ad-platform export an import accepts (bytes).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50 * 1024 * 1024, min_value=1)
# A workbook is read by its real cells, never by the size its sheet declares: a cell past these rows
# or columns refuses the file (a 2 KB sheet may declare A1:XFD1048576). CSV rows obey them too.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 1_000_000, min_value=10)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 500, min_value=10)
# What an XLSX may unpack to (all its parts): past this a workbook is a ZIP bomb, refused unread.
IMPORT_MAX_UNPACKED_BYTES = env_int("IMPORT_MAX_UNPACKED_BYTES", 500 * 1024 * 1024, min_value=1024)
# Files that read to more than this (a workbook: its unpacked sheet) are checked by the Celery
# worker, not in the web request; the upload answers at once with the batch "checking".
IMPORT_CHECK_IN_REQUEST_BYTES = env_int("IMPORT_CHECK_IN_REQUEST_BYTES", 2 * 1024 * 1024, min_value=0)
# The largest file (brief, creative, contract, report) a campaign accepts as an attachment (bytes).
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, min_value=1)
# Request bodies that are not files (forms, JSON API calls) are read into memory whole: Django
# answers 400 past this size, before parsing. The largest legitimate one is a bulk fact call of
# 1,000 rows (campaigns.api.common.BULK_MAX_ITEMS) of at most a few KB each.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, min_value=64 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # the widest form is an import's campaign mapping, one field per unknown name
DATA_UPLOAD_MAX_NUMBER_FILES = 10  # every upload form takes one file
# Uploaded files past this size are streamed to a temporary file, never held in memory whole; the
# IMPORT_MAX_BYTES and ATTACHMENT_MAX_BYTES are checked while the file is read in chunks, and a
# declared size over them is refused without reading it at all.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Stored files are data, never programs: no execute bit, not readable by other users.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, min_value=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous API call a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "mops.api_base.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "mops.api_base.SearchFilter",  # names the parameter in its 400
    ],
    "DEFAULT_SCHEMA_CLASS": "mops.api_schema.AutoSchema",  # documents the error answers too
    "EXCEPTION_HANDLER": "mops.api_base.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mops API",
    "DESCRIPTION": "Marketing operations management: plans, budgets, campaigns, workflows and metrics.",
    "VERSION": MOPS_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a ``status`` (or a ``kind``); each choice set gets its own named enum.
    "ENUM_NAME_OVERRIDES": {
        "StepKindEnum": "workflows.models.StepKind",
        "RoleEnum": "mops.roles.Role",  # a step's role and its fallback role
        "WorkflowTemplateStatusEnum": "workflows.models.TemplateStatus",
        "WorkflowInstanceStatusEnum": "workflows.models.InstanceStatus",
        "StepStatusEnum": "workflows.models.StepStatus",
        "RequestStatusEnum": "workflows.models.RequestStatus",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "ImportStatusEnum": "campaigns.models.ImportStatus",
        "FactSourceEnum": "campaigns.models.FactSource",
        "AttachmentKindEnum": "campaigns.models.AttachmentKind",
        "BudgetRequestStatusEnum": "budgets.models.RequestStatus",
        "CommitmentStatusEnum": "budgets.models.CommitmentStatus",
        "FactWriteOutcomeEnum": ["created", "updated", "unchanged"],  # campaigns.facts.api
        "ResponseModelStatusEnum": "metrics.scenarios.models.FitStatus",
        "ResponseModelOutcomeEnum": "metrics.scenarios.models.ModelOutcome",
        "ScenarioStatusEnum": "metrics.scenarios.models.ScenarioStatus",
        "ScenarioKindEnum": "metrics.scenarios.models.ScenarioKind",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery ---------------------------------------------------------------------------------
# No REDIS_URL: tasks run eagerly in-process (embedded run). With it: a real broker and workers.
REDIS_URL = env_str("REDIS_URL", None)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = REDIS_URL is None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600, min_value=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540, min_value=1)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Periodic tasks. Entries are added by the areas that need them (e.g. the nightly rollup rebuild).
CELERY_BEAT_SCHEDULE = {
    # Overdue steps: marked and reminded (at most once a day each); hourly so a step is caught soon.
    "workflows-sla-sweep": {"task": "workflows.tasks.sla_sweep", "schedule": 3600.0},
    # Rollups: catch marks whose refresh never ran (broker down), and the nightly check-and-rebuild.
    "metrics-refresh-sweep": {"task": "metrics.tasks.refresh_rollups", "schedule": 60.0},
    # Imports queued longer than IMPORT_REQUEUE_AFTER_SECONDS: their task was lost (Redis restarted
    # without persistence); sent again, which is safe (a run of a done or running batch does nothing).
    "campaigns-import-requeue": {"task": "campaigns.tasks.requeue_imports", "schedule": 300.0},
    "metrics-nightly-rebuild": {"task": "metrics.tasks.rebuild_rollups", "schedule": crontab(hour=2, minute=30)},
    # The headline numbers by e-mail to the CMO and finance, Monday morning.
    "metrics-weekly-report": {
        "task": "metrics.tasks.send_weekly_report",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
}
IMPORT_REQUEUE_AFTER_SECONDS = env_int("IMPORT_REQUEUE_AFTER_SECONDS", 900, min_value=60)
# Milliseconds between a change and its rollup refresh; changes within it share one task run.
METRICS_REFRESH_DELAY_MS = env_int("METRICS_REFRESH_DELAY_MS", 500, min_value=0, max_value=60_000)

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, min_value=1, max_value=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "mops <mops@localhost>")
# Absolute links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Eager tasks would log every success inline with the page request; keep their failures only.
    "loggers": {"celery.app.trace": {"level": "INFO" if REDIS_URL else "WARNING"}},
}
