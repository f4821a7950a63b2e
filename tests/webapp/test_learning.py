"""Learning from corrections: a reviewed run's in ranges become reference clips and its out ranges negative
clips of the category (remembering the run), then the version recalibrates or the category retrains; on
synthetic losses, recalibrating with a missed break as negatives lowers the threshold below it."""

import numpy as np
import pytest
from django.urls import reverse

from scoring.calibration import calibrate, recalibrate
from tests.webapp.test_reports import built, isolated_media_root, report_media  # noqa: F401 (fixtures)
from webapp.models import Job, ReferenceClip, TrainedModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_and_run(client, built):  # noqa: F811 (the scored run fixture of tests.webapp.test_reports)
    owner, run = built
    client.force_login(owner)
    end_s = run.segments.order_by("-index").first().end_s
    run.save_review([
        {"start_s": 0.0, "end_s": 2.0, "label": "in", "category": "soccer"},
        {"start_s": 2.0, "end_s": 8.0, "label": "out", "category": "advert"},  # the break began earlier
        {"start_s": 8.0, "end_s": end_s, "label": "in", "category": ""},
    ])  # fmt: skip
    return client, run


def test_one_click_turns_the_review_into_clips_and_a_recalibration(client_and_run, monkeypatch):
    monkeypatch.setattr(Job, "enqueue", lambda self, after=(): None)
    client, run = client_and_run
    model = TrainedModel.objects.get(pk=run.model_versions[0]["model_id"])
    response = client.post(
        reverse("run_learn", args=[run.pk]), {"model": 0, "how": "recalibrate", "negatives": "1"}
    )
    assert response.status_code == 302 and response.url == reverse("model_detail", args=[model.pk])
    made = ReferenceClip.objects.filter(from_run=run).order_by("start_s")
    assert [(c.start_s, c.end_s, c.is_negative) for c in made] == [
        (0.0, 2.0, False), (2.0, 8.0, True), (8.0, run.reviewed_segments[-1]["end_s"], False),
    ]  # fmt: skip
    job = Job.objects.get(kind=Job.Kind.RECALIBRATE)
    assert job.params["use_negatives"] and job.params["method"] == "auto"
    # a second click adds nothing twice
    client.post(reverse("run_learn", args=[run.pk]), {"model": 0, "how": "retrain", "negatives": "1"})
    assert ReferenceClip.objects.filter(from_run=run).count() == 3
    new = TrainedModel.objects.filter(category=model.category).order_by("-version").first()
    assert new.version == model.version + 1 and new.job.kind == Job.Kind.TRAIN


def test_the_version_page_lists_the_corrections_it_learned_from(client_and_run):
    client, run = client_and_run
    model = TrainedModel.objects.get(pk=run.model_versions[0]["model_id"])
    clip = {"clip_id": 1, "video_id": run.video_id, "video_title": "match", "start_s": 2.0, "end_s": 8.0,
            "is_negative": True, "frames": 30, "from_run_id": run.pk}  # fmt: skip
    lineage = {"clips": [clip]}
    TrainedModel.objects.filter(pk=model.pk).update(lineage=lineage)
    page = client.get(reverse("model_detail", args=[model.pk])).content.decode()
    assert f"correction from run #{run.pk}" in page


def test_learning_needs_a_known_version_and_a_way(client_and_run):
    client, run = client_and_run
    for data, message in (({"model": 7, "how": "retrain"}, "no longer exists"), ({"model": 0}, "Choose")):
        response = client.post(reverse("run_learn", args=[run.pk]), data)
        assert response.url == reverse("video_report", args=[run.pk])
        assert message in client.get(response.url).content.decode()
    assert not ReferenceClip.objects.filter(from_run=run).exists()


def test_recalibrating_with_a_missed_break_as_negatives_lowers_the_threshold_below_it():
    rng = np.random.default_rng(0)
    held_out = rng.normal(1.0, 0.08, 2000)  # in-category frames
    machine = calibrate(held_out, percentile=99.0, method="percentile")
    missed = rng.normal(1.12, 0.03, 300)  # a break the model let through: below its threshold
    assert np.mean(missed < machine.threshold) > 0.9
    corrected = recalibrate(machine, negative_losses=missed, method="auto")
    assert corrected.threshold < machine.threshold
    assert np.mean(missed > corrected.threshold) > 0.8  # most of the break is now out
