"""Colour statistics of a category: how far a frame's HSV histogram is from its nearest reference frames.

The VAE's error asks whether a frame's texture and layout can be rebuilt; a tennis court (flat blue and
green) or a cricket field rebuild well enough, yet their colours are not a soccer broadcast's. The quality
benchmark (docs/BENCHMARKS.md) combines both: ``combined = vae_error ** (1 - w) * colour_distance ** w``.

With ``grid`` > 1 each frame gets one histogram per cell of a grid x grid split, concatenated: where the
colours are matters too (a blue tennis court in the middle of the picture, green around it, has a green and
blue mix that some soccer frame with blue stands shares; split in quarters it shares it with none).
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


def histogram_size(grid: int = 1) -> int:
    """Length of one frame's histogram: COLOUR_BINS per grid cell."""
    return COLOUR_BINS * grid * grid


def _cell_offsets(height: int, width: int, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) int64 offset of each pixel's cell in the concatenated histogram, and (grid * grid,) the
    number of pixels in each cell (cells differ by a row or column when the size does not divide)."""
    rows = np.arange(height) * grid // height  # (H,) cell row of each pixel row
    cols = np.arange(width) * grid // width
    cells = rows[:, None] * grid + cols[None, :]  # (H, W)
    return cells * COLOUR_BINS, np.bincount(cells.ravel(), minlength=grid * grid)


def hsv_histograms(frames: np.ndarray, grid: int = 1) -> np.ndarray:
    """uint8 RGB (N, H, W, 3) -> (N, 256 * grid**2) float32 joint HSV histograms (16 hue x 4 saturation x 4
    value bins) of each cell of a grid x grid split, concatenated row by row; each cell's histogram sums to
    1 / grid**2, so a frame's sums to 1 and L1 distances stay in 0..2 whatever the grid."""
    if grid < 1:
        raise ValueError("the colour grid needs at least one cell")
    n, height, width = frames.shape[:3]
    size = histogram_size(grid)
    out = np.zeros((n, size), np.float32)
    if n == 0:
        return out
    if height < grid or width < grid:
        raise ValueError(f"a {height}x{width} frame cannot be split into {grid}x{grid} cells")
    # one colour conversion for the whole batch, stacked as one tall image
    hsv = cv2.cvtColor(
        np.ascontiguousarray(frames, dtype=np.uint8).reshape(n * height, width, 3), cv2.COLOR_RGB2HSV
    )
    bins = _HUE_PART[hsv[..., 0]] + _SATURATION_PART[hsv[..., 1]] + _VALUE_PART[hsv[..., 2]]  # uint8
    offsets, cell_pixels = _cell_offsets(height, width, grid)
    if grid == 1:  # the uint8 bins index the histogram as they are
        flat = bins.reshape(n, height * width)
    else:
        flat = (bins.reshape(n, height, width) + offsets).reshape(n, height * width)  # int64
    for i, frame_bins in enumerate(flat):
        out[i] = np.bincount(frame_bins, minlength=size)
    return out / np.repeat(cell_pixels * grid * grid, COLOUR_BINS).astype(np.float32)


def colour_descriptors(
    frames: np.ndarray, grid: int = 1, hue_blur: float = 0.0, power: float = 1.0
) -> np.ndarray:
    """uint8 RGB (N, H, W, 3) -> (N, 256 * grid**2) float32: ``hsv_histograms``, each bin then sharing
    ``hue_blur`` of its mass with each of its two neighbouring hue bins (circularly, same saturation and
    value), and every bin raised to ``power``. L1 distances between them are the colour term's distances.

    Why: a plain histogram's L1 distance is decided by its largest bins (the grass) and a hue bin boundary
    (16 bins of 22.5 degrees) turns a slightly different grading of the same pitch into a different colour.
    Blurring along hue makes neighbouring hues partly equal (a cheap stand-in for an earth mover's distance
    along hue); a power below 1 is the power normalisation of image retrieval (Perronnin, Sanchez & Mensink,
    "Improving the Fisher kernel", ECCV 2010), which lets the small bins (kit, lines, crowd, graphics) count
    against the pitch's mass. Chosen on the leave-one-match-out protocol (docs/BENCHMARKS.md)."""
    if not 0.0 <= hue_blur < 0.5:
        raise ValueError("hue_blur must be in [0, 0.5)")
    if not 0.0 < power <= 1.0:
        raise ValueError("power must be in (0, 1]")
    histograms = hsv_histograms(frames, grid)
    if hue_blur > 0:
        cells = histograms.reshape(len(histograms), -1, HUE_BINS, SATURATION_BINS * VALUE_BINS)
        blurred = (1.0 - 2.0 * hue_blur) * cells + hue_blur * (
            np.roll(cells, 1, axis=2) + np.roll(cells, -1, axis=2)
        )
        histograms = blurred.reshape(histograms.shape).astype(np.float32)
    if power != 1.0:
        histograms = np.power(histograms, power, dtype=np.float32)
    return histograms


