"""Offside settings, read from the environment with safe development defaults.

Production only sets variables (see README, "Configuration"); nothing here needs editing per deployment.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_header(name: str) -> tuple[str, str] | None:
    """A "HEADER,value" pair such as ``HTTP_X_FORWARDED_PROTO,https``; None when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    header, _, expected = value.partition(",")
    if not header.strip() or not expected.strip():
        raise ValueError(f"{name} must look like 'HTTP_X_FORWARDED_PROTO,https', got {value!r}")
    return header.strip(), expected.strip()


def development_secret_key(state_dir: Path) -> str:
    """A per-checkout random key, so a development install never runs on a key published in git. The file is
    readable by its owner only (0600), from the moment it exists; an older, wider one is narrowed."""
    key_file = state_dir / "secret_key"
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(key_file, 0o600)
    else:
        with os.fdopen(handle, "w") as out:
            out.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", False)
STATE_DIR = Path(env_str("OFFSIDE_STATE_DIR", str(BASE_DIR / ".offside")))
SECRET_KEY = os.environ.get("SECRET_KEY") or development_secret_key(STATE_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "webapp",
    # Management commands that run a job's work in their own process; webapp itself never imports workers.
    "workers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login except those marked @login_not_required (the login page itself).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"
WSGI_APPLICATION = "webapp.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A worker and the web server write at the same time: wait for the lock instead of failing at once,
    # and use WAL so readers never block the writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The test database is a file (worker processes started by the tests open it too), one per test run.
    DATABASES["default"]["TEST"] = {"NAME": str(STATE_DIR / f"test_db_{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True


def plotly_js_dir() -> Path:
    """plotly.js ships inside the plotly package: serve it from there, never from a CDN."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", plotly_js_dir())]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the finders when collectstatic has not run (development and tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media"))).resolve()
MEDIA_URL = "media/"
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 8 * 1024**3)
# Size of the pieces the browser sends in the resumable upload protocol (docs/UPLOAD.md).
UPLOAD_CHUNK_BYTES = env_int("UPLOAD_CHUNK_BYTES", 8 * 1024**2)
# Frames per second of video that training samples by default; category pages count frames at this rate.
OFFSIDE_TRAIN_FPS = float(env_str("OFFSIDE_TRAIN_FPS", "5"))
# The preview store of each video (scoring.previews), the only source of pictures in pages: this many frames
# per second of video, and never more than OFFSIDE_PREVIEW_MAX_FRAMES JPEGs (320 px wide, ~10 KB) per video.
OFFSIDE_PREVIEW_FPS = float(env_str("OFFSIDE_PREVIEW_FPS", str(OFFSIDE_TRAIN_FPS)))
OFFSIDE_PREVIEW_MAX_FRAMES = env_int("OFFSIDE_PREVIEW_MAX_FRAMES", 10_000)
# Rendered report pictures (frame, reconstruction, error map) kept per scoring run; the oldest go first.
OFFSIDE_REPORT_IMAGE_CACHE_FILES = env_int("OFFSIDE_REPORT_IMAGE_CACHE_FILES", 300)
# Unfinished uploads idle for this many days are deleted with their partial files (hourly beat task).
UPLOAD_EXPIRE_DAYS = env_int("UPLOAD_EXPIRE_DAYS", 7)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 16 * 1024**2)
# The largest chunk one PATCH may carry: larger ones are refused with 413 before their body is read, since the
# ASGI server holds a request's body in memory while Django reads it (the page sends UPLOAD_CHUNK_BYTES).
UPLOAD_MAX_CHUNK_BYTES = env_int("UPLOAD_MAX_CHUNK_BYTES", 32 * 1024**2)
# Decoding limits, checked from a file's headers before anything is decoded (scoring.decoding.DecodeLimits).
OFFSIDE_MAX_FRAME_PIXELS = env_int("OFFSIDE_MAX_FRAME_PIXELS", 7680 * 4320)
OFFSIDE_MAX_DURATION_S = env_int("OFFSIDE_MAX_DURATION_S", 12 * 3600)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024**2

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
if "PYTEST_VERSION" in os.environ and "OFFSIDE_KEY_PREFIX" not in os.environ:
    # Each test session (and the worker processes it starts, which inherit the variable) gets its own broker
    # keys and channel groups, so two test runs on one Redis never take each other's tasks or events.
    os.environ["OFFSIDE_KEY_PREFIX"] = f"test{os.getpid()}-"
# Prefix of every key Offside writes to Redis; lets several installations or test runs share one server.
REDIS_KEY_PREFIX = env_str("OFFSIDE_KEY_PREFIX", "")

# Shared by every web process (API rate limits count per user across all of them).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX + "cache",
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "webapp.channel_layer.ResilientRedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_KEY_PREFIX + "offside"},
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only when it finishes, and a worker that dies mid-task gives the message back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_QUEUES_NAMES = ["cpu", "gpu"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 6 * 3600),
    "global_keyprefix": REDIS_KEY_PREFIX,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# A running job writes a heartbeat this often; the sweep fails (or retries) jobs silent for longer than the
# timeout, so a killed worker never leaves a job stuck in "running".
JOB_HEARTBEAT_S = env_int("JOB_HEARTBEAT_S", 5)
JOB_STALE_AFTER_S = env_int("JOB_STALE_AFTER_S", 60)
CELERY_BEAT_SCHEDULE = {
    "purge-abandoned-uploads": {"task": "workers.tasks.purge_abandoned_uploads_task", "schedule": 3600.0},
    "sweep-stale-jobs": {
        "task": "workers.tasks.sweep_stale_jobs_task",
        "schedule": max(1.0, JOB_STALE_AFTER_S / 2),
    },
}

OFFSIDE_DEVICE = env_str("OFFSIDE_DEVICE", "")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
# No page of ours is meant to be framed, not even by ourselves.
X_FRAME_OPTIONS = env_str("X_FRAME_OPTIONS", "DENY")
if not DEBUG and env_bool("HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Behind a TLS-terminating proxy: the header (and value) by which it marks requests that came in over HTTPS.
SECURE_PROXY_SSL_HEADER = env_header("SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
