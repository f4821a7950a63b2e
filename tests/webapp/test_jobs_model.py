"""Job state rules: exclusive claiming, finishing, cancelling, retrying, and the sweep of stale jobs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from webapp.models import Job
from workers.jobs import sweep_stale_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(owner):
    return Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=owner)


def test_only_one_claim_of_a_queued_job_succeeds(job):
    second_view = Job.objects.get(pk=job.pk)
    assert job.claim() is True
    assert second_view.claim() is False
    job.refresh_from_db()
    assert job.status == "running" and job.attempts == 1 and job.started_at is not None


def test_failing_records_the_error_and_finishes(job):
    job.claim()
    job.fail("the video is truncated")
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "the video is truncated" and job.finished_at


def test_a_finished_job_cannot_be_finished_again(job):
    job.claim()
    assert job.succeed({"ok": True}) is True
    assert job.fail("late failure") is False
    job.refresh_from_db()
    assert job.status == "succeeded" and job.error == ""


def test_cancelling_a_queued_job_finishes_it_at_once(job):
    job.request_cancel()
    assert job.status == "cancelled"
    assert job.claim() is False


def test_a_failed_job_can_be_retried(job):
    job.claim()
    job.fail("boom")
    assert job.prepare_retry() is True
    assert job.status == "queued" and job.error == "" and job.attempts == 0


def test_progress_is_clamped_and_ignored_once_finished(job):
    job.claim()
    job.save_progress(1.7, "Almost")
    job.refresh_from_db()
    assert job.progress == 1.0 and job.stage == "Almost"
    job.mark_cancelled()
    job.save_progress(0.2, "Too late")
    job.refresh_from_db()
    assert job.stage == "Cancelled"


def test_sweep_fails_a_job_whose_worker_went_silent_after_its_last_attempt(job, settings):
    job.claim()
    Job.objects.filter(pk=job.pk).update(
        attempts=job.max_attempts,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_S + 5),
    )
    assert sweep_stale_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.status == "failed" and "stopped responding" in job.error


def test_sweep_leaves_jobs_with_a_fresh_heartbeat_alone(job):
    job.claim()
    assert sweep_stale_jobs() == []
    job.refresh_from_db()
    assert job.status == "running"
