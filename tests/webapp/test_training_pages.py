"""Training and scoring pages without a worker: forms, validation, access rules, the category/video panels."""

import pytest

from tests.training_fixtures import (
    FOREIGN_SCENE_PARAMS,
    TINY_CONFIG,
    Recorder,
    category_with_clip,
    ready_video,
)
from webapp.models import Job, ScoringRun, TrainedModel
from workers.score_runs import score_video_work
from workers.training import train_category_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def category(owner, tmp_path):
    return category_with_clip(owner, ready_video(owner, tmp_path, "pitch.mp4", [("field", 2.0)]))


@pytest.fixture
def ready_model(category, owner):
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    model.mark_ready({"threshold": 0.01, "n_frames": 10})
    return model


def test_the_category_page_offers_training_with_advanced_options_folded(owner_client, category):
    page = owner_client.get(f"/categories/{category.pk}/").content.decode()
    assert 'id="train-form"' in page and "<summary>Advanced options</summary>" in page
    assert "No model yet" in page


def test_starting_training_with_defaults_queues_a_gpu_job_and_opens_the_version_page(
    owner_client, category, monkeypatch
):
    monkeypatch.setattr(Job, "enqueue", lambda self, after=(): None)
    response = owner_client.post(f"/categories/{category.pk}/train/", {})
    model = TrainedModel.objects.get(category=category)
    assert response.status_code == 302 and response["Location"] == f"/models/{model.pk}/"
    assert model.version == 1 and model.job.kind == "train" and model.job.queue == "gpu"
    assert model.config["model"] == {} and model.config["sampling"]["fps"] > 0
    page = owner_client.get(response["Location"]).content.decode()
    assert f'data-job-live="{model.job.pk}"' in page and 'id="loss-chart"' in page


def test_advanced_options_are_validated_with_clear_errors(owner_client, category):
    response = owner_client.post(
        f"/categories/{category.pk}/train/", {"epochs": "0", "input_height": "32", "method": "f1"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "greater than or equal to 1" in page
    assert "needs at least one negative clip" in page
    assert "Give both the input height and width" in page
    assert not TrainedModel.objects.exists()


def test_advanced_options_reach_the_model_config(owner_client, category, monkeypatch):
    monkeypatch.setattr(Job, "enqueue", lambda self, after=(): None)
    owner_client.post(
        f"/categories/{category.pk}/train/",
        {
            "epochs": "3",
            "latent_dim": "8",
            "input_height": "32",
            "input_width": "48",
            "beta": "0.5",
            "fps": "2",
        },
    )
    config = TrainedModel.objects.get().config
    assert config["train"] == {"epochs": 3}
    assert config["model"] == {"latent_dim": 8, "height": 32, "width": 48, "beta": 0.5}
    assert config["sampling"] == {"fps": 2.0}


def test_another_user_cannot_train_or_see_a_category_model(client, other_user, category, ready_model):
    client.force_login(other_user)
    assert client.post(f"/categories/{category.pk}/train/", {}).status_code == 404
    assert client.get(f"/models/{ready_model.pk}/").status_code == 404
    assert TrainedModel.objects.count() == 1


def test_the_only_ready_version_is_active_and_another_can_be_made_active(owner_client, category, owner):
    first = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    first.mark_ready({"threshold": 0.01})
    second = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    second.mark_ready({"threshold": 0.02})
    assert first.is_active and not TrainedModel.objects.get(pk=second.pk).is_active

    owner_client.post(f"/models/{second.pk}/activate/")
    assert list(TrainedModel.objects.filter(is_active=True)) == [second]


def test_a_version_that_is_not_ready_cannot_be_made_active(owner_client, category, owner):
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    owner_client.post(f"/models/{model.pk}/activate/")
    assert not TrainedModel.objects.get(pk=model.pk).is_active


def test_the_video_page_scores_with_active_versions_by_default(owner_client, owner, ready_model, monkeypatch):
    monkeypatch.setattr(Job, "enqueue", lambda self, after=(): None)
    video = ready_model.category.clips.get().video
    page = owner_client.get(f"/videos/{video.pk}/").content.decode()
    assert 'id="score-form"' in page and f'value="{ready_model.pk}" checked' in page

    response = owner_client.post("/runs/start/", {"videos": [video.pk], "models": [ready_model.pk]})
    run = ScoringRun.objects.get()
    assert response["Location"] == f"/runs/{run.pk}/"
    assert run.job.kind == "score" and run.job.queue == "gpu"
    assert run.model_versions[0]["version"] == ready_model.version


def test_the_library_scores_several_videos_at_once(owner_client, owner, ready_model, tmp_path, monkeypatch):
    monkeypatch.setattr(Job, "enqueue", lambda self, after=(): None)
    videos = [ready_video(owner, tmp_path, f"v{k}.mp4", [("field", 1.0)]) for k in range(2)]
    page = owner_client.get("/videos/").content.decode()
    assert 'id="bulk-score-form"' in page
    response = owner_client.post(
        "/runs/start/", {"videos": [v.pk for v in videos], "models": [ready_model.pk], "window_s": "2"}
    )
    assert response["Location"] == "/runs/"
    assert ScoringRun.objects.count() == 2
    assert all(run.temporal_params == {"window_s": 2.0} for run in ScoringRun.objects.all())


def test_scoring_refuses_someone_elses_video(client, other_user, ready_model):
    client.force_login(other_user)
    video = ready_model.category.clips.get().video
    client.post("/runs/start/", {"videos": [video.pk], "models": [ready_model.pk]})
    assert not ScoringRun.objects.exists()


def test_staff_may_score_a_users_video_with_that_users_models(client, staff, ready_model, monkeypatch):
    monkeypatch.setattr(Job, "enqueue", lambda self, after=(): None)
    client.force_login(staff)
    video = ready_model.category.clips.get().video
    client.post("/runs/start/", {"videos": [video.pk], "models": [ready_model.pk]})
    assert ScoringRun.objects.get().video == video


def test_smoothing_thresholds_must_be_ordered(owner_client, ready_model):
    video = ready_model.category.clips.get().video
    owner_client.post(
        "/runs/start/", {"videos": [video.pk], "models": [ready_model.pk], "low": "2", "high": "1"}
    )
    assert not ScoringRun.objects.exists()


def test_a_finished_run_page_shows_the_segments_and_the_timeline(owner_client, owner, category, tmp_path):
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    train_category_work(model.job, Recorder())
    match = ready_video(owner, tmp_path, "match.mp4", [("field", 3.0), ("studio", 2.0), ("field", 3.0)])
    run = ScoringRun.start(match, [TrainedModel.objects.get()], owner, FOREIGN_SCENE_PARAMS, 5.0, False)
    score_video_work(run.job, Recorder())

    page = owner_client.get(f"/runs/{run.pk}/").content.decode()
    assert 'id="segments"' in page and "00:00:03.000" in page and 'id="timeline-figure"' in page
    assert owner_client.get("/runs/").status_code == 200
    page = owner_client.get(f"/models/{model.pk}/").content.decode()
    assert 'id="threshold"' in page and 'id="curves-figure"' in page and 'id="calibration-figure"' in page
    page = owner_client.get(f"/jobs/{run.job.pk}/").content.decode()
    assert f'href="/runs/{run.pk}/"' in page
