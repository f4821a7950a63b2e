"""The progress path end to end: real worker on Redis -> Job row + channels-redis group -> WebSocket."""

import pytest
from asgiref.sync import sync_to_async

from tests.integration.helpers import (
    STATE_WAIT_S,
    job_socket,
    receive_until_finished,
    session_cookie_for,
    wait_for_job,
)
from webapp.job_queue import send_jobs
from webapp.models import Job

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("closes_thread_connections"),
]


def create_job(user, kind=Job.Kind.SYSTEM_CHECK, **params) -> Job:
    return Job.objects.create(kind=kind, owner=user, title="test job", params=params)


async def test_progress_events_reach_the_owner_in_order_and_end_with_success(worker, owner):
    job = await sync_to_async(create_job)(owner, pause_s=0.3)
    socket = job_socket(f"/ws/jobs/{job.pk}/", await sync_to_async(session_cookie_for)(owner))
    connected, _ = await socket.connect()
    assert connected
    snapshot = await socket.receive_json_from(timeout=STATE_WAIT_S)
    assert snapshot["status"] == "queued"

    await sync_to_async(send_jobs)([job.pk])
    events = await receive_until_finished(socket)
    await socket.disconnect()

    statuses = [event["status"] for event in events]
    assert statuses[0] == "running" and statuses[-1] == "succeeded"
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress), "progress went backwards"
    assert progress[-1] == 1.0
    assert any("media storage" in event["stage"] for event in events)
    assert set(events[-1]["result"]["checks"]) == {"Database", "Media storage", "Compute device"}
    job = await sync_to_async(Job.objects.get)(pk=job.pk)
    assert job.status == "succeeded" and job.finished_at is not None and job.attempts == 1


async def test_the_job_list_socket_streams_only_the_users_own_jobs(worker, owner, other_user):
    own_job = await sync_to_async(create_job)(owner, pause_s=0.05)
    foreign_job = await sync_to_async(create_job)(other_user, pause_s=0.05)
    socket = job_socket("/ws/jobs/", await sync_to_async(session_cookie_for)(owner))
    assert (await socket.connect())[0]
    await sync_to_async(send_jobs)([foreign_job.pk])
    await sync_to_async(wait_for_job)(foreign_job.pk)
    await sync_to_async(send_jobs)([own_job.pk])
    events = await receive_until_finished(socket)
    await socket.disconnect()
    assert {event["id"] for event in events} == {own_job.pk}


async def test_an_outsider_cannot_subscribe_to_someone_elses_job(owner, other_user):
    job = await sync_to_async(create_job)(owner)
    socket = job_socket(f"/ws/jobs/{job.pk}/", await sync_to_async(session_cookie_for)(other_user))
    connected, code = await socket.connect()
    assert not connected and code == 4403


async def test_an_anonymous_visitor_cannot_subscribe(owner):
    job = await sync_to_async(create_job)(owner)
    socket = job_socket(f"/ws/jobs/{job.pk}/", cookie=None)
    connected, code = await socket.connect()
    assert not connected and code == 4401


async def test_staff_may_subscribe_to_any_job(owner, staff):
    job = await sync_to_async(create_job)(owner)
    socket = job_socket(f"/ws/jobs/{job.pk}/", await sync_to_async(session_cookie_for)(staff))
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=STATE_WAIT_S))["id"] == job.pk
    await socket.disconnect()


def test_a_task_that_raises_leaves_its_job_failed_with_the_error(worker, owner, send_task):
    job = create_job(owner)
    send_task("tests.integration.tasks_for_tests.explode_task", job.pk)
    job = wait_for_job(job.pk)
    assert job.status == "failed"
    assert "RuntimeError: the model file is unreadable" in job.error
    assert job.finished_at is not None


def test_cancelling_a_running_job_stops_it(worker, owner, send_task):
    job = create_job(owner, steps=100, step_s=0.1)
    send_task("tests.integration.tasks_for_tests.slow_task", job.pk)
    wait_for_job(job.pk, statuses=("running",))
    job.request_cancel()
    job = wait_for_job(job.pk)
    assert job.status == "cancelled"
    assert job.progress < 1.0


def test_a_job_is_never_run_twice(worker, owner, send_task):
    job = create_job(owner, steps=3, step_s=0.05)
    send_task("tests.integration.tasks_for_tests.slow_task", job.pk)
    send_task("tests.integration.tasks_for_tests.slow_task", job.pk)
    job = wait_for_job(job.pk)
    assert job.status == "succeeded" and job.attempts == 1
