"""Training and scoring through the real worker on Redis: round trip, live events, cancel, faults."""

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from tests.integration.helpers import (
    STATE_WAIT_S,
    job_socket,
    receive_until_finished,
    session_cookie_for,
    wait_for_job,
    wait_until,
)
from tests.training_fixtures import FOREIGN_SCENE_PARAMS, TINY_CONFIG, category_with_clip, ready_video
from webapp.job_queue import send_jobs
from webapp.models import Job, ScoringRun, TrainedModel
from workers.jobs import sweep_stale_jobs

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def with_epochs(epochs: int) -> dict:
    return {**TINY_CONFIG, "train": {**TINY_CONFIG["train"], "epochs": epochs, "patience": 1000}}


@pytest.fixture
def pitch_category(owner, tmp_path):
    video = ready_video(owner, tmp_path, "pitch.mp4", [("field", 4.0)])
    return category_with_clip(owner, video)


def wait_for_epochs(model: TrainedModel, count: int) -> int:
    def seen() -> int:
        done = len(TrainedModel.objects.get(pk=model.pk).curves.get("epochs", []))
        return done if done >= count else 0

    return wait_until(seen, f"{count} epochs")


def worker_children(worker) -> list[int]:
    """Process ids of the worker's pool processes (the ones that run tasks)."""
    path = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    return [int(pid) for pid in path.read_text().split()]


def test_a_small_train_and_score_round_trip_finds_the_foreign_scene(worker, owner, pitch_category, tmp_path):
    match = ready_video(owner, tmp_path, "match.mp4", [("field", 4.0), ("studio", 2.0), ("field", 4.0)])
    model = TrainedModel.start_training(pitch_category, owner, TINY_CONFIG)
    job = wait_for_job(model.job.pk)
    assert job.status == "succeeded", job.error
    model.refresh_from_db()
    assert model.status == "ready" and model.is_active and job.queue == "gpu"
    extraction = Job.objects.get(kind="extract_frames", video=pitch_category.clips.get().video)
    assert extraction.queue == "cpu" and extraction.status == "succeeded"
    assert extraction.finished_at <= job.started_at, "frames are extracted on the cpu queue before training"

    run = ScoringRun.start(match, [model], owner, FOREIGN_SCENE_PARAMS, fps=5.0)
    job = wait_for_job(run.job.pk)
    assert job.status == "succeeded", job.error
    run.refresh_from_db()
    out = [s for s in run.segments.all() if s.label == "out"]
    assert len(out) == 1
    assert out[0].start_s == pytest.approx(4.0, abs=0.6) and out[0].end_s == pytest.approx(6.0, abs=0.6)
    assert (Path(settings.MEDIA_ROOT) / run.arrays_path).is_file()


async def test_training_events_arrive_in_order_and_end_with_the_final_status(worker, owner, pitch_category):
    model = await sync_to_async(TrainedModel.start_training)(pitch_category, owner, with_epochs(3), False)
    socket = job_socket(f"/ws/jobs/{model.job.pk}/", await sync_to_async(session_cookie_for)(owner))
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from(timeout=STATE_WAIT_S))["status"] == "queued"

    await sync_to_async(send_jobs)([model.job.pk])
    events = await receive_until_finished(socket)
    await socket.disconnect()

    assert events[0]["status"] == "running" and events[-1]["status"] == "succeeded"
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 1.0
    stages = [e["stage"] for e in events]
    assert stages.index("Extracting frames") < stages.index("Training") < stages.index("Saving")
    epochs = [e for e in events if "val_loss" in e]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert all(e["fold"] == 0 and e["train_loss"] > 0 for e in epochs)
    assert events[-1]["result"]["model_id"] == model.pk


def test_cancel_stops_training_within_one_epoch(worker, owner, pitch_category):
    model = TrainedModel.start_training(pitch_category, owner, with_epochs(500))
    wait_for_epochs(model, 1)
    model.job.request_cancel()
    seen = len(TrainedModel.objects.get(pk=model.pk).curves["epochs"])

    job = wait_for_job(model.job.pk)
    assert job.status == "cancelled"
    model.refresh_from_db()
    assert model.status == "cancelled" and "cancelled" in model.error
    assert len(model.curves["epochs"]) <= seen + 1


def test_a_sigkilled_training_is_retried_and_reuses_its_version(worker, owner, pitch_category):
    model = TrainedModel.start_training(pitch_category, owner, with_epochs(500))
    wait_for_epochs(model, 1)
    for pid in worker_children(worker):
        os.kill(pid, signal.SIGKILL)
    # The retried attempt trains a short run, so the test need not wait for 500 epochs.
    TrainedModel.objects.filter(pk=model.pk).update(config=with_epochs(2))
    Job.objects.filter(pk=model.job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    assert model.job.pk in sweep_stale_jobs()
    job = wait_for_job(model.job.pk)
    assert job.status == "succeeded" and job.attempts == 2
    assert list(TrainedModel.objects.filter(category=pitch_category).values_list("version", "status")) == [
        (1, "ready")
    ]
    assert sorted(p.name for p in model.directory.parent.iterdir()) == ["v1"]


def test_training_a_deleted_category_fails_cleanly(worker, owner, pitch_category):
    model = TrainedModel.start_training(pitch_category, owner, TINY_CONFIG, enqueue=False)
    pitch_category.delete()
    send_jobs([model.job.pk])
    job = wait_for_job(model.job.pk)
    assert job.status == "failed" and "deleted" in job.error
    assert Job.objects.get(pk=job.pk).category_id is None


def test_recalibration_runs_on_the_worker_and_moves_the_threshold(worker, owner, pitch_category):
    model = TrainedModel.start_training(pitch_category, owner, TINY_CONFIG)
    assert wait_for_job(model.job.pk).status == "succeeded"
    model.refresh_from_db()

    job = model.start_recalibration(owner, percentile=60.0)
    job = wait_for_job(job.pk)

    assert job.status == "succeeded", job.error
    assert job.result["previous_threshold"] == model.threshold > job.result["threshold"]
    model.refresh_from_db()
    assert model.threshold == job.result["threshold"] and model.load().threshold == model.threshold
