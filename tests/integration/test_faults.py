"""Faults: a worker process killed mid-job never leaves its job stuck in "running"."""

import os
import signal
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.integration.helpers import wait_for_job, wait_until
from webapp.models import Job
from workers.jobs import sweep_stale_jobs

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def start_killable_job(owner, send_task, max_attempts: int) -> Job:
    job = Job.objects.create(
        kind=Job.Kind.SYSTEM_CHECK,
        owner=owner,
        max_attempts=max_attempts,
        params={"steps": 20, "step_s": 0.2},
    )
    send_task("tests.integration.tasks_for_tests.killable_task", job.pk)
    return wait_until(
        lambda: Job.objects.filter(pk=job.pk, status="running", params__has_key="pid").first(),
        "the task's process id",
    )


def kill_and_wait_until_stale(job: Job) -> None:
    os.kill(job.params["pid"], signal.SIGKILL)
    # The heartbeat thread died with the process: date its last beat back instead of sleeping past it.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))


def test_a_sigkilled_job_is_retried_once_and_then_succeeds(worker, owner, send_task):
    job = start_killable_job(owner, send_task, max_attempts=2)
    kill_and_wait_until_stale(job)
    assert Job.objects.get(pk=job.pk).status == "running", "nothing but the sweep should notice"

    assert sweep_stale_jobs() == [job.pk]
    job = wait_for_job(job.pk)
    assert job.status == "succeeded"
    assert job.attempts == 2


def test_a_sigkilled_job_out_of_attempts_ends_failed_with_a_reason(worker, owner, send_task):
    job = start_killable_job(owner, send_task, max_attempts=1)
    kill_and_wait_until_stale(job)

    assert sweep_stale_jobs() == [job.pk]
    job = Job.objects.get(pk=job.pk)
    assert job.status == "failed"
    assert "stopped responding" in job.error


def test_the_worker_runs_the_sweep_periodically():
    schedule = settings.CELERY_BEAT_SCHEDULE["sweep-stale-jobs"]
    assert schedule["task"] == "workers.tasks.sweep_stale_jobs_task"
    assert schedule["schedule"] <= settings.JOB_STALE_AFTER_S
