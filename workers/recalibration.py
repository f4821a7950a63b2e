"""Recalibrating a trained model version as a job: a new threshold from the held-out losses stored with it (at
another percentile) and/or the category's current negative clips, written to model.json and the row.

The weights are never touched, so a failed recalibration leaves the version exactly as it was.
"""

from django.utils import timezone

from webapp.models import TrainedModel
from workers.framesets import ready_clip_frames
from workers.jobs import InputError
from workers.training import load_model_row

METHODS = ("auto", "percentile", "f1")


def recalibration_params(params: dict) -> tuple[float | None, str | None, bool]:
    """(percentile or None to keep it, method or None to keep it, use the category's negatives)."""
    percentile, method = params.get("percentile"), params.get("method") or None
    if percentile is not None:
        try:
            percentile = float(percentile)
        except (TypeError, ValueError):
            raise InputError(f"The percentile must be a number, got {percentile!r}.") from None
        if not 50.0 <= percentile <= 100.0:
            raise InputError(f"The percentile must be between 50 and 100, got {percentile:g}.")
    if method is not None and method not in METHODS:
        raise InputError(f"Unknown calibration method {method!r}: use one of {', '.join(METHODS)}.")
    return percentile, method, bool(params.get("use_negatives"))


def negative_losses(model: TrainedModel, trained, report):
    """Errors (N,) of the category's current negative clips under the version's network, and their lineage."""
    import numpy as np

    from scoring.scorer import frame_errors

    clips = [c for c in model.category.clips.select_related("video") if c.is_negative]
    losses, used = [], []

    def on_progress(fraction):
        report(0.1 + 0.7 * fraction, "Scoring negative clips")

    for clip, frames in ready_clip_frames(clips, model.sampling_spec(), on_progress):
        if frames is None:
            continue
        losses.append(frame_errors(trained.model, frames.frames))
        used.append({"clip_id": clip.pk, "video_title": clip.video.title, "frames": len(frames.frames),
                     "from_run_id": clip.from_run_id})  # fmt: skip
    return (np.concatenate(losses) if losses else np.zeros(0)), used


def load_trained(model: TrainedModel):
    from scoring.checkpoint import CheckpointError

    if model.status != TrainedModel.Status.READY:
        raise InputError(f"{model.label} is {model.status}: only a ready version can be recalibrated.")
    try:
        return model.load()
    except CheckpointError as exc:
        raise InputError(f"The files of {model.label} cannot be read: {exc}") from exc


def recalibrate_work(job, report) -> dict:
    """Body of recalibrate_task: params ``model_id``, ``percentile`` (50-100, optional), ``method`` (one of
    ``METHODS``, optional) and ``use_negatives`` (score the category's negative clips now)."""
    from scoring.calibration import recalibrate
    from scoring.checkpoint import update_calibration

    percentile, method, use_negatives = recalibration_params(job.params)
    model = load_model_row(job, "recalibration")
    report(0.0, "Loading the model", force=True)
    trained = load_trained(model)
    negatives, used = negative_losses(model, trained, report) if use_negatives else (None, None)
    effective = negatives if negatives is not None else trained.calibration.negative_losses
    if method == "f1" and (effective is None or len(effective) == 0):
        raise InputError(f"The F1 threshold needs negative clips: {model.category.name} has none to score.")
    try:
        calibration = recalibrate(trained.calibration, percentile, negatives, method)
    except ValueError as exc:
        raise InputError(f"Recalibration failed: {exc}") from exc
    report(0.9, "Saving", force=True)
    note = {
        "at": timezone.now().isoformat(), "job_id": job.pk, "previous_threshold": trained.threshold,
        "threshold": calibration.threshold, "method": calibration.method,
        "percentile": calibration.percentile, "negative_clips": used,
    }  # fmt: skip
    update_calibration(model.directory, calibration, note)
    model.store_calibration(calibration.to_dict(), note)
    return {
        "model_id": model.pk, "version": model.version, "category": model.category.name,
        "previous_threshold": note["previous_threshold"], "threshold": calibration.threshold,
        "method": calibration.method, "percentile": calibration.percentile, "auroc": calibration.auroc,
    }  # fmt: skip
