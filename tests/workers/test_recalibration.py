"""Recalibrating a trained version: new percentile, current negatives, and refusals that change nothing."""

import json

import numpy as np
import pytest
from django.urls import reverse

from tests.training_fixtures import TINY_CONFIG, Recorder, category_with_clip, ready_video
from webapp.models import Job, ReferenceClip, TrainedModel
from workers.jobs import InputError
from workers.recalibration import recalibrate_work
from workers.training import train_category_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(owner, tmp_path):
    """A ready version trained on a pitch video, with a studio video available as a negative."""
    pitch = ready_video(owner, tmp_path, "pitch.mp4", [("field", 6.0)])
    category = category_with_clip(owner, pitch)
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    train_category_work(model.job, Recorder())
    model.refresh_from_db()
    return model


def recalibration_job(model, **params) -> Job:
    return Job.objects.create(
        kind=Job.Kind.RECALIBRATE,
        owner=model.category.owner,
        queue="gpu",
        params={"model_id": model.pk, **params},
    )


def model_json(model) -> dict:
    return json.loads((model.directory / "model.json").read_text())


def test_a_new_percentile_moves_the_threshold_in_the_row_and_in_model_json(trained):
    losses = np.asarray(model_json(trained)["calibration"]["held_out_losses"])
    weights = (trained.directory / "weights.safetensors").read_bytes()

    result = recalibrate_work(recalibration_job(trained, percentile=50), Recorder())

    trained.refresh_from_db()
    assert result["previous_threshold"] > result["threshold"] == trained.threshold
    assert trained.threshold == pytest.approx(np.percentile(losses, 50), rel=1e-6)  # one clip
    assert trained.calibration["percentile"] == 50 and trained.config["calibration"]["percentile"] == 50
    saved = model_json(trained)
    assert saved["calibration"]["threshold"] == trained.threshold
    assert saved["metadata"]["recalibrations"][-1]["previous_threshold"] == result["previous_threshold"]
    assert trained.calibration["recalibrations"][-1]["threshold"] == trained.threshold
    assert (trained.directory / "weights.safetensors").read_bytes() == weights, "weights never change"
    assert trained.load().threshold == trained.threshold


def test_current_negatives_give_roc_auroc_and_an_f1_threshold(trained, owner, tmp_path):
    studio = ready_video(owner, tmp_path, "studio.mp4", [("studio", 4.0)])
    ReferenceClip.objects.create(category=trained.category, video=studio, is_negative=True)

    recalibrate_work(recalibration_job(trained, use_negatives=True, method="f1"), Recorder())

    trained.refresh_from_db()
    assert trained.auroc is not None and trained.auroc > 0.9
    assert trained.calibration["method"] == "f1" and trained.calibration["roc"]
    assert trained.threshold == pytest.approx(trained.calibration["f1_threshold"])
    assert trained.calibration["recalibrations"][-1]["negative_clips"][0]["frames"] == 20  # 4 s at 5 fps


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"percentile": 120}, "between 50 and 100"),
        ({"percentile": "lots"}, "must be a number"),
        ({"method": "magic"}, "Unknown calibration method"),
        ({"method": "f1"}, "needs negative clips"),
        ({"method": "f1", "use_negatives": True}, "needs negative clips"),
    ],
)
def test_bad_requests_fail_clearly_and_change_nothing(trained, params, message):
    before = (trained.directory / "model.json").read_text()
    with pytest.raises(InputError, match=message):
        recalibrate_work(recalibration_job(trained, **params), Recorder())
    assert (trained.directory / "model.json").read_text() == before
    assert TrainedModel.objects.get(pk=trained.pk).threshold == trained.threshold


def test_only_a_ready_version_is_recalibrated(trained):
    trained.archive()
    with pytest.raises(InputError, match="only a ready version"):
        recalibrate_work(recalibration_job(trained, percentile=90), Recorder())


def test_a_version_whose_files_are_gone_fails_with_a_reason(trained):
    (trained.directory / "model.json").unlink()
    with pytest.raises(InputError, match="cannot be read"):
        recalibrate_work(recalibration_job(trained, percentile=90), Recorder())


def test_a_version_deleted_before_its_recalibration_ran_is_named_so(trained):
    job = recalibration_job(trained, percentile=90)
    trained.delete()
    with pytest.raises(InputError, match="deleted before recalibration could run"):
        recalibrate_work(Job.objects.get(pk=job.pk), Recorder())


def test_the_version_page_lists_recalibrations(trained, owner_client):
    recalibrate_work(recalibration_job(trained, percentile=75), Recorder())
    trained.refresh_from_db()
    page = owner_client.get(reverse("model_detail", args=[trained.pk])).content.decode()
    assert 'id="recalibrations"' in page and "(75.0th)" in page
    assert f"{trained.threshold:.5f}" in page
