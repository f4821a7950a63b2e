"""Helpers for integration tests: WebSocket clients logged in as a user, and waiting for jobs.

Tests wait on state (a job's status, a row, an event), never for a fixed time. ``STATE_WAIT_S`` only ends a
test that would otherwise hang (under pytest-timeout's 300 s); it is no expectation of how fast anything runs,
so a loaded machine is slower, never failed.
"""

import asyncio
import time

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from webapp.asgi import application
from webapp.models import Job


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def job_socket(path: str, cookie: str | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


STATE_WAIT_S = 240
STATE_WAIT_MS = STATE_WAIT_S * 1000  # the same, for Playwright's waits


async def receive_until_finished(
    socket: WebsocketCommunicator, timeout_s: float = STATE_WAIT_S
) -> list[dict]:
    """Collect events until one reports a finished job."""
    events = []
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, f"job did not finish; events so far: {events}"
        event = await socket.receive_json_from(timeout=remaining)
        events.append(event)
        if event["status"] in ("succeeded", "failed", "cancelled"):
            return events


def wait_for_job(job_id: int, statuses=("succeeded", "failed", "cancelled")) -> Job:
    return wait_until(
        lambda: Job.objects.filter(pk=job_id, status__in=statuses).first(), f"job {job_id} to be {statuses}"
    )


def wait_until(probe, what: str, timeout_s: float = STATE_WAIT_S, interval_s: float = 0.05):
    """Poll ``probe`` (a read of database state) until it returns something truthy, and return that. The
    time-out only ends a test that would otherwise hang; it is no expectation of how fast anything runs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(interval_s)
    raise AssertionError(f"still waiting for {what} after {timeout_s} s")
