"""Baladiya settings: one module, every knob read from the environment with a safe default.

Every variable is documented in README.md ("Configuration"). Secrets never have a usable
default outside DEBUG: a production node refuses to start without them.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("BALADIYA_DEBUG", False)
# A demo (`make run`): demo staff and data, sandboxes, and the demo's centers keep sending
# heartbeats.
DEMO_NODE = DEBUG or env_bool("BALADIYA_DEMO", False)
VAR_DIR = Path(env_str("BALADIYA_VAR_DIR", str(PROJECT_DIR / "var"))).resolve()

_secret = os.environ.get("BALADIYA_SECRET_KEY")
if not _secret:
    if not (DEMO_NODE or env_bool("BALADIYA_TESTING", False)):
        raise ImproperlyConfigured(
            "BALADIYA_SECRET_KEY is required (set BALADIYA_DEBUG=1 or BALADIYA_DEMO=1 for a demo)."
        )
    _secret = "insecure-demo-key-do-not-use-in-production-" + "x" * 20
SECRET_KEY: str = _secret

# `central` or `center:C03`. The electronic center (C00) is the central node's portal.
BALADIYA_NODE = env_str("BALADIYA_NODE", "central")
if BALADIYA_NODE != "central" and not BALADIYA_NODE.startswith("center:"):
    raise ImproperlyConfigured("BALADIYA_NODE must be 'central' or 'center:<CODE>'")
NODE_CENTER_CODE = "C00" if BALADIYA_NODE == "central" else BALADIYA_NODE.split(":", 1)[1]

PUBLIC_BASE_URL = env_str("BALADIYA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
KEY_DIR = Path(env_str("BALADIYA_KEY_DIR", str(VAR_DIR / "keys"))).resolve()
MEDIA_ROOT = Path(env_str("BALADIYA_MEDIA_DIR", str(VAR_DIR / "media"))).resolve()
MEDIA_URL = "/media/"

ALLOWED_HOSTS = env_list(
    "BALADIYA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("BALADIYA_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "baladiya.core.task_queue.BackgroundTasksConfig",  # django_tasks_db, with a translated name
    "baladiya.core",
    "baladiya.accounts",
    "baladiya.centers",
    "baladiya.catalog",
    "baladiya.applications",
    "baladiya.payments",
    "baladiya.documents",
    "baladiya.delivery",
    "baladiya.notifications",
    "baladiya.portal",
    "baladiya.api",
    "baladiya.sync",
    "baladiya.water",
    "ninja",  # its bundled Swagger UI files: the API docs load nothing from outside
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Compresses pages (portal pages must stay under 60 KB transferred); Django's version adds
    # random padding against BREACH. First, so that it sees the final response body.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "baladiya.core.middleware.DomainErrorMiddleware",
    "baladiya.sync.middleware.CentralOnlyMiddleware",
]

ROOT_URLCONF = "baladiya.urls"
WSGI_APPLICATION = "baladiya.wsgi.application"

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
                "django.template.context_processors.i18n",
                "baladiya.core.context.node",
            ],
        },
    },
]


def _prepare_threshold() -> int | None:
    """After how many executions psycopg prepares a statement (None: never)."""
    if os.environ.get("BALADIYA_DB_PREPARE_THRESHOLD", "").strip().lower() == "off":
        return None
    return env_int("BALADIYA_DB_PREPARE_THRESHOLD", 5)


def database_from_env() -> dict[str, object]:
    """DATABASE_URL selects PostgreSQL; otherwise SQLite tuned so a power cut loses nothing."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parsed = urlparse(url)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "baladiya",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("BALADIYA_DB_CONN_MAX_AGE", 60),
            # Parameters bound by the server, and statements prepared once per connection
            # after a few uses: PostgreSQL then parses and plans the same few dozen
            # statements of every application once, not on every execution (decision 0015).
            # BALADIYA_DB_PREPARE_THRESHOLD=off behind a pooler that cannot keep them.
            "OPTIONS": {"server_side_binding": True, "prepare_threshold": _prepare_threshold()},
            "TEST": {"NAME": os.environ.get("BALADIYA_TEST_DB_NAME", "test_baladiya")},
        }
    if url and not url.startswith("sqlite:"):
        raise ImproperlyConfigured("DATABASE_URL must be postgresql://… or sqlite:///path")
    path = url.removeprefix("sqlite:///") if url else str(VAR_DIR / "baladiya.sqlite3")
    return {
        "ENGINE": "baladiya.core.sqlite",  # Django's, with a writer queue (core/sqlite)
        "NAME": path,
        # WAL + synchronous=FULL: a committed receipt survives a power cut (DESIGN §4a).
        # IMMEDIATE: concurrent writers queue instead of failing with "database is locked".
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000"
            ),
        },
        # In memory, as Django makes a SQLite test database (pytest-django knows the engine
        # only by Django's name, and would otherwise make files named after NAME).
        "TEST": {"NAME": ":memory:"},
    }


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
LOGIN_RATE_LIMIT = env_int("BALADIYA_LOGIN_RATE_LIMIT", 5)  # failures per window
# Reverse proxies in front of the web server that append to X-Forwarded-For (0: none, so the
# header is ignored and cannot be forged to dodge the login rate limit).
TRUSTED_PROXY_COUNT = env_int("BALADIYA_TRUSTED_PROXY_COUNT", 0)
LOGIN_RATE_WINDOW_SECONDS = env_int("BALADIYA_LOGIN_RATE_WINDOW", 900)
# Public API bearer tokens (api/): how long one stays valid after it is issued.
API_STAFF_TOKEN_SECONDS = env_int("BALADIYA_API_STAFF_TOKEN_SECONDS", 8 * 3600)
API_CITIZEN_TOKEN_SECONDS = env_int("BALADIYA_API_CITIZEN_TOKEN_SECONDS", 30 * 24 * 3600)

