"""A threshold in people's terms: how many false alarms per hour of in-category video it gives, and the other
way round, the threshold that gives at most so many.

A false alarm is an "out" segment in footage that really shows the category. The held-out calibration frames
are such footage (in-category frames the model did not train on, in contiguous time blocks, in the order
they were sampled), so running them through the same decision as scoring (smoothing, hysteresis, minimum
segment length; ``scoring.segments.decide_segments``) at the sampling rate counts the alarms a threshold
makes per hour of them.
"""

from __future__ import annotations

import numpy as np

from scoring.segments import TemporalParams, decide_segments


def held_out_hours(held_out_losses: np.ndarray, fps: float) -> float:
    """Hours of video the held-out frames stand for at ``fps`` frames per second (> 0)."""
    if fps <= 0:
        raise ValueError(f"the sampling rate must be positive, got {fps!r}")
    return len(held_out_losses) / fps / 3600.0


def false_alarms_per_hour(
    held_out_losses: np.ndarray, threshold: float, fps: float, params: TemporalParams | None = None
) -> float:
    """Out segments per hour that ``threshold`` makes on the held-out frames (losses (N,), sampled at
    ``fps``); ValueError without held-out frames or with a non-positive threshold or rate."""
    losses = np.asarray(held_out_losses, dtype=np.float64)
    if losses.size == 0:
        raise ValueError("no held-out frames to count false alarms on")
    if threshold <= 0:
        raise ValueError(f"the threshold must be positive, got {threshold!r}")
    hours = held_out_hours(losses, fps)
    times = np.arange(len(losses), dtype=np.float64) / fps
    _, segments = decide_segments(losses / threshold, times, params or TemporalParams())
    return sum(1 for s in segments if s.label == "out") / hours


def threshold_for_false_alarms(
    held_out_losses: np.ndarray, fps: float, per_hour: float, params: TemporalParams | None = None
) -> float:
    """The lowest threshold among the held-out losses (or just above the highest) whose false alarms per hour
    are at most ``per_hour`` (>= 0): the most sensitive setting that keeps the promise on these frames."""
    if per_hour < 0:
        raise ValueError(f"false alarms per hour cannot be negative, got {per_hour!r}")
    losses = np.asarray(held_out_losses, dtype=np.float64)
    candidates = np.unique(losses[losses > 0])
    if candidates.size == 0:
        raise ValueError("no held-out frames to count false alarms on")
    candidates = np.append(candidates, candidates[-1] * 1.001)  # above every frame: no alarm at all
    lo, hi = 0, len(candidates) - 1  # alarms fall as the threshold rises: bisect for the first that fits
    while lo < hi:
        mid = (lo + hi) // 2
        if false_alarms_per_hour(losses, candidates[mid], fps, params) <= per_hour:
            hi = mid
        else:
            lo = mid + 1
    return float(candidates[lo])
