"""One job seam: however a job ends (its worker killed twice, cancelled, out of time), the row it worked on
ends with it and says why, and the user's way back (Re-process, Retry) works."""

import os
import re
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.integration import tasks_for_tests  # noqa: F401 - registers the held kinds in this process too
from tests.integration.helpers import wait_for_job, wait_until
from tests.synthetic import write_video
from tests.training_fixtures import TINY_CONFIG, category_with_clip, ready_video
from webapp.job_kinds import MODEL_ROW
from webapp.models import Job, TrainedModel, Video
from workers.jobs import sweep_stale_jobs

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WORKER_LOST = "stopped responding (killed or out of memory) after 2 attempt(s)"


def kill_mid_job(job: Job, previous_pid: int | None = None) -> int:
    """SIGKILL the pool process holding ``job`` (a held kind) and make its heartbeat stale at once."""
    job = wait_until(
        lambda: (
            Job.objects.filter(pk=job.pk, status="running").exclude(params__pid=previous_pid).first()
            if previous_pid
            else Job.objects.filter(pk=job.pk, status="running", params__has_key="pid").first()
        ),
        f"job {job.pk} running in a pool process",
    )
    os.kill(job.params["pid"], signal.SIGKILL)
    # The heartbeat thread died with the process: date its last beat back instead of waiting it out.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    return job.params["pid"]


def kill_twice(job: Job) -> Job:
    first = kill_mid_job(job)
    assert sweep_stale_jobs() == [job.pk]
    assert Job.objects.get(pk=job.pk).status in ("queued", "running"), "the first loss is retried"
    kill_mid_job(job, previous_pid=first)
    assert sweep_stale_jobs() == [job.pk]
    return Job.objects.get(pk=job.pk)


def start_held_training(owner, folder) -> tuple:
    """(category, version, job) of a training held in its worker before the first epoch, two attempts."""
    category = category_with_clip(owner, ready_video(owner, folder, "pitch.mp4", [("field", 4.0)]))
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    Job.objects.filter(pk=model.job.pk).update(
        kind="held_train", max_attempts=2, params={**model.job.params, "hold": True}
    )
    job = Job.objects.get(pk=model.job.pk)
    job.enqueue()
    wait_until(lambda: TrainedModel.objects.filter(pk=model.pk, status="training").exists(), "training")
    return category, model, job


def model_badge(client, model: TrainedModel) -> str:
    page = client.get(f"/models/{model.pk}/").content.decode()
    return re.search(r'id="model-status"[^>]*>([^<]*)<', page).group(1)


def release(job: Job) -> None:
    job.refresh_from_db()
    Job.objects.filter(pk=job.pk).update(params={**job.params, "hold": False})


def test_a_probe_whose_worker_dies_twice_fails_its_video_and_reprocess_works(worker, owner, client, tmp_path):
    source = tmp_path / "match.mp4"
    write_video(source, [("field", 2.0)], fps=10)
    video = Video.create_from_file(owner, source, "match.mp4", sha256="match")
    job = Job.start(
        "held_probe_video", owner, title="Probe", params={"video_id": video.pk, "hold": True}, video=video,
        max_attempts=2,
    )  # fmt: skip
    wait_until(lambda: Video.objects.filter(pk=video.pk, status="processing").exists(), "video processing")

    job = kill_twice(job)

    assert job.status == "failed" and WORKER_LOST in job.error
    video.refresh_from_db()
    assert video.status == "failed" and WORKER_LOST in video.error
    client.force_login(owner)
    assert b"Retry processing" in client.get(f"/videos/{video.pk}/").content
    api = client.get(f"/api/videos/{video.pk}").json()
    assert api["status"] == "failed" and WORKER_LOST in api["error"]

    client.post(f"/videos/{video.pk}/reprobe/")
    again = Job.objects.filter(video=video, kind="probe_video").get()
    assert wait_for_job(again.pk).status == "succeeded"
    video.refresh_from_db()
    assert video.status == "ready" and video.error == "" and video.frame_count == 20


def test_a_training_whose_worker_dies_twice_fails_its_version_and_retry_works(
    worker, owner, client, tmp_path
):
    category, model, job = start_held_training(owner, tmp_path)

    job = kill_twice(job)

    assert job.status == "failed" and WORKER_LOST in job.error
    model.refresh_from_db()
    assert model.status == "failed" and WORKER_LOST in model.error
    client.force_login(owner)
    api = client.get(f"/api/models/{model.pk}").json()
    assert api["status"] == "failed"
    assert model_badge(client, model) == "failed"

    release(job)
    client.post(f"/jobs/{job.pk}/retry/")
    assert TrainedModel.objects.get(pk=model.pk).status in ("queued", "training", "ready")
    assert wait_for_job(job.pk).status == "succeeded"
    model.refresh_from_db()
    assert model.status == "ready" and model.error == "" and model.is_active


def test_a_cancelled_training_says_cancelled_everywhere(worker, owner, client, tmp_path):
    category, model, job = start_held_training(owner, tmp_path)

    client.force_login(owner)
    client.post(f"/jobs/{job.pk}/cancel/")

    assert wait_for_job(job.pk).status == "cancelled"
    model.refresh_from_db()
    # What the table of job kinds says a version becomes when its training is cancelled, shown everywhere.
    assert MODEL_ROW.status_after("cancelled") == "cancelled"
    assert (model.status, model.error) == ("cancelled", "Training was cancelled.")
    assert client.get(f"/api/models/{model.pk}").json()["status"] == "cancelled"
    assert client.get(f"/api/categories/{category.pk}/models").json()[0]["status"] == "cancelled"
    assert model_badge(client, model) == "cancelled"
    panel = client.get(f"/categories/{category.pk}/").content.decode()
    assert "status-cancelled" in panel and "status-failed" not in panel and "status-training" not in panel

    release(job)
    client.post(f"/jobs/{job.pk}/retry/")  # Retry takes a cancelled version back to the queue
    assert wait_for_job(job.pk).status == "succeeded"
    assert TrainedModel.objects.get(pk=model.pk).status == "ready"


def test_a_task_past_its_soft_time_limit_ends_failed_with_its_row(worker, owner, tmp_path):
    source = tmp_path / "match.mp4"
    write_video(source, [("field", 1.0)], fps=10)
    video = Video.create_from_file(owner, source, "match.mp4", sha256="slow")
    job = Job.start("short_probe_video", owner, params={"video_id": video.pk, "hold": True}, video=video)

    job = wait_for_job(job.pk)

    assert job.status == "failed" and "time limit (2 s)" in job.error
    video.refresh_from_db()
    assert video.status == "failed" and "time limit" in video.error


def test_a_task_that_ignores_its_soft_limit_is_killed_at_the_hard_one_and_fails(worker, owner):
    job = Job.start("stubborn", owner, params={})

    job = wait_for_job(job.pk)

    assert job.status == "failed" and job.error == "It ran longer than its time limit (1 s) and was stopped."
    assert worker.poll() is None, "the worker replaced the killed pool process"
