"""Hard shot cuts from colour histograms, so segment boundaries can snap to where the picture really changes.

A cut between a match and an advert changes the colour distribution of the whole frame from one frame to the
next, while camera pans and player motion change it gradually. The classic detector (Zhang, Kankanhalli &
Smoliar 1993, "Automatic partitioning of full-motion video") thresholds the histogram difference of
consecutive frames; we use the total-variation distance of HSV histograms, which lies in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

_H_BINS, _S_BINS, _V_BINS = 16, 4, 4
_CHUNK = 512  # frames per vectorised step: bounds the (chunk, H*W) index array


def _hsv_histograms(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB -> (N, bins) float32, each row summing to 1."""
    n, h, w, _ = frames.shape
    bins = _H_BINS * _S_BINS * _V_BINS
    hists = np.empty((n, bins), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        chunk = frames[start : start + _CHUNK]
        hsv = np.stack(
            [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2HSV) for f in chunk]
        )  # hue 0..179
        hsv = hsv.reshape(len(chunk), h * w, 3).astype(np.int32)
        idx = (hsv[..., 0] * _H_BINS // 180) * (_S_BINS * _V_BINS)
        idx += (hsv[..., 1] * _S_BINS // 256) * _V_BINS + hsv[..., 2] * _V_BINS // 256
        idx += np.arange(len(chunk), dtype=np.int32)[:, None] * bins  # one bincount for the whole chunk
        counts = np.bincount(idx.ravel(), minlength=len(chunk) * bins).reshape(len(chunk), bins)
        hists[start : start + len(chunk)] = counts / float(h * w)
    return hists


def shot_cut_scores(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB -> (N,) float32 in [0, 1]: colour-histogram distance of each frame to the one
    before it (0 for the first frame). Values near 1 mean the two frames share almost no colours."""
    if len(frames) == 0:
        return np.zeros(0, dtype=np.float32)
    hists = _hsv_histograms(frames)
    scores = np.zeros(len(frames), dtype=np.float32)
    scores[1:] = 0.5 * np.abs(np.diff(hists, axis=0)).sum(axis=1)
    return scores


def detect_shot_cuts(
    timestamps_s: np.ndarray, frames: np.ndarray, threshold: float = 0.5, min_gap_s: float = 0.5
) -> np.ndarray:
    """Times (s) of the first frame of each new shot: histogram distance above ``threshold`` and the largest
    within ``min_gap_s`` (a flash or a fast wipe lights up several frames; keep one cut)."""
    scores = shot_cut_scores(frames)
    times = np.asarray(timestamps_s, dtype=np.float64)
    candidates = np.flatnonzero(scores > threshold)
    kept: list[int] = []
    for i in candidates[np.argsort(-scores[candidates], kind="stable")]:  # strongest first
        if all(abs(times[i] - times[j]) >= min_gap_s for j in kept):
            kept.append(int(i))
    return np.sort(times[kept]) if kept else np.zeros(0, dtype=np.float64)
