"""Local services the app needs at start-up: a Redis that answers, and a first staff user."""

import os
import secrets
import shutil
import subprocess
import time
from urllib.parse import urlparse

import redis
from django.contrib.auth import get_user_model


class ServiceUnavailable(RuntimeError):
    """A service is missing and cannot be started from here; the message says what to do."""


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def install_redis_with_apt() -> None:
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True)


def start_local_redis(url: str) -> None:
    parts = urlparse(url)
    port = str(parts.port or 6379)
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", "",
         "--appendonly", "no"],
        check=True,
    )  # fmt: skip


def ensure_redis(url: str, wait_s: float = 10.0) -> str:
    """Make sure Redis answers at ``url``: start a local server, installing it with apt if we are root."""
    if redis_answers(url):
        return "Redis answers at " + url
    host = urlparse(url).hostname or "127.0.0.1"
    if host not in {"127.0.0.1", "localhost"}:
        raise ServiceUnavailable(f"No Redis answers at {url}. Start it there, or point REDIS_URL elsewhere.")
    if shutil.which("redis-server") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            install_redis_with_apt()
        else:
            raise ServiceUnavailable(
                "No Redis answers and redis-server is not installed. Install it "
                "(sudo apt-get install redis-server) or set REDIS_URL to a running Redis."
            )
    start_local_redis(url)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if redis_answers(url):
            return "Started redis-server for " + url
        time.sleep(0.2)
    raise ServiceUnavailable(f"redis-server was started but does not answer at {url}.")


def create_first_admin() -> tuple[str, str] | None:
    """On an empty database create staff user ``admin`` with a random password; returns the login once."""
    User = get_user_model()
    if User.objects.exists():
        return None
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser("admin", email="", password=password)
    return "admin", password
