"""A version's threshold in people's terms: the false alarms per hour of in-category video it gives (on its
held-out frames, read in their sampled order from model.json; ``scoring.alarms``), and setting the threshold
from the number of false alarms someone accepts."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from django.utils import timezone

from scoring.alarms import false_alarms_per_hour, held_out_hours, threshold_for_false_alarms
from scoring.checkpoint import CheckpointError, read_calibration, update_calibration

MAX_PER_HOUR = 1000.0


@dataclass(frozen=True)
class FalseAlarms:
    per_hour: float  # out segments per hour of in-category video at the version's threshold
    held_out_frames: int
    held_out_minutes: float


def false_alarms(model) -> FalseAlarms | None:
    """None for a version that is not ready, has no held-out frames or whose files cannot be read."""
    if not model.is_ready or not model.threshold:
        return None
    try:
        losses = read_calibration(model.directory).held_out_losses
    except (CheckpointError, OSError):
        return None
    if not len(losses):
        return None
    fps = model.sampling_fps
    per_hour = false_alarms_per_hour(losses, model.threshold, fps)
    return FalseAlarms(per_hour, len(losses), held_out_hours(losses, fps) * 60.0)


def set_threshold_for_false_alarms(model, per_hour: float, requested_by) -> float:
    """Give ``model`` the most sensitive threshold with at most ``per_hour`` false alarms per hour on its
    held-out frames, in model.json and the row (its recalibration history notes why); returns it.
    ValueError for a goal outside 0..MAX_PER_HOUR or a version without held-out frames; CheckpointError for
    unreadable files."""
    if not 0.0 <= per_hour <= MAX_PER_HOUR:
        raise ValueError(f"Choose between 0 and {MAX_PER_HOUR:g} false alarms per hour.")
    if not model.is_ready:
        raise ValueError(f"{model.label} is {model.status}; only a ready version has a threshold to set.")
    calibration = read_calibration(model.directory)
    losses = calibration.held_out_losses
    threshold = threshold_for_false_alarms(losses, model.sampling_fps, per_hour)
    percentile = float(np.clip(100.0 * np.mean(losses <= threshold), 0.1, 100.0))  # the same cut, as a rank
    adopted = replace(calibration, threshold=threshold, method="percentile", percentile=percentile)
    note = {
        "at": timezone.now().isoformat(), "job_id": None, "previous_threshold": calibration.threshold,
        "threshold": threshold, "method": "percentile", "percentile": percentile, "negative_clips": None,
        "false_alarms_per_hour": per_hour, "by": requested_by.get_username(),
    }  # fmt: skip
    update_calibration(model.directory, adopted, note)
    model.store_calibration(adopted.to_dict(), note)
    return threshold


def version_trend_rows(versions) -> list[dict]:
    """What ``webapp.charts.version_trends`` draws for the ready versions among ``versions``, oldest first."""
    rows = []
    for model in sorted((m for m in versions if m.is_ready and m.trained_at), key=lambda m: m.trained_at):
        alarms = false_alarms(model)
        rows.append({
            "version": model.version, "trained_at": model.trained_at.isoformat(), "active": model.is_active,
            "auroc": model.auroc, "threshold": model.threshold, "frames": model.n_frames,
            "false_alarms_per_hour": alarms.per_hour if alarms else None,
        })  # fmt: skip
    return rows
