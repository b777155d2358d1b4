"""Settings shared by every deployment.

Everything that differs between the embedded default, tests and production comes from the
environment (``DATABASE_URL``, ``CELERY_BROKER_URL``, ``MEDSAM_*``) or from the thin modules
``local``, ``test`` and ``production`` beside this one.
"""
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

REPO_ROOT = Path(__file__).resolve().parents[3]
BACKEND_DIR = REPO_ROOT / "backend"
VAR_DIR = Path(os.environ.get("MEDSAM_VAR_DIR", REPO_ROOT / "var"))

# What this application writes holds patient data (database, media, backups, logs, the broker's
# messages) or keys: never world-readable. Every process (web, workers, commands) reads these
# settings first, so the mask applies to all of them: files 0640, folders 0750 at most.
# core.file_modes tightens what an older installation left more open.
FILE_MODE_UMASK = 0o027
os.umask(FILE_MODE_UMASK)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc served from this installation's static files, not from a CDN: the
    # API docs work on a hospital network without internet access.
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "audit",
    "imaging",
    "prompts",
    "annotations",
    "review",
    "exports",
    "learning",
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the inactivity logoff, so its automatic sign-out entry carries the address.
    "audit.context.AuditContextMiddleware",
    "accounts.middleware.InactivityLogoutMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BACKEND_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker process read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassValidator"},
]

