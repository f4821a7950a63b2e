"""Real processes for integration and browser tests: a Celery worker (and servers) on the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[1]


def delete_session_redis_keys() -> None:
    """Remove the broker and channel keys this test session wrote (they all carry its own prefix)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=1000):
        client.delete(key)


def test_database_url() -> str:
    """DATABASE_URL of the test database pytest-django created, for child processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    raise RuntimeError(f"integration tests do not support {connection.vendor}")


def child_environment(media_root: Path, extra_env: dict | None = None) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "MEDIA_ROOT": str(media_root),
        "REDIS_URL": settings.REDIS_URL,
        "OFFSIDE_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        # The tests' models are tiny (16x32 inputs): a second OpenMP thread only adds synchronisation, and
        # beside other busy processes its spinning made a 3 s training take 44 s (as the in-process suites,
        # which set torch to one thread too).
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        **(extra_env or {}),
    }


def wait_for_log_line(log_path: Path, process: subprocess.Popen, marker: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited at start:\n{log_path.read_text()}")
        if marker in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"process not ready after {timeout_s} s:\n{log_path.read_text()}")


def start_process(command: list[str], log_path: Path, env: dict, ready_marker: str) -> subprocess.Popen:
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_for_log_line(log_path, process, ready_marker)
    return process


def start_worker(log_path: Path, media_root: Path, extra_env: dict | None = None) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", "cpu,gpu", "--concurrency", "1",
        "--pool", "prefork", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        "--include", "tests.integration.tasks_for_tests", "--hostname", f"test-{time.time_ns()}@%h",
    ]  # fmt: skip
    return start_process(command, log_path, child_environment(media_root, extra_env), "ready.")


def start_daphne(log_path: Path, media_root: Path, port: int) -> subprocess.Popen:
    """Daphne serving the ASGI app (HTTP + WebSockets) on the test database, for browser tests."""
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"]
    return start_process(command, log_path, child_environment(media_root), "Listening on")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
