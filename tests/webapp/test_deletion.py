"""Delete confirmations list what goes with the row (runs, renders, clips, versions, sizes) and what stays."""

import pytest

from tests.webapp.model_helpers import ready_model
from tests.webapp.videos_helpers import make_row
from webapp.deletion import category_deletion, version_deletion, video_deletion
from webapp.media_layout import frames_dir, media_path, render_file, video_dir
from webapp.models import Category, ReferenceClip, ScoringRun, Segment, TrainedModel

pytestmark = pytest.mark.django_db


def write(relative: str, size: int) -> None:
    path = media_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def scored(video, model, segments: int, renders: int) -> ScoringRun:
    run = ScoringRun.objects.create(video=video, owner=video.owner)
    run.trained_models.add(model)
    for index in range(segments):
        Segment.objects.create(run=run, index=index, start_s=index, end_s=index + 1, label="in",
                               mean_score=0.5)  # fmt: skip
    write(f"{run.directory_relative}/scores.npz", 3000)
    for job_id in range(1, renders + 1):
        write(render_file(run.pk, job_id), 10_000)
    return run


@pytest.fixture
def library(owner):
    """A video (files, frames, two clips in "soccer") scored twice by soccer's active version, one run
    rendered twice."""
    video = make_row(owner, "match")
    write(f"{video_dir(video.pk)}/original.mp4", 50_000)
    write(f"{video_dir(video.pk)}/poster.jpg", 1_000)
    write(f"{frames_dir(video.pk)}/5fps.npy", 20_000)
    category = Category.objects.create(owner=owner, name="soccer")
    ReferenceClip.objects.create(category=category, video=video)
    ReferenceClip.objects.create(category=category, video=video, start_s=1, end_s=2, is_negative=True)
    model = ready_model(category)
    TrainedModel.objects.filter(pk=model.pk).update(lineage={"clips": [{"video_id": video.pk}]})
    scored(video, model, segments=3, renders=2)
    scored(video, model, segments=1, renders=0)
    return video, category, TrainedModel.objects.get(pk=model.pk)


def test_deleting_a_video_lists_its_files_clips_and_runs_with_sizes(library):
    video, _, model = library
    plan = video_deletion(video)
    texts = [item.text for item in plan.removed]
    assert texts[0] == "the video file match.mp4, its poster and thumbnails"
    assert plan.removed[0].size_bytes == 51_000
    assert plan.removed[1].text == "cached frames" and plan.removed[1].size_bytes == 20_000
    assert texts[2] == "2 reference clips (1 negative) in soccer"
    assert texts[3] == "2 scoring runs: 4 segments, 2 rendered videos, their scores and heatmaps"
    assert plan.removed[3].size_bytes == 2 * 3000 + 2 * 10_000
    assert plan.total_bytes == 51_000 + 20_000 + 26_000
    trained = f"Model versions trained on it keep their weights ({model.label}); their lineage names it."
    assert plan.kept == [trained]


def test_deleting_a_category_lists_its_versions_and_weights_and_what_stays(library):
    _, category, model = library
    plan = category_deletion(category)
    assert [item.text for item in plan.removed] == [
        "2 reference clips (1 negative) in soccer",
        "1 model version (v1 (active)) with their weights",
    ]
    weights = sum(f.stat().st_size for f in model.directory.rglob("*") if f.is_file())
    assert plan.removed[1].size_bytes == weights > 0
    assert "The 2 scoring runs made with its versions stay, with their segments." in plan.kept
    assert "The videos of its clips stay in your library." in plan.kept


def test_deleting_a_version_says_the_category_loses_its_active_one(library):
    _, category, model = library
    plan = version_deletion(model)
    assert plan.removed[0].text == f"the weights and calibration of {model.label}" and plan.total_bytes > 0
    assert plan.kept[0] == "soccer has no active version afterwards: make another one active."
    assert "The 2 scoring runs made with it stay, with their segments." in plan.kept


def test_an_empty_category_deletes_nothing_else(owner, client):
    category = Category.objects.create(owner=owner, name="empty")
    plan = category_deletion(category)
    assert plan.removed == [] and plan.total_bytes == 0
    client.force_login(owner)
    page = client.get(f"/categories/{category.pk}/delete/").content.decode()
    assert "deletes nothing else" in page and "also deletes" not in page
    assert "stay in your library" not in page
    response = client.post(f"/categories/{category.pk}/delete/", follow=True)
    assert "Deleted category “empty”." in response.content.decode()


def test_the_confirmation_pages_show_the_plan(owner_client, library):
    video, category, _ = library
    page = owner_client.get(f"/videos/{video.pk}/delete/").content.decode()
    assert "2 scoring runs: 4 segments, 2 rendered videos" in page and "94.7\xa0KB" in page  # filesizeformat
    page = owner_client.get(f"/categories/{category.pk}/delete/").content.decode()
    assert "1 model version (v1 (active)) with their weights" in page