def reference_subset(histograms: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` rows spread evenly over time: neighbouring frames are near-duplicates anyway."""
    if len(histograms) <= limit:
        return histograms
    return histograms[np.linspace(0, len(histograms) - 1, limit).round().astype(np.int64)]


def colour_distances(histograms: np.ndarray, reference: torch.Tensor | np.ndarray, neighbours: int = 5,
                     batch_size: int = 512, cells: int = 1) -> np.ndarray:  # fmt: skip
    """(N,) mean L1 distance of each histogram to its ``neighbours`` nearest reference histograms (0..2 for
    plain histograms, more after a ``colour_descriptors`` power below 1).

    With ``cells`` > 1 the descriptors (N, D) and (R, D) are ``cells`` equal parts, one per grid cell, and
    each cell finds its own nearest reference cells at the same position, in any reference frame; the
    distance is the sum over cells (same 0..2 scale). A frame made of familiar parts in a combination no
    reference frame shows (an unseen match's close-up: its grass like one match's, its stands like
    another's) is then near, as a whole-frame comparison would not find it."""
    reference = torch.as_tensor(reference, dtype=torch.float32).cpu()
    if len(reference) == 0:
        raise ValueError("the colour reference is empty")
    if cells > 1:
        if histograms.shape[1] % cells or reference.shape[1] % cells:
            raise ValueError(
                f"descriptors of {histograms.shape[1]} values cannot be split into {cells} cells"
            )
        parts = histograms.reshape(len(histograms), cells, -1)
        references = reference.reshape(len(reference), cells, -1)
        return sum(
            colour_distances(
                np.ascontiguousarray(parts[:, c]), references[:, c].contiguous(), neighbours, batch_size
            )
            for c in range(cells)
        )
    k = min(neighbours, len(reference))
    in_reference = (reference > 0).any(dim=0)  # (bins,) those some reference frame uses
    out = np.empty(len(histograms), dtype=np.float64)
    for start in range(0, len(histograms), batch_size):
        query = torch.from_numpy(np.ascontiguousarray(histograms[start : start + batch_size]))
        distances = sparse_l1(query, reference, in_reference)  # (B, R)
        out[start : start + len(query)] = distances.topk(k, dim=1, largest=False).values.mean(dim=1).numpy()
    return out


def sparse_l1(query: torch.Tensor, reference: torch.Tensor, in_reference: torch.Tensor) -> torch.Tensor:
    """All L1 distances (Q, R), exactly, comparing bin by bin only where both sides have colour: a frame
    uses a few hundred of the bins, so this is 1.5 to 3x faster than the full ``cdist``.

    A bin no query uses adds each reference's mass there, and a bin no reference uses adds each query's.
    """
    in_query = (query > 0).any(dim=0)
    both = in_query & in_reference
    distances = torch.cdist(query[:, both][None], reference[:, both][None], p=1)[0]
    distances += query[:, in_query & ~in_reference].sum(dim=1, keepdim=True)
    distances += reference[:, ~in_query].sum(dim=1)[None, :]
    return distances


def negative_factor(
    histograms: np.ndarray,
    distances: np.ndarray,
    negatives: torch.Tensor | np.ndarray,
    neighbours: int = 5,
    cells: int = 1,
) -> np.ndarray:
    """(N,) >= 1: how much nearer each frame's histogram is to the negative clips' frames than to the
    category's (``distances`` (N,) to the category's reference): d_category / d_negative where that exceeds
    1, else 1. A frame of a sport the user marked "not this category" is pushed out by as much as it resembles
    that sport more than the category; frames nearer the category are left alone. Ones without negatives.
    ``cells``: as in ``colour_distances``, the same as for ``distances``."""
    if len(negatives) == 0 or len(histograms) == 0:
        return np.ones(len(histograms))
    to_negatives = colour_distances(histograms, negatives, neighbours, cells=cells)
    return np.maximum(np.asarray(distances) / np.maximum(to_negatives, 1e-6), 1.0)


def combine(vae_errors: np.ndarray, colour: np.ndarray, weight: float) -> np.ndarray:
    """Weighted geometric mean: a frame must both rebuild well and have familiar colours to score low.
    In the log domain the weight is all that matters: scales of the two terms fold into the threshold."""
    log_vae, log_colour = np.log(np.maximum(vae_errors, 1e-12)), np.log(np.maximum(colour, 1e-12))
    return np.exp((1.0 - weight) * log_vae + weight * log_colour)
