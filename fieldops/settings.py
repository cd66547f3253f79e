"""Settings for fieldops: one module, everything from the environment.

Defaults are the embedded laptop setup: a SQLite file in the project, the
django-q2 ORM broker, DEBUG off. See docs/operations.md for production values.
"""

from __future__ import annotations

import importlib.util
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from fieldops.env import env_bool, env_int, env_list, env_str, env_timezone
from fieldops.versioning import API_VERSION

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FIELDOPS_VAR_DIR", str(BASE_DIR / "var")))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/.

    A generated key is safe for a laptop; production sets SECRET_KEY.
    """
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "fieldops",
    "turf",
    "canvass",
    "volunteer",
]

MIDDLEWARE = [
    "fieldops.request_logging.RequestLogMiddleware",
    "fieldops.versioning.ApiVersionMiddleware",  # X-Fieldops-Api-Version on every /api/ answer
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fieldops.headers.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# REQUEST_CPU_LOG=1: one more log line per request with the CPU time it took (fieldops/request_cpu.py,
# read by benchmarks/load_weekend.py). Off by default.
REQUEST_CPU_LOG = env_bool("REQUEST_CPU_LOG", False)
if REQUEST_CPU_LOG:
    MIDDLEWARE.insert(0, "fieldops.request_cpu.RequestCpuMiddleware")

# Content-Security-Policy on every page (django-csp; the volunteer app's page sets its own, stricter):
# scripts, style sheets, images, fonts and requests from this server only; no plugins, no framing,
# forms post here only. Inline style="" attributes are allowed (bar widths and colours on the
# dashboard, the SVG maps' fills): they cannot run script. docs/architecture.md, "Headers".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "fieldops.urls"
WSGI_APPLICATION = "fieldops.wsgi.application"
ASGI_APPLICATION = "fieldops.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fieldops" / "templates"],
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

# --- Database -------------------------------------------------------------
# SQLite is the embedded default. It has one writer at a time, so the web
# server and a django-q2 worker writing at once would raise "database is
# locked" without WAL mode, a busy timeout and IMMEDIATE write transactions.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fieldops.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL we understand: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent connections buy nothing on SQLite and keep file handles open.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (django-q2) ----------------------------------------
REDIS_URL = env_str("REDIS_URL")
Q_CLUSTER: dict = {
    "name": "fieldops",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 600),
    "retry": env_int("Q_TIMEOUT", 600) + 60,
    "max_attempts": 3,
    "catch_up": False,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Auth, i18n -------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The chapter's locale: how the organizer's pages write numbers and dates ("12,480" in en-us,
# "12 480" in es). A chapter runs its own instance, so the instance's locale is the organization's.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en-us").lower()
if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", LANGUAGE_CODE):
    raise ImproperlyConfigured(f"LANGUAGE_CODE {LANGUAGE_CODE!r} must look like en-us, es or es-mx.")
# The server's zone for logs and defaults; each organization has its own zone
# and every time shown to an organizer is converted to it.
TIME_ZONE = env_timezone("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# django-leaflet ships Leaflet and Leaflet.draw for the admin's turf map. Only its static files are
# used: as an app its admin module needs GDAL (django.contrib.gis), which fieldops does not use.
_LEAFLET = importlib.util.find_spec("leaflet")
if _LEAFLET is None or not _LEAFLET.submodule_search_locations:
    raise ImproperlyConfigured("django-leaflet is not installed: pip install -r requirements.txt")
STATICFILES_DIRS = [Path(next(iter(_LEAFLET.submodule_search_locations))) / "static"]
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)

# --- Security ---------------------------------------------------------------
# HTTPS=1 in production (behind TLS, docs/operations.md): redirects to https,
# secure cookies, HSTS, and trusts the proxy's X-Forwarded-Proto. A laptop
# runs plain HTTP on localhost, so it is off by default. With HTTPS=1, DEBUG
# off and a real SECRET_KEY, `manage.py check --deploy` is clean.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 30 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Cache -------------------------------------------------------------------
# The login throttle (fieldops/tokens.py) counts where every server process
# sees the same numbers (a per-process LocMemCache would multiply the limit by
# the number of workers): in the "throttle" cache, Redis, when REDIS_URL is
# set; else in the database table fieldops_throttlecounter. Django's database
# cache is not used for it: its incr is a read then a write, and concurrent
# logins slipped through. "default" stays Django's per-process memory cache.
# "shared" holds what every server process should compute once and share: the
# campaign dashboard's rendered body (canvass/stats/dashboard.py). In Redis when
# REDIS_URL is set, else the per-process memory cache (each process renders it).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHES["shared"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"}
if REDIS_URL:
    CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "fieldops-throttle",
    }
    CACHES["shared"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "fieldops-shared",
    }

# --- Phone logins (fieldops/tokens.py) ----------------------------------------
# A device token lives this many days from login (fixed, not sliding).
FIELDOPS_TOKEN_TTL_DAYS = env_int("FIELDOPS_TOKEN_TTL_DAYS", 30)
if FIELDOPS_TOKEN_TTL_DAYS < 1:
    raise ImproperlyConfigured("FIELDOPS_TOKEN_TTL_DAYS must be 1 or more.")
# Logins allowed per (username, IP) and per IP, in fixed windows.
FIELDOPS_LOGIN_RATES = {
    "user_ip": env_str("FIELDOPS_LOGIN_RATE", "10/15min"),
    "ip": env_str("FIELDOPS_LOGIN_RATE_PER_IP", "100/15min"),
}
# Password checks at once in one server process (a hash takes a slow phone's tenth of a second of
# CPU): the rest of the process's threads stay free for canvassers. An attempt that waits longer
# than FIELDOPS_LOGIN_WAIT_SECONDS for a turn is answered "busy" (fieldops/logins.py).
FIELDOPS_LOGIN_CONCURRENCY = env_int("FIELDOPS_LOGIN_CONCURRENCY", 1)
FIELDOPS_LOGIN_WAIT_SECONDS = env_int("FIELDOPS_LOGIN_WAIT_SECONDS", 3)
if FIELDOPS_LOGIN_CONCURRENCY < 1:
    raise ImproperlyConfigured("FIELDOPS_LOGIN_CONCURRENCY must be 1 or more.")
AUTHENTICATION_BACKENDS = ["fieldops.logins.ThrottledModelBackend"]
for _scope, _rate in FIELDOPS_LOGIN_RATES.items():
    if not re.fullmatch(r"\d+/\d*(s|sec|m|min|h|hour|d|day)", _rate):
        raise ImproperlyConfigured(f"Login rate {_rate!r} ({_scope}) must look like 10/15min, 5/m or 100/h.")

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate header from the first class, so
    # no credentials, or a bad, revoked or expired token, answer 401 (log in
    # again) and a user without the right 403. Session users (the browsable API,
    # organizers signed in to the admin) are authenticated as before, CSRF included.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fieldops.tokens.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "fieldops.api.pagination.DefaultPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "fieldops.api.errors.exception_handler",
    # DRF's JSON parser, refusing deep nesting with a 400 (fieldops/api/parsers.py); forms as DRF's.
    "DEFAULT_PARSER_CLASSES": [
        "fieldops.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Throttles key clients by IP: trust X-Forwarded-For only from this many
    # reverse proxies (0: REMOTE_ADDR; behind one nginx: 1). Left unset, DRF
    # would believe any X-Forwarded-For a client sends and the login throttle
    # could be dodged by inventing one.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "fieldops API",
    "DESCRIPTION": "Door-to-door canvassing: turfs, shifts, assignments and offline sync for phones.",
    "VERSION": API_VERSION,  # fieldops/versioning.py; docs/api.md, "Versioning"
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One name for a sign-up's states, shared by the shift's my_status and the sign-up's status.
    "ENUM_NAME_OVERRIDES": {"SignupStateEnum": "canvass.field.models.SIGNUP_STATES"},
    # The enum hook is drf-spectacular's default; ours documents the error body on every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "fieldops.api.schema.add_error_responses",
        "fieldops.api.schema.bound_request_times",
        "fieldops.api.schema.state_text_rules",
    ],
}

# --- Geocoding ----------------------------------------------------------------
# "local" matches against doors already loaded and never leaves the machine.
# "nominatim" uses OpenStreetMap's service (needs GEOCODER_USER_AGENT and
# respects its 1 request/second policy); see docs/importing.md.
GEOCODER = env_str("GEOCODER", "local")
GEOCODER_USER_AGENT = env_str("GEOCODER_USER_AGENT", "")
GEOCODER_API_KEY = env_str("GEOCODER_API_KEY", "")
GEOCODER_MIN_DELAY_SECONDS = float(env_str("GEOCODER_MIN_DELAY_SECONDS", "1.0") or "1.0")
GEOCODER_CACHE_PATH = Path(env_str("GEOCODER_CACHE_PATH", str(VAR_DIR / "geocode-cache.sqlite3")))

# LOG_FORMAT=json (the default) writes one JSON object a line, for a log
# collector; "text" is easier to read in a terminal (dev.py run uses it).
# Every request is logged once by fieldops.request_logging (no bodies: they hold voter data).
LOG_FORMAT = env_str("LOG_FORMAT", "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "fieldops.request_logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The request log replaces Django's own lines for 4xx/5xx (a 5xx traceback still comes from django.request).
        "django.request": {"level": "ERROR"},
        "fieldops.requests": {"level": env_str("REQUEST_LOG_LEVEL", "INFO")},
        "fieldops.request_cpu": {"level": "INFO"},  # only written with REQUEST_CPU_LOG=1
    },
}

# --- Stats (docs/stats.md) -------------------------------------------------------
# A push queues an aggregation task at most this often (seconds); pushes in between
# are picked up by the next task. 0: a task per burst, as soon as the last one started.
STATS_TASK_MIN_INTERVAL = env_int("STATS_TASK_MIN_INTERVAL", 10)
# … and not before this many times the last task's duration has passed after it (0: no rest):
# today's bucket is recomputed whole and grows with the day; this caps the worker's share of
# a core at 1 / (1 + factor) while phones push (canvass/stats/services.py: stats_queue_rest).
STATS_TASK_REST_FACTOR = env_int("STATS_TASK_REST_FACTOR", 3)
# The campaign dashboard's figures are rendered once per campaign for this long (0: every request).
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 10)
# An out-of-date body is re-rendered by the worker (not in a web request) when
# the worker can hand it to the web processes: when the "shared" cache is
# Redis. On the embedded default each process has its own memory cache, and
# the request renders, as before.
DASHBOARD_RENDER_IN_WORKER = bool(REDIS_URL)

# --- Phone sync (docs/sync-protocol.md) ------------------------------------------
SYNC_PUSH_MAX_ITEMS = env_int("SYNC_PUSH_MAX_ITEMS", 500)  # a bigger batch is refused whole (413)
SYNC_NOTES_MAX_CHARS = env_int("SYNC_NOTES_MAX_CHARS", 2000)
# A knock may be stamped at most this far after the phone's own sent_at.
SYNC_FUTURE_TOLERANCE_SECONDS = env_int("SYNC_FUTURE_TOLERANCE_SECONDS", 300)
# … and at most this long before it (a phone clock reset to 1970 moves both alike).
SYNC_MAX_AGE_DAYS = env_int("SYNC_MAX_AGE_DAYS", 365)
# Below this, the gap between the phone's sent_at and the server clock is
# network latency, not a wrong clock, and times are not corrected.
SYNC_SKEW_TOLERANCE_SECONDS = env_int("SYNC_SKEW_TOLERANCE_SECONDS", 120)
# far_from_door: the phone was farther than this from the door, beyond its stated accuracy.
SYNC_FAR_FROM_DOOR_M = env_int("SYNC_FAR_FROM_DOOR_M", 150)
# too_fast: from the previous knock's door to this one faster than this (centimetres per second,
# 300 = 3 m/s = 10.8 km/h: a brisk jog; walking is about 1.4 m/s) …
SYNC_MAX_SPEED_CM_PER_S = env_int("SYNC_MAX_SPEED_CM_PER_S", 300)
# … when the doors are at least this far apart (doors of one building share a location) …
SYNC_MIN_SPEED_DISTANCE_M = env_int("SYNC_MIN_SPEED_DISTANCE_M", 50)
# … and the previous knock is at most this much earlier (a longer gap is a break).
SYNC_SPEED_WINDOW_SECONDS = env_int("SYNC_SPEED_WINDOW_SECONDS", 3600)
SYNC_PULL_PAGE_SIZE = env_int("SYNC_PULL_PAGE_SIZE", 200)  # change entries (or snapshot doors) per pull page
# The change log keeps this many days (fieldops.changelog.sync_changes_prune, daily): a phone
# whose cursor is older starts over with a snapshot (docs/sync-protocol.md, "Pruning").
SYNC_LOG_KEEP_DAYS = env_int("SYNC_LOG_KEEP_DAYS", 30)
if SYNC_LOG_KEEP_DAYS < 1:
    raise ImproperlyConfigured("SYNC_LOG_KEEP_DAYS must be at least 1 (days of change log kept for phones).")
# Trust (docs/architecture.md): a knock counts when it is at a door of an assignment its canvasser
# held at the knock's time. An assignment is held from this many hours before it starts until this
# many hours after it ended (ended_at or ends_at), and a knock must also reach the server within
# that time after the end: a phone that syncs later has its knocks held for an organizer's review.
FIELDOPS_KNOCK_GRACE_HOURS = env_int("FIELDOPS_KNOCK_GRACE_HOURS", 24)
if FIELDOPS_KNOCK_GRACE_HOURS < 0:
    raise ImproperlyConfigured("FIELDOPS_KNOCK_GRACE_HOURS must be 0 or more.")

# The admin's turf map (docs/turfs.md, "The turf map"): background tiles from this URL template
# ({z}/{x}/{y}, optionally {s}), shown with this attribution; its host is allowed in img-src on
# that page only. Empty: no tiles (districts, turfs and doors still show). The default is
# OpenStreetMap's own tile servers, whose policy asks for the attribution and light use; a
# chapter with many organizers sets its own (or a paid provider's) URL.
FIELDOPS_MAP_TILES_URL = env_str("FIELDOPS_MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png").strip()
FIELDOPS_MAP_TILES_ATTRIBUTION = env_str(
    "FIELDOPS_MAP_TILES_ATTRIBUTION", "&copy; OpenStreetMap contributors" if FIELDOPS_MAP_TILES_URL else ""
).strip()
if FIELDOPS_MAP_TILES_URL and not (
    FIELDOPS_MAP_TILES_URL.startswith(("https://", "http://")) and "{z}" in FIELDOPS_MAP_TILES_URL
):
    raise ImproperlyConfigured(
        "FIELDOPS_MAP_TILES_URL must be an http(s) URL template with {z}, {x} and {y}, or empty for no tiles."
    )
