"""The training, scoring and extraction work functions, called directly with a recording reporter."""

import numpy as np
import pytest

from tests.training_fixtures import (
    FOREIGN_SCENE_PARAMS,
    TINY_CONFIG,
    Recorder,
    category_with_clip,
    ready_video,
)
from webapp.models import FrameSet, Job, JobCancelled, ReferenceClip, ScoringRun, TrainedModel
from workers.framesets import extract_frames_work
from workers.jobs import InputError, run_job
from workers.score_runs import score_video_work
from workers.training import train_category_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def match_video(owner, tmp_path):
    return ready_video(owner, tmp_path, "match.mp4", [("field", 4.0), ("studio", 2.0), ("field", 4.0)])


@pytest.fixture
def pitch_video(owner, tmp_path):
    return ready_video(owner, tmp_path, "pitch.mp4", [("field", 6.0)])


def train(category, owner, config=TINY_CONFIG, recorder=None):
    model = TrainedModel.start_training(category, owner, config, enqueue=False)
    recorder = recorder or Recorder()
    result = train_category_work(model.job, recorder)
    model.refresh_from_db()
    return model, result, recorder


def test_training_stores_a_ready_active_version_with_lineage_curves_and_calibration(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    model, result, recorder = train(category, owner)

    assert model.status == "ready" and model.is_active and model.version == 1
    assert (model.directory / "weights.safetensors").is_file() and model.size_bytes > 0
    assert model.lineage["clips"][0]["video_id"] == pitch_video.pk
    assert model.lineage["n_frames"] == 30  # 6 s at 5 fps
    assert [p["epoch"] for p in model.curves["epochs"]] == list(range(1, 9))
    assert model.threshold > 0 and model.calibration["held_out_losses"]
    assert model.config["model"]["height"] == 16 and model.device
    assert result["model_id"] == model.pk and result["active"]
    stages = recorder.stages
    assert stages.index("Extracting frames") < stages.index("Training") < stages.index("Saving")
    assert {"epoch", "train_loss", "val_loss", "fold"} <= set(recorder.epoch_events[0])


def test_training_reuses_stored_frame_sets_and_the_second_version_is_not_active(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    first, _, _ = train(category, owner)
    frameset = FrameSet.objects.get(video=pitch_video)
    second, _, _ = train(category, owner)

    assert FrameSet.objects.filter(video=pitch_video).count() == 1
    assert FrameSet.objects.get(video=pitch_video).created_at == frameset.created_at
    assert second.version == 2 and not second.is_active
    first.refresh_from_db()
    assert first.is_active


def test_a_retried_training_job_overwrites_its_own_version(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    model, _, _ = train(category, owner)
    train_category_work(model.job, Recorder())

    assert TrainedModel.objects.filter(category=category).count() == 1
    assert sorted(p.name for p in model.directory.parent.iterdir()) == ["v1"]


def test_making_another_version_active_deactivates_the_first(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    first, _, _ = train(category, owner)
    second, _, _ = train(category, owner)
    second.activate()

    assert list(TrainedModel.objects.filter(category=category, is_active=True)) == [second]


@pytest.mark.django_db(transaction=True)  # run_job closes stale connections, as a worker does
def test_cancelling_stops_training_within_one_epoch_and_cancels_the_version(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    config = {**TINY_CONFIG, "train": {**TINY_CONFIG["train"], "epochs": 50}}
    with pytest.raises(JobCancelled):
        train(category, owner, config, Recorder(cancel_after_epochs=2))
    model = TrainedModel.start_training(category, owner, config, enqueue=False)

    run_job(model.job.pk, lambda job, report: train_category_work(job, Recorder(cancel_after_epochs=2)))
    model.refresh_from_db()
    assert model.job.status == "cancelled"
    assert model.status == "cancelled" and model.error == "Training was cancelled."
    assert len(model.curves["epochs"]) == 2


def test_training_a_category_without_clips_fails_with_a_reason(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    category.clips.all().delete()
    with pytest.raises(InputError, match="no reference clips"):
        train(category, owner)


def test_training_a_deleted_category_fails_cleanly(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    job = model.job
    category.delete()
    job.refresh_from_db()
    with pytest.raises(InputError, match="deleted"):
        train_category_work(job, Recorder())


def test_a_category_deleted_during_training_fails_cleanly_without_files(owner, pitch_video):
    category = category_with_clip(owner, pitch_video)
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)

    class DeleteOnFirstEpoch(Recorder):
        def __call__(self, progress, stage=None, extra=None, force=False):
            if extra and extra.get("epoch") == 1:
                category.delete()
            super().__call__(progress, stage, extra, force)

    with pytest.raises(InputError, match="deleted while it was being trained"):
        train_category_work(model.job, DeleteOnFirstEpoch())
    assert not model.directory.exists()


def test_scoring_finds_the_foreign_scene(owner, pitch_video, match_video):
    category = category_with_clip(owner, pitch_video)
    model, _, _ = train(category, owner)
    run = ScoringRun.start(match_video, [model], owner, FOREIGN_SCENE_PARAMS, fps=5.0, enqueue=False)
    result = score_video_work(run.job, Recorder())
    run.refresh_from_db()

    assert run.status == "succeeded" and result["run_id"] == run.pk
    out = [s for s in run.segments.all() if s.label == "out"]
    assert len(out) == 1
    assert out[0].start_s == pytest.approx(4.0, abs=0.6) and out[0].end_s == pytest.approx(6.0, abs=0.6)
    arrays = run.load_arrays()
    assert arrays["scores"].shape == (1, 50) and list(arrays["categories"]) == ["soccer"]
    assert arrays["out"].dtype == bool and np.all(np.diff(arrays["timestamps_s"]) > 0)


def test_a_retried_scoring_job_replaces_its_segments(owner, pitch_video, match_video):
    category = category_with_clip(owner, pitch_video)
    model, _, _ = train(category, owner)
    run = ScoringRun.start(match_video, [model], owner, {}, fps=5.0, enqueue=False)
    score_video_work(run.job, Recorder())
    count = run.segments.count()
    score_video_work(run.job, Recorder())
    assert run.segments.count() == count


def test_scoring_with_a_deleted_model_fails_cleanly(owner, pitch_video, match_video):
    category = category_with_clip(owner, pitch_video)
    model, _, _ = train(category, owner)
    run = ScoringRun.start(match_video, [model], owner, {}, fps=5.0, enqueue=False)
    category.delete()
    with pytest.raises(InputError, match="deleted"):
        score_video_work(run.job, Recorder())


def test_extracting_frames_stores_one_frame_set_per_spec(owner, pitch_video):
    job = Job.objects.create(
        kind=Job.Kind.EXTRACT_FRAMES, owner=owner, video=pitch_video,
        params={"video_id": pitch_video.pk, "fps": 2.0, "height": 16, "width": 32},
    )  # fmt: skip
    first = extract_frames_work(job, Recorder())
    again = extract_frames_work(job, Recorder())
    assert first == again and first["frames"] == 12
    assert FrameSet.objects.get(pk=first["frameset_id"]).load().frames.shape == (12, 16, 32, 3)


def test_extracting_frames_of_a_deleted_video_fails_cleanly(owner, pitch_video):
    job = Job.objects.create(kind=Job.Kind.EXTRACT_FRAMES, owner=owner, params={"video_id": pitch_video.pk})
    pitch_video.delete()
    with pytest.raises(InputError, match="deleted"):
        extract_frames_work(job, Recorder())


def test_training_with_a_negative_clip_stores_roc_and_auroc(owner, pitch_video, tmp_path):
    category = category_with_clip(owner, pitch_video)
    studio = ready_video(owner, tmp_path, "studio.mp4", [("studio", 3.0)])
    ReferenceClip.objects.create(category=category, video=studio, is_negative=True)
    model, _, _ = train(category, owner)

    assert model.status == "ready"
    assert model.calibration["auroc"] is not None and model.calibration["roc"]["x"]
    # A ROC curve starts at an infinite threshold, which JSON cannot hold: it is stored as null.
    assert model.calibration["roc"]["thresholds"][0] is None
