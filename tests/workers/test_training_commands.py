"""Headless use: train_category and score_video run the worker's code here, with progress bars."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.training_fixtures import category_with_clip, ready_video
from webapp.models import Job, ScoringRun, TrainedModel

# run_job closes stale connections like a worker does, which a test wrapped in a transaction cannot survive.
pytestmark = pytest.mark.django_db(transaction=True)

TINY_OPTIONS = ["--epochs", "3", "--latent-dim", "4", "--input-height", "16", "--input-width", "32",
                "--holdout", "blocks", "--lr", "0.01"]  # fmt: skip


def test_train_then_score_from_the_command_line(owner, tmp_path):
    category_with_clip(owner, ready_video(owner, tmp_path, "pitch.mp4", [("field", 4.0)]), name="Soccer")
    match = ready_video(owner, tmp_path, "match.mp4", [("field", 3.0), ("studio", 2.0), ("field", 3.0)])
    out, err = StringIO(), StringIO()
    call_command("train_category", "soccer", *TINY_OPTIONS, stdout=out, stderr=err)
    model = TrainedModel.objects.get()
    assert "Trained Soccer v1 (active)" in out.getvalue() and model.is_ready
    assert "Training" in err.getvalue()  # the tqdm bar's description
    assert Job.objects.get(kind="train").status == "succeeded"

    json_path = tmp_path / "segments.json"
    call_command(
        "score_video", str(match.pk), "--category", "Soccer", "--high", "2", "--low", "1.5",
        "--min-segment-s", "1", "--json", str(json_path), stdout=out, stderr=err,
    )  # fmt: skip
    run = ScoringRun.objects.get()
    labels = [s["label"] for s in json.loads(json_path.read_text())["segments"]]
    assert labels == ["in", "out", "in"] and run.job.status == "succeeded"
    assert f"Run #{run.pk}: 3 segments" in out.getvalue()


def test_the_commands_explain_what_is_missing(owner, tmp_path):
    with pytest.raises(CommandError, match="No category called 'nothing'"):
        call_command("train_category", "nothing")
    video = ready_video(owner, tmp_path, "pitch.mp4", [("field", 1.0)])
    with pytest.raises(CommandError, match="no active model of category 'soccer'"):
        call_command("score_video", str(video.pk), "--category", "soccer")
    with pytest.raises(CommandError, match="No video with id 999"):
        call_command("score_video", "999", "--category", "soccer")