# Automatic logoff (21 CFR 11 / HIPAA 164.312(a)(2)(iii)): a session idle for this long ends.
SESSION_IDLE_TIMEOUT_SECONDS = env_int("MEDSAM_SESSION_IDLE_TIMEOUT", 15 * 60)
SESSION_COOKIE_AGE = env_int("MEDSAM_SESSION_MAX_AGE", 12 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Sign-in throttling (accounts.throttle): this many failed passwords for one account within
# the window lock that account only, for the base time, doubling with each further lock up to
# the maximum; the doubling is forgotten after a correct password or a day without failures.
LOGIN_FAILURE_LIMIT = env_int("MEDSAM_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("MEDSAM_LOGIN_FAILURE_WINDOW", 15 * 60)
LOGIN_LOCKOUT_BASE_SECONDS = env_int("MEDSAM_LOGIN_LOCKOUT_BASE", 5 * 60)
LOGIN_LOCKOUT_MAX_SECONDS = env_int("MEDSAM_LOGIN_LOCKOUT_MAX", 60 * 60)
LOGIN_LOCKOUT_RESET_SECONDS = env_int("MEDSAM_LOGIN_LOCKOUT_RESET", 24 * 3600)
# An address with this many failures in the window may no longer retry names that failed
# from it or that are unknown; correct passwords for other accounts still sign in.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("MEDSAM_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
# Proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed: the
# client is the right-most hop that is not one of them (accounts.addresses). Empty: the
# client is REMOTE_ADDR and X-Forwarded-For is ignored. Behind the documented nginx on the
# same host: MEDSAM_TRUSTED_PROXIES=127.0.0.1,::1
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("MEDSAM_TRUSTED_PROXIES", "").split(",")
                   if p.strip()]

# Separation of duties: pairs of roles one person may not hold together (accounts.roles).
# MEDSAM_ROLE_CONFLICTS="site_admin:auditor,prompt_admin:auditor" replaces the default.
ROLE_CONFLICTS = [
    tuple(pair.split(":", 1))
    for pair in os.environ.get("MEDSAM_ROLE_CONFLICTS", "site_admin:auditor").split(",")
    if ":" in pair
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    d for d in [BACKEND_DIR / "static", REPO_ROOT / "frontend" / "dist"] if d.exists()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Files answered at the site's root (favicon.ico), by WhiteNoise in every deployment.
WHITENOISE_ROOT = BACKEND_DIR / "webroot"
# Media (uploaded images): a folder, shared by every machine that runs web or worker processes
# (NFS, CephFS, ...), or any S3-compatible store through django-storages.
MEDIA_STORAGE = os.environ.get("MEDSAM_MEDIA_STORAGE", "filesystem")
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("MEDSAM_S3_BUCKET", ""),
            "endpoint_url": os.environ.get("MEDSAM_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MEDSAM_S3_REGION") or None,
            "access_key": os.environ.get("MEDSAM_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("MEDSAM_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("MEDSAM_S3_PREFIX", ""),
            "addressing_style": os.environ.get("MEDSAM_S3_ADDRESSING_STYLE") or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
    if not STORAGES["default"]["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("MEDSAM_MEDIA_STORAGE=s3 needs MEDSAM_S3_BUCKET")
elif MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured("MEDSAM_MEDIA_STORAGE must be 'filesystem' or 's3'")
MEDIA_ROOT = Path(os.environ.get("MEDSAM_MEDIA_ROOT", VAR_DIR / "media"))
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 5000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MedSAM-2 Clinical Annotation API",
    "DESCRIPTION": (
        "Segmentation of organs and lesions with MedSAM-2 through an approved prompt library; "
        "every AI result is confirmed by a clinician with an electronic signature."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Operations are tagged (grouped in the docs) by the app after /api/v1/: accounts,
    # annotations, prompts... rather than all under "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # /api/docs/ and /api/redoc/ load their scripts, styles and icon from drf-spectacular-sidecar
    # (same origin), so they render offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    from core.broker import folder_options

    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **folder_options(BROKER_DIR),
        # The folder is polled; a short interval keeps a job's start latency low.
        "polling_interval": 0.1,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A job running longer than this is redelivered to another worker; model jobs on CPU can
    # take minutes, so keep it well above the slowest expected job.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_HEARTBEAT_SECONDS = env_int("MEDSAM_WORKER_HEARTBEAT_SECONDS", 10)
# A worker whose last heartbeat is older than this is reported as gone by /healthz.
CELERY_WORKER_STALE_SECONDS = env_int("MEDSAM_WORKER_STALE_SECONDS", 45)

# Inference jobs: attempts before a job fails for good; how long a queued job's message may
# go untaken before the recovery sweep publishes it again; how often workers sweep.
JOB_MAX_ATTEMPTS = env_int("MEDSAM_JOB_MAX_ATTEMPTS", 3)
JOB_REPUBLISH_AFTER_SECONDS = env_int("MEDSAM_JOB_REPUBLISH_AFTER", 120)
# A result whose agreement check is still pending after this long lost its worker mid-check.
AGREEMENT_REPUBLISH_AFTER_SECONDS = env_int("MEDSAM_AGREEMENT_REPUBLISH_AFTER", 60)
# Load the engines that approved prompt versions pin when a worker starts (not on first use).
PRELOAD_ENGINES = env_bool("MEDSAM_PRELOAD_ENGINES", True)
# A prefetch of slice embeddings not started within this many seconds is dropped.
PREFETCH_EXPIRES_SECONDS = env_int("MEDSAM_PREFETCH_EXPIRES", 20)
JOB_SWEEP_SECONDS = env_int("MEDSAM_JOB_SWEEP_SECONDS", 15)

# --- Audit trail (backend/audit, docs/security.md) ------------------------------------------
# The HMAC key of the audit hash chain and of its anchors. Kept outside the database, so
# someone who can write the database cannot recompute a rewritten chain. From the environment
# or a file (a mounted secret); the embedded default keeps one in var/audit_key.
AUDIT_CHAIN_KEY = os.environ.get("MEDSAM_AUDIT_KEY", "")
if not AUDIT_CHAIN_KEY and os.environ.get("MEDSAM_AUDIT_KEY_FILE"):
    AUDIT_CHAIN_KEY = Path(os.environ["MEDSAM_AUDIT_KEY_FILE"]).read_text().strip()
# Append-only file outside the database where the chain head (count + hash, signed) is written
# every AUDIT_ANCHOR_EVERY entries and at every check; audit_verify compares the trail with it.
AUDIT_ANCHOR_PATH = Path(os.environ.get("MEDSAM_AUDIT_ANCHOR_FILE", VAR_DIR / "audit-anchors.log"))
AUDIT_ANCHOR_EVERY = env_int("MEDSAM_AUDIT_ANCHOR_EVERY", 100)

# --- Operations (backend/ops) -----------------------------------------------------------
# "json": one JSON object per line (ops.logs), patient data filtered out of every line.
LOG_FORMAT = os.environ.get("MEDSAM_LOG_FORMAT", "plain")
# One log line per request, naming the route pattern (for deployments without gunicorn's log).
ACCESS_LOG = env_bool("MEDSAM_ACCESS_LOG", False)
# With a token set, /metrics answers only scrapes that send it as a bearer token.
METRICS_TOKEN = os.environ.get("MEDSAM_METRICS_TOKEN", "")
# A worker's /livez, /readyz, /metrics and the viewer's live preview (annotations.preview);
# 0 turns them off, "auto" takes any free port (the embedded default and the tests).
_worker_port = os.environ.get("MEDSAM_WORKER_HTTP_PORT", "0").strip().lower()
WORKER_HTTP_PORT = None if _worker_port in ("", "0") else (
    0 if _worker_port == "auto" else env_int("MEDSAM_WORKER_HTTP_PORT", 0))
WORKER_HTTP_HOST = os.environ.get("MEDSAM_WORKER_HTTP_HOST", "127.0.0.1")
# The host the web tier reaches this worker's HTTP endpoint at (a pod IP, a container name);
# default: the bound host, or this machine's host name when bound to every interface.
WORKER_HTTP_ADVERTISE = os.environ.get("MEDSAM_WORKER_HTTP_ADVERTISE", "")
# How long the web tier waits for a worker's preview before answering 503 (seconds).
PREVIEW_TIMEOUT_SECONDS = float(os.environ.get("MEDSAM_PREVIEW_TIMEOUT") or 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "ops.redaction.RedactingFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        **({"json": {"()": "ops.logs.JsonFormatter"}} if LOG_FORMAT == "json" else {}),
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("MEDSAM_LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

# A viewer's frame reads of one series by one user within this many seconds make one chained
# "series opened" entry; every read is in the read log (audit.reads, docs/security.md).
AUDIT_READ_WINDOW_SECONDS = env_int("MEDSAM_AUDIT_READ_WINDOW_SECONDS", 900)
