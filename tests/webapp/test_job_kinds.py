"""The table of job kinds and the seam: one way to start a job, and its row ends with it however it ends."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.training_fixtures import TINY_CONFIG
from tests.webapp.videos_helpers import make_row
from webapp.job_kinds import JOB_KINDS, task_modules
from webapp.models import Category, Job, ScoringRun, TrainedModel
from workers.jobs import sweep_stale_jobs

pytestmark = pytest.mark.django_db


def test_every_kind_of_job_has_a_task_queue_and_time_limits():
    assert set(JOB_KINDS) >= set(Job.Kind.values)
    for kind in Job.Kind.values:
        spec = JOB_KINDS[kind]
        assert spec.queue in ("cpu", "gpu") and 0 < spec.soft_s < spec.hard_s
        assert spec.task.rsplit(".", 1)[0] in task_modules()


def test_the_worker_registers_every_kinds_task_by_name():
    from workers.celery import app

    app.loader.import_default_modules()
    assert {JOB_KINDS[kind].task for kind in Job.Kind.values} <= set(app.tasks)


def test_the_web_side_never_imports_the_workers():
    code = (
        "import django, sys; django.setup(); "
        "import webapp.urls, webapp.asgi, webapp.admin, webapp.models; "
        "print(sorted(m for m in sys.modules if m == 'workers' or m.startswith('workers.')))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "webapp.settings", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    # ``workers`` is an installed app for its management commands: Django loads its empty package and its
    # AppConfig, nothing of the worker's code (tasks, jobs, work functions).
    assert out.stdout.strip() == "['workers', 'workers.apps']"


def test_start_creates_the_job_on_its_kinds_queue_and_sends_it_after_commit(
    owner, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("webapp.job_queue.send_jobs", sent.append)
    video = make_row(owner, "match", status="uploaded")
    with django_capture_on_commit_callbacks() as callbacks:
        job = Job.start(
            Job.Kind.PROBE_VIDEO, owner, title="Probe", params={"video_id": video.pk}, video=video
        )
    assert (job.status, job.queue, job.stage) == ("queued", "cpu", "Queued")
    assert sent == [] and len(callbacks) == 1
    callbacks[0]()
    assert sent == [[job.pk]]


@pytest.fixture
def video_job(owner):
    video = make_row(owner, "match", status="uploaded")
    job = Job.start(Job.Kind.PROBE_VIDEO, owner, params={"video_id": video.pk}, video=video)
    return video, job


def test_claiming_a_probe_marks_its_video_processing(video_job):
    video, job = video_job
    assert job.claim()
    video.refresh_from_db()
    assert video.status == "processing"


def test_the_sweep_fails_the_video_with_its_job(video_job, settings):
    video, job = video_job
    job.claim()
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_S + 5)
    Job.objects.filter(pk=job.pk).update(attempts=job.max_attempts, heartbeat_at=stale)

    assert sweep_stale_jobs() == [job.pk]
    video.refresh_from_db()
    assert video.status == "failed" and "stopped responding" in video.error
    assert video.probed_at is not None


def test_the_sweep_fails_a_job_past_its_hard_time_limit_without_retrying(video_job):
    video, job = video_job
    job.claim()
    long_ago = timezone.now() - timedelta(seconds=job.spec.hard_s + 60)
    Job.objects.filter(pk=job.pk).update(started_at=long_ago, heartbeat_at=long_ago)

    assert sweep_stale_jobs() == [job.pk]
    job.refresh_from_db()
    video.refresh_from_db()
    assert (
        job.status == "failed" and job.error == "It ran longer than its time limit (15 min) and was stopped."
    )
    assert video.status == "failed" and video.error == job.error


def test_retrying_a_failed_probe_puts_its_video_back_in_the_queue(video_job):
    video, job = video_job
    job.claim()
    job.fail("the decoder crashed")
    assert job.prepare_retry()
    video.refresh_from_db()
    assert (video.status, video.error) == ("uploaded", "")


def test_a_late_failure_never_overwrites_a_finished_row(video_job):
    video, job = video_job
    job.claim()
    type(video).objects.filter(pk=video.pk).update(status="ready")
    job.fail("lost after saving")
    video.refresh_from_db()
    assert video.status == "ready" and video.error == ""


def test_cancelling_a_queued_training_cancels_its_version_with_the_reason(owner, monkeypatch):
    monkeypatch.setattr(Job, "enqueue", lambda self, after=(): None)
    category = Category.objects.create(owner=owner, name="soccer")
    model = TrainedModel.start_training(category, owner, TINY_CONFIG)

    model.job.request_cancel()

    model.refresh_from_db()
    assert model.job.status == "cancelled"
    assert (model.status, model.error) == ("cancelled", "Training was cancelled.")


def test_a_failed_scoring_job_fails_its_run_with_the_reason(owner):
    video = make_row(owner, "match")
    run = ScoringRun.objects.create(video=video, owner=owner)
    job = Job.start(Job.Kind.SCORE, owner, params={"run_id": run.pk}, video=video, enqueue=False)
    job.claim()
    run.refresh_from_db()
    assert run.status == "running"

    job.fail("ValueError: bad", row_reason="Scoring failed unexpectedly (ValueError: bad).")

    run.refresh_from_db()
    assert run.status == "failed" and run.error == "Scoring failed unexpectedly (ValueError: bad)."
    assert run.finished_at is not None


def test_the_migration_fails_rows_left_behind_by_jobs_that_ended_without_them(owner):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("webapp.migrations.0006_issue14_rows_follow_their_jobs")
    video = make_row(owner, "stuck", status="processing")
    job = Job.objects.create(kind="probe_video", owner=owner, video=video, status="failed", error="lost")
    category = Category.objects.create(owner=owner, name="soccer")
    model = TrainedModel.objects.create(category=category, version=1, status="training", job=job)

    migration.fail_rows_of_ended_jobs(apps, None)

    video.refresh_from_db()
    model.refresh_from_db()
    assert (video.status, video.error) == ("failed", "lost")
    assert (model.status, model.error) == ("failed", "lost")
