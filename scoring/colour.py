"""Colour statistics of a category: how far a frame's HSV histogram is from its nearest reference frames.

The VAE's error asks whether a frame's texture and layout can be rebuilt; a tennis court (flat blue and
green) or a cricket field rebuild well enough, yet their colours are not a soccer broadcast's. The quality
benchmark (docs/BENCHMARKS.md) combines both: ``combined = vae_error ** (1 - w) * colour_distance ** w``.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

HUE_BINS, SATURATION_BINS, VALUE_BINS = 16, 4, 4
COLOUR_BINS = HUE_BINS * SATURATION_BINS * VALUE_BINS  # 256 values per histogram


def hsv_histograms(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB (N, H, W, 3) -> (N, 256) float32 joint HSV histograms (16 hue x 4 saturation x 4 value bins),
    each summing to 1."""
    n = len(frames)
    if n == 0:
        return np.zeros((0, COLOUR_BINS), np.float32)
    # OpenCV's 8-bit hue runs 0..179
    hsv = np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2HSV) for f in frames])
    hue = hsv[..., 0].astype(np.int64) * HUE_BINS // 180
    sat = hsv[..., 1].astype(np.int64) * SATURATION_BINS // 256
    val = hsv[..., 2].astype(np.int64) * VALUE_BINS // 256
    bins = (hue * SATURATION_BINS + sat) * VALUE_BINS + val  # (N, H, W) in [0, 256)
    offsets = np.arange(n, dtype=np.int64)[:, None, None] * COLOUR_BINS
    counts = np.bincount((bins + offsets).ravel(), minlength=n * COLOUR_BINS).reshape(n, COLOUR_BINS)
    return (counts / counts.sum(axis=1, keepdims=True)).astype(np.float32)


def reference_subset(histograms: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` rows spread evenly over time: neighbouring frames are near-duplicates anyway."""
    if len(histograms) <= limit:
        return histograms
    return histograms[np.linspace(0, len(histograms) - 1, limit).round().astype(np.int64)]


def colour_distances(histograms: np.ndarray, reference: torch.Tensor | np.ndarray, neighbours: int = 5,
                     batch_size: int = 512) -> np.ndarray:  # fmt: skip
    """(N,) mean L1 distance of each histogram to its ``neighbours`` nearest reference histograms (0..2)."""
    reference = torch.as_tensor(reference, dtype=torch.float32).cpu()
    if len(reference) == 0:
        raise ValueError("the colour reference is empty")
    k = min(neighbours, len(reference))
    out = np.empty(len(histograms), dtype=np.float64)
    for start in range(0, len(histograms), batch_size):
        query = torch.from_numpy(np.ascontiguousarray(histograms[start : start + batch_size]))
        distances = torch.cdist(query[None], reference[None], p=1)[0]  # (B, R)
        out[start : start + len(query)] = distances.topk(k, dim=1, largest=False).values.mean(dim=1).numpy()
    return out


def combine(vae_errors: np.ndarray, colour: np.ndarray, weight: float) -> np.ndarray:
    """Weighted geometric mean: a frame must both rebuild well and have familiar colours to score low.
    In the log domain the weight is all that matters: scales of the two terms fold into the threshold."""
    log_vae, log_colour = np.log(np.maximum(vae_errors, 1e-12)), np.log(np.maximum(colour, 1e-12))
    return np.exp((1.0 - weight) * log_vae + weight * log_colour)
