"""Learning from a scored run: its final segments (the reviewed ones when someone corrected the machine)
become clips of a category, "in" ranges as reference clips and "out" ranges as negative clips, and the
category then recalibrates (a threshold from the new negatives) or trains a new version. Each clip remembers
the run it came from, so a version's page can list the corrections it learned from."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from scoring.review import learning_ranges
from webapp.models import ReferenceClip, TrainedModel

HOW = ("recalibrate", "retrain")


def clips_from_run(run, category, negatives: bool) -> tuple[int, int]:
    """Add the run's "in" segments that show ``category`` (named so, or unnamed) as reference clips and, with
    ``negatives``, its "out" segments as negative clips; ranges the category already has are skipped.
    Returns (reference clips added, negative clips added)."""
    added = [0, 0]
    for segment, is_negative in learning_ranges(run.final_segments(), category.name, negatives):
        clip = ReferenceClip(
            category=category, video=run.video, start_s=segment.start_s, end_s=segment.end_s,
            is_negative=is_negative, from_run=run,
        )  # fmt: skip
        try:
            clip.clean()
        except ValidationError:  # already a clip of the category, or a range the video does not have
            continue
        clip.save()
        added[is_negative] += 1
    return added[0], added[1]


def learn_from_run(run, model: TrainedModel, requested_by, how: str, negatives: bool):
    """Turn the run's segments into clips of ``model``'s category, then queue a recalibration of ``model``
    (best-F1 threshold over the category's negatives, now with the new ones) or the training of a new version
    with ``model``'s configuration. Returns (job, reference clips added, negative clips added); ValueError
    for an unknown ``how`` or a recalibration without any negative clip."""
    if how not in HOW:
        raise ValueError(f"Choose {' or '.join(HOW)}.")
    if not model.is_ready:
        raise ValueError(f"{model.label} is {model.status}; learn with a ready version.")
    references, negative_clips = clips_from_run(run, model.category, negatives)
    if how == "recalibrate":
        if not model.category.clips.filter(is_negative=True).exists():
            raise ValueError("Recalibrating needs out ranges (negative clips); this run has none to give.")
        job = model.start_recalibration(requested_by, method="auto", use_negatives=True)
    else:
        job = TrainedModel.start_training(model.category, requested_by, model.config).job
    return job, references, negative_clips
