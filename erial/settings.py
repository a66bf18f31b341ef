"""Settings for e-Rial, read from the environment (see README, "Configuration").

Embedded defaults need no server: SQLite under ``var/`` and Celery tasks run eagerly on commit.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ERIAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-change-me"
if not DEBUG and SECRET_KEY.startswith("dev-only"):
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "djmoney",
    "erial",
    "ledger",
    "agents",
    "topups",
    "settlements",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files with DEBUG off, straight from the apps
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "erial.urls"
WSGI_APPLICATION = "erial.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "erial" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# PostgreSQL when DATABASE_URL is set; otherwise SQLite under var/. SQLite write transactions take the
# write lock at BEGIN (IMMEDIATE), so two writers never interleave read-check-write: for one office
# that is as safe as PostgreSQL's row locks.
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "erial.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Customers log in to the portal with their civil ID / CR number (see ledger/views.py).
LOGIN_URL = "/portal/login/"
LOGIN_REDIRECT_URL = "/portal/"

# Logins move money (a cashier's, a customer's): besides the length, no password close to the user's own
# names, none of the 20,000 most common, none of digits only.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time and language ----------------------------------------------------------------------------
# Stored in UTC, shown in Asia/Muscat; a business day is the Asia/Muscat calendar day.
TIME_ZONE = "Asia/Muscat"
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ar", "العربية")]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Served by WhiteNoise from the apps' static folders, so gunicorn alone serves a complete site; a deployment
# may still run `collectstatic` into STATIC_ROOT (then compressed files are served too).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root on every start

# --- Money ----------------------------------------------------------------------------------------
# The Omani rial has 3 decimal places (1 OMR = 1000 baisa). django-money defaults to 2: never here.
CURRENCIES = ("OMR",)
CURRENCY_CHOICES = [("OMR", "Omani rial")]
DEFAULT_CURRENCY = "OMR"
CURRENCY_DECIMAL_PLACES = 3
# The largest amount accepted at any edge for a single movement: larger is a typo, not a payment.
ERIAL_MAX_AMOUNT = Decimal(os.environ.get("ERIAL_MAX_AMOUNT", "1000000.000"))

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["erial.auth.TokenWithRolesAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["erial.api.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "erial.api.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "e-Rial API",
    "DESCRIPTION": "Prepaid e-wallet ledger of the municipality. Amounts are strings with 3 decimals (OMR); "
    "errors are application/problem+json with a stable `code`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from the app itself: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Every operation's refusals (problem+json) and the partners' callback (erial/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "erial.schema.problem_responses"],
}

# --- Online top-ups --------------------------------------------------------------------------------
# Shared secrets of the partner callbacks. Development defaults only work with DEBUG on.
ERIAL_BANK_SECRET = os.environ.get("ERIAL_BANK_SECRET") or ("dev-bank-secret" if DEBUG else "")
ERIAL_GATEWAY_SECRET = os.environ.get("ERIAL_GATEWAY_SECRET") or ("dev-gateway-secret" if DEBUG else "")
if not (ERIAL_BANK_SECRET and ERIAL_GATEWAY_SECRET):
    raise RuntimeError("ERIAL_BANK_SECRET and ERIAL_GATEWAY_SECRET must be set when DEBUG is off")
# Where customers are sent to pay; by default the local simulators (see topups/simulators.py).
ERIAL_BANK_PAY_URL = os.environ.get("ERIAL_BANK_PAY_URL", "/simulators/bank/pay/")
ERIAL_GATEWAY_PAY_URL = os.environ.get("ERIAL_GATEWAY_PAY_URL", "/simulators/card/pay/")
ERIAL_SIMULATORS = env_bool("ERIAL_SIMULATORS", DEBUG)
ERIAL_ONLINE_TOPUP_EXPIRY_MINUTES = int(os.environ.get("ERIAL_ONLINE_TOPUP_EXPIRY_MINUTES", "30"))
# Days a portal activation code (handed out when a wallet is opened at an office) stays usable.
ERIAL_ACTIVATION_DAYS = int(os.environ.get("ERIAL_ACTIVATION_DAYS", "30"))

# --- Receipts and reports -------------------------------------------------------------------------
# The issuer printed on receipts and statements and named on the public verification page.
ERIAL_ISSUER_NAME_EN = os.environ.get("ERIAL_ISSUER_NAME_EN", "Muscat Municipality")
ERIAL_ISSUER_NAME_AR = os.environ.get("ERIAL_ISSUER_NAME_AR", "بلدية مسقط")
# Finds a receipt of any kind by its number (the counter's search page; agents may not import topups).
ERIAL_RECEIPT_LOOKUP = "reports.receipt_lookup.receipt"
# The finance dashboard flags an external agent once it has used this share of its credit limit
# (an agent without credit: once its float is spent).
ERIAL_FLOAT_NEAR_LIMIT_SHARE = Decimal(os.environ.get("ERIAL_FLOAT_NEAR_LIMIT_SHARE", "0.800"))

# --- Reconciliation -------------------------------------------------------------------------------
# Days a ledger entry may wait for its statement line before it is flagged (late bookings).
ERIAL_RECONCILIATION_GRACE_DAYS = int(os.environ.get("ERIAL_RECONCILIATION_GRACE_DAYS", "0"))
# Days the card gateway may take to pay a batch into the bank before it is flagged.
ERIAL_BATCH_PAYOUT_DAYS = int(os.environ.get("ERIAL_BATCH_PAYOUT_DAYS", "2"))
# Who owns a new reconciliation exception, per source: a finance user's username. Unset, or naming someone who
# is not an active finance user (logged as a warning): the exception opens unassigned, for finance to assign.
ERIAL_EXCEPTION_OWNERS = {
    "bank": os.environ.get("ERIAL_BANK_EXCEPTION_OWNER", "").strip(),
    "gateway": os.environ.get("ERIAL_GATEWAY_EXCEPTION_OWNER", "").strip(),
}
# Where the nightly job picks up statement files: <inbox>/bank/ and <inbox>/gateway/.
ERIAL_INBOX_DIR = Path(os.environ.get("ERIAL_INBOX_DIR", VAR_DIR / "inbox"))

# --- Celery ---------------------------------------------------------------------------------------
# No broker configured: tasks run eagerly (callers enqueue them on commit), so no server is needed.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "").strip() or "memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
# Schedules live in the database (django-celery-beat: finance can see and change them in the admin);
# these entries are installed there by the beat scheduler.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Import the night's statements, reconcile yesterday and the days they book, expire stale top-ups, seal, report.
    "nightly-reconciliation": {
        "task": "settlements.tasks.nightly_reconciliation",
        "schedule": crontab(hour=1, minute=0),
    },
    "expire-stale-online-topups": {"task": "topups.tasks.expire_stale_topups", "schedule": 300.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