# Citizens log in with a one-time code by SMS (accounts/otp.py). Limits count within the window.
OTP_CODE_TTL_SECONDS = env_int("BALADIYA_OTP_TTL", 300)
OTP_MAX_ATTEMPTS = env_int("BALADIYA_OTP_MAX_ATTEMPTS", 5)  # wrong tries per code
OTP_RATE_WINDOW_SECONDS = env_int("BALADIYA_OTP_RATE_WINDOW", 3600)
OTP_PHONE_LIMIT = env_int("BALADIYA_OTP_PHONE_LIMIT", 5)  # codes sent to one number
OTP_IP_PHONE_FAILURE_LIMIT = env_int("BALADIYA_OTP_IP_PHONE_FAILURES", 10)  # number + address
# Flood guards per address only: high, as a carrier's NAT puts many citizens behind one address.
OTP_IP_LIMIT = env_int("BALADIYA_OTP_IP_LIMIT", 100)  # codes requested from one address
OTP_IP_FAILURE_LIMIT = env_int("BALADIYA_OTP_IP_FAILURES", 200)  # wrong codes from one address
# Daily caps per number, whatever the addresses: codes sent, and wrong codes before the number
# is locked for code checks until the oldest counted one is older than the daily window.
OTP_DAILY_WINDOW_SECONDS = env_int("BALADIYA_OTP_DAILY_WINDOW", 24 * 3600)
OTP_PHONE_DAILY_LIMIT = env_int("BALADIYA_OTP_PHONE_DAILY_LIMIT", 10)
OTP_PHONE_FAILURE_LIMIT = env_int("BALADIYA_OTP_PHONE_FAILURES", 15)
# Status lookup without login (reference + mobile): failed lookups per address, per reference
# and per mobile number typed.
TRACK_RATE_LIMIT = env_int("BALADIYA_TRACK_RATE_LIMIT", 10)
TRACK_RATE_WINDOW_SECONDS = env_int("BALADIYA_TRACK_RATE_WINDOW", 900)

LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Damascus"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project-wide stylesheet and icons
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even before collectstatic
STORAGES = {
    "default": {"BACKEND": "baladiya.core.storage.DurableFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("BALADIYA_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = env_bool("BALADIYA_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

UPLOAD_MAX_BYTES = env_int("BALADIYA_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024

# Outside systems (each behind an interface; the sandboxes behave like the real thing).
# Sandboxes are the default only in debug, demo and test runs: a production node names its
# real adapters (or opts into a sandbox explicitly); `manage check` says what is missing.
_SANDBOX_BY_DEFAULT = DEMO_NODE or env_bool("BALADIYA_TESTING", False)
SMS_SENDER = env_str(
    "BALADIYA_SMS_SENDER",
    "baladiya.notifications.senders.SandboxSmsSender" if _SANDBOX_BY_DEFAULT else "",
)
SMS_SANDBOX_FAILURE_RATE = float(env_str("BALADIYA_SMS_SANDBOX_FAILURE_RATE", "0"))
SMS_SANDBOX_DOWN_NUMBERS = env_list("BALADIYA_SMS_SANDBOX_DOWN_NUMBERS", [])
OUTBOX_MAX_ATTEMPTS = env_int("BALADIYA_OUTBOX_MAX_ATTEMPTS", 10)
# PostgreSQL wakes the pump when a message is queued (LISTEN/NOTIFY); SQLite is polled.
OUTBOX_POLL_SECONDS = float(env_str("BALADIYA_OUTBOX_POLL_SECONDS", "0.5"))
WEBHOOK_TRANSPORT = "baladiya.notifications.senders.post_webhook"
WEBHOOK_TIMEOUT_SECONDS = env_int("BALADIYA_WEBHOOK_TIMEOUT_SECONDS", 10)
# Center watch (centers/status.py, central node): a center silent this long is offline (an
# outage opens); one that stays offline this long sends one SMS alert to these numbers.
CENTER_OFFLINE_AFTER_SECONDS = env_int("BALADIYA_CENTER_OFFLINE_AFTER_SECONDS", 180)
CENTER_ALERT_AFTER_SECONDS = env_int("BALADIYA_CENTER_ALERT_AFTER_SECONDS", 1800)
CENTER_ALERT_PHONES = env_list("BALADIYA_CENTER_ALERT_PHONES", [])

# Online payment (payments/gateways, docs/decisions/0006-payment-gateways.md). The sandbox
# gateway (a test page that "pays" anything) is offered by default only in debug, demo and
# test runs; a production node lists its real channels explicitly.
PAYMENT_GATEWAYS = env_list("BALADIYA_PAYMENT_GATEWAYS", ["sandbox"] if _SANDBOX_BY_DEFAULT else [])
PAYMENT_GATEWAY_DEFAULT = env_str(
    "BALADIYA_PAYMENT_GATEWAY_DEFAULT", PAYMENT_GATEWAYS[0] if PAYMENT_GATEWAYS else ""
)
# Webhook secret per channel: BALADIYA_GATEWAY_<NAME>_SECRET (comma-separated to rotate).
PAYMENT_GATEWAY_SECRETS = {
    name: env_str(
        f"BALADIYA_GATEWAY_{name.upper()}_SECRET",
        "insecure-sandbox-secret" if name == "sandbox" and _SANDBOX_BY_DEFAULT else "",
    )
    for name in PAYMENT_GATEWAYS
}
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("BALADIYA_PAYMENT_WEBHOOK_TOLERANCE", 900)
PAYMENT_INTENT_TTL_SECONDS = env_int("BALADIYA_PAYMENT_INTENT_TTL", 1800)
PAYMENT_RETURN_HOSTS = env_list("BALADIYA_PAYMENT_RETURN_HOSTS", [])
SANDBOX_GATEWAY_SESSION_SECONDS = env_int("BALADIYA_SANDBOX_GATEWAY_SESSION", 3600)
SANDBOX_GATEWAY_DUPLICATE_WEBHOOKS = env_bool("BALADIYA_SANDBOX_GATEWAY_DUPLICATES", False)
SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS = env_int("BALADIYA_SANDBOX_GATEWAY_DELAY", 0)
# The postal service (delivery/post): adapter, callback secret (empty: derived from SECRET_KEY),
# where the sandbox sends its callbacks (empty: this node's endpoint), share it returns.
POSTAL_SERVICE = env_str(
    "BALADIYA_POSTAL_SERVICE",
    "baladiya.delivery.post.sandbox.SandboxPostalService" if _SANDBOX_BY_DEFAULT else "",
)
POST_CALLBACK_SECRET = env_str("BALADIYA_POST_CALLBACK_SECRET", "")
POST_CALLBACK_URL = env_str("BALADIYA_POST_CALLBACK_URL", "")
POST_SANDBOX_RETURN_RATE = float(env_str("BALADIYA_POST_SANDBOX_RETURN_RATE", "0.1"))

TASKS = {
    "default": {
        "BACKEND": env_str("BALADIYA_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "baladiya_cache",
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("BALADIYA_LOG_LEVEL", "WARNING")},
}

# ---------------------------------------------------------------- center nodes and sync (0009)
# A center node: the central node's address (set by `baladiya center enroll`, or here).
SYNC_CENTRAL_URL = env_str("BALADIYA_CENTRAL_URL", "")
# Seconds between sync rounds while the link works (failures back off up to SYNC_MAX_BACKOFF).
SYNC_INTERVAL_SECONDS = float(env_str("BALADIYA_SYNC_INTERVAL_SECONDS", "15"))
SYNC_MAX_BACKOFF_SECONDS = float(env_str("BALADIYA_SYNC_MAX_BACKOFF_SECONDS", "300"))
SYNC_BATCH_SIZE = env_int("BALADIYA_SYNC_BATCH_SIZE", 2000)
# ...and at most about this much JSON per batch (before compression): documents' PDFs make a
# day's work megabytes, and one batch must cross a slow link within the timeout.
SYNC_BATCH_BYTES = env_int("BALADIYA_SYNC_BATCH_BYTES", 8_000_000)
SYNC_TIMEOUT_SECONDS = float(env_str("BALADIYA_SYNC_TIMEOUT_SECONDS", "60"))
# Water establishment exchange (issue 5): which connector ("sandbox" until the establishment's
# own is written), where the sandbox keeps its inbox/outbox, and the largest file taken on the
# web page (bigger files go through `baladiya water import`).
WATER_ESTABLISHMENT = env_str("BALADIYA_WATER_ESTABLISHMENT", "sandbox")
WATER_EXCHANGE_DIR = Path(env_str("BALADIYA_WATER_EXCHANGE_DIR", str(VAR_DIR / "water-exchange")))
WATER_IMPORT_MAX_BYTES = env_int("BALADIYA_WATER_IMPORT_MAX_BYTES", 32 * 1024 * 1024)
# Central: how long a process may keep its list of enrolled centers (a first pull waits
# this long after enrolment).
SYNC_ENROLLED_CACHE_SECONDS = float(
    env_str(
        "BALADIYA_SYNC_ENROLLED_CACHE_SECONDS", "0" if env_bool("BALADIYA_TESTING", False) else "5"
    )
)
# A center node: a file the UPS/solar controller writes the power source into
# (grid / solar / generator / battery); without it the center's configured source is reported.
POWER_SOURCE_FILE = env_str("BALADIYA_POWER_SOURCE_FILE", "")
