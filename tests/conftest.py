"""Personas and shared fixtures for every suite."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def isolated_media_root(settings, tmp_path_factory):
    """Each test writes media into its own folder; tests/integration and tests/browser override this to
    share one folder with the worker and server processes they start."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session", autouse=True)
def busy_loops():
    """``OFFSIDE_TEST_BUSY_LOOPS=N``: N processes spin for the whole session, to show the suites hold under
    load (they wait on state, never on the clock)."""
    count = int(os.environ.get("OFFSIDE_TEST_BUSY_LOOPS") or 0)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    yield loops
    for loop in loops:
        loop.kill()
        loop.wait()


@pytest.fixture(scope="session")
def live_media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("live-media")


@pytest.fixture(scope="session")
def clean_test_broker():
    """Broker keys carry this session's own prefix (see settings); remove them when the session ends."""
    from tests import live

    yield
    live.delete_session_redis_keys()


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, clean_test_broker, live_media_root, tmp_path_factory
):
    """One real Celery worker subprocess for the session, on the test database, Redis and media folder."""
    from tests import live

    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with django_db_blocker.unblock():
        process = live.start_worker(log_path, live_media_root)
    yield process
    live.stop_process(process)


@pytest.fixture
def worker(celery_worker_process):
    assert celery_worker_process.poll() is None, "the celery worker died during an earlier test"
    return celery_worker_process


@pytest.fixture
def send_task():
    from workers.celery import app as celery_app

    def send(task_name: str, job_id: int, queue: str = "cpu"):
        return celery_app.send_task(task_name, args=[job_id], queue=queue)

    return send


@pytest.fixture
def make_user(db):
    def make(username: str, staff: bool = False):
        return get_user_model().objects.create_user(
            username, password=PASSWORD, is_staff=staff, is_superuser=staff
        )

    return make


@pytest.fixture
def owner(make_user):
    return make_user("olivia")


@pytest.fixture
def other_user(make_user):
    return make_user("oscar")


@pytest.fixture
def staff(make_user):
    return make_user("stella", staff=True)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture(autouse=True)
def empty_cache(settings):
    """Counters in the shared cache (API rate limits) must not carry over from one test to the next."""
    import redis

    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)
