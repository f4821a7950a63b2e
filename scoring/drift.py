"""Drift: does a model still fit the footage it scores? The normalised scores of a video's in-category frames
are compared with the model's calibration scores (held-out in-category frames) by a two-sample
Kolmogorov-Smirnov test; a clear difference means the category looks different here (new ground, lighting,
graphics) and the threshold was set on other footage.

Neighbouring frames are near-duplicates, so the video's frames are thinned to one per ``spacing_s`` before
testing (counting every frame would make any small difference "significant"), and a warning also needs a
material effect (the KS distance), not just a small p-value. Both samples are cut at the threshold (1.0): the
video's in-category frames are those the model accepted, so the calibration side is compared over the same
range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_FRAMES = 20  # on each side, after thinning; fewer say too little to warn about


@dataclass(frozen=True)
class DriftTest:
    statistic: float  # KS distance D in [0, 1]: the largest gap between the two empirical CDFs
    p_value: float
    n_video: int  # frames tested, after thinning and the cut at 1.0
    n_calibration: int
    drifted: bool


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(D, asymptotic p-value) of the two-sample Kolmogorov-Smirnov test of samples ``a`` and ``b`` (1-D).

    p from the Kolmogorov distribution Q(l) = 2 sum_j (-1)^(j-1) exp(-2 j^2 l^2) at
    l = (sqrt(n_e) + 0.12 + 0.11 / sqrt(n_e)) D, n_e = n_a n_b / (n_a + n_b) (Stephens 1970; Numerical
    Recipes 14.3). ValueError for an empty sample."""
    a, b = np.sort(np.asarray(a, dtype=np.float64)), np.sort(np.asarray(b, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        raise ValueError("the KS test needs two non-empty samples")
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / a.size
    cdf_b = np.searchsorted(b, both, side="right") / b.size
    d = float(np.max(np.abs(cdf_a - cdf_b)))
    n_e = a.size * b.size / (a.size + b.size)
    lam = (np.sqrt(n_e) + 0.12 + 0.11 / np.sqrt(n_e)) * d
    if lam < 1e-3:
        return d, 1.0
    j = np.arange(1, 101)
    p = 2.0 * np.sum((-1.0) ** (j - 1) * np.exp(-2.0 * j**2 * lam**2))
    return d, float(np.clip(p, 0.0, 1.0))


def thin(times_s: np.ndarray, spacing_s: float) -> np.ndarray:
    """Indices of frames (times ascending) at least ``spacing_s`` apart, first frame first."""
    keep, last = [], -np.inf
    for i, t in enumerate(np.asarray(times_s, dtype=np.float64)):
        if t - last >= spacing_s:
            keep.append(i)
            last = t
    return np.asarray(keep, dtype=np.int64)


def drift_test(
    video_scores: np.ndarray,
    video_times_s: np.ndarray,
    calibration_scores: np.ndarray,
    alpha: float = 0.01,
    min_effect: float = 0.25,
    spacing_s: float = 1.0,
) -> DriftTest | None:
    """Test the normalised scores (N,) of a video's in-category frames at ``video_times_s`` (N,) against the
    model's normalised calibration scores (M,). ``drifted`` when p < ``alpha`` and D >= ``min_effect``.
    None when either side has fewer than ``MIN_FRAMES`` frames to compare."""
    scores = np.asarray(video_scores, dtype=np.float64)[thin(video_times_s, spacing_s)]
    scores = scores[scores <= 1.0]
    calibration = np.asarray(calibration_scores, dtype=np.float64)
    calibration = calibration[calibration <= 1.0]
    if scores.size < MIN_FRAMES or calibration.size < MIN_FRAMES:
        return None
    d, p = ks_two_sample(scores, calibration)
    return DriftTest(d, p, int(scores.size), int(calibration.size), p < alpha and d >= min_effect)
