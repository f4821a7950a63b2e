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
# Lookup tables from 8-bit H (OpenCV: 0..179), S and V to each channel's share of the joint bin index, so
# one uint8 addition gives the bin: hue * 16 + saturation * 4 + value
_HUE_PART = (np.arange(256) * HUE_BINS // 180).clip(0, HUE_BINS - 1).astype(np.uint8) * (
    SATURATION_BINS * VALUE_BINS
)
_SATURATION_PART = (np.arange(256) * SATURATION_BINS // 256).astype(np.uint8) * VALUE_BINS
_VALUE_PART = (np.arange(256) * VALUE_BINS // 256).astype(np.uint8)


def hsv_histograms(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB (N, H, W, 3) -> (N, 256) float32 joint HSV histograms (16 hue x 4 saturation x 4 value bins),
    each summing to 1."""
    n, height, width = frames.shape[:3]
    out = np.zeros((n, COLOUR_BINS), np.float32)
    if n == 0:
        return out
    # one colour conversion for the whole batch, stacked as one tall image
    hsv = cv2.cvtColor(
        np.ascontiguousarray(frames, dtype=np.uint8).reshape(n * height, width, 3), cv2.COLOR_RGB2HSV
    )
    bins = _HUE_PART[hsv[..., 0]] + _SATURATION_PART[hsv[..., 1]] + _VALUE_PART[hsv[..., 2]]  # uint8
    for i, frame_bins in enumerate(bins.reshape(n, height * width)):
        out[i] = np.bincount(frame_bins, minlength=COLOUR_BINS)
    return out / (height * width)


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
