"""Second pass: a video's own confidently-in frames are a reference for the rest of it, and it is re-scored.

Two ways, both after the first pass of ``scoring.scorer``:

* ``SelfReference`` / ``rescored``: the confident frames' colours join the model's colour reference.
* ``OwnReference`` / ``redecided``: each frame is compared with the video's own confidently-in frames and its
  own out-candidates, through descriptors the product already computes (the HSV histograms of the colour term,
  the VAE's latent means), and its score moves by how much nearer it is to the one than to the other.

The reference frames of a category come from a few matches; an unseen broadcast has its own stadium, kits and
grading. Frames the first pass finds clearly in the category (smoothed normalised score at most
``confident_below``) are the best example of what the category looks like *in this video*; their HSV
histograms are added to the model's colour reference and every frame's colour distance is measured again.
The reconstruction term is unchanged, so the combined score only moves through its colour factor:
``score_2 = score_1 * (colour_2 / colour_1) ** w`` (``scoring.colour.combine``).

The own-video contrast (``redecided``) asks a sharper question. A frame of the video's own broadcaster (its
captions, grading, stadium) is near the video's own in-category shots even where the training matches looked
different; an advert or another sport of the same video is nearer the video's out-candidates. The score is
``score_2 = score_1 * (d_in / d_out / neutral) ** weight``, d the mean distance to the ``neighbours`` nearest
frames of each side, as a geometric mean over the descriptors, and ``neutral`` halfway (in the log) between
the two sides' median contrasts, so the sides' sizes do not shift every score. A frame never vouches for
itself: frames of its own shot
(between two detected cuts) and frames within ``exclude_s`` seconds of it are left out of both sides, so
what counts is other footage of the same video, not the frame's neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from scoring.colour import hsv_histograms, reference_subset, sparse_l1
from scoring.model import ConvVAE
from scoring.scorer import resize_frames

DESCRIPTORS = ("colour", "latent", "lines")
ORIENTATION_BINS = 8  # of the "lines" descriptor, over 0..180 degrees
_QUERY_CHUNK = 512  # frames whose distances to the reference are held at once


@dataclass(frozen=True)
class SelfReference:
    """When and how much of a video's own footage joins the colour reference."""

    confident_below: float = 0.7  # smoothed normalised score at or under which a frame is confidently in
    min_frames: int = 25  # fewer confident frames than this: no second pass (nothing reliable to add)
    max_frames: int = 256  # at most this many of them, spread evenly over the video


def rescored(
    model: ConvVAE, frames: np.ndarray, scores: np.ndarray, confident: np.ndarray, options: SelfReference
) -> np.ndarray:
    """(N,) scores of ``frames`` (N, H, W, 3) after the second pass; ``scores`` (N,) are the first pass's
    normalised scores under ``model`` and ``confident`` (N,) bool marks the frames to add. Returns
    ``scores`` unchanged when the model has no colour term or too few frames are confident."""
    cfg = model.config
    if cfg.colour_weight <= 0 or int(confident.sum()) < options.min_frames:
        return scores
    histograms = cfg.colour_descriptors(resize_frames(frames, cfg.height, cfg.width))  # (N, D)
    reference = model.colour_reference.cpu()
    own = torch.from_numpy(reference_subset(histograms[confident], options.max_frames))
    before = cfg.colour_distances(histograms, reference)
    after = cfg.colour_distances(histograms, torch.cat([reference, own]))
    ratio = np.maximum(after, 1e-12) / np.maximum(before, 1e-12)
    return scores * ratio**cfg.colour_weight


@dataclass(frozen=True)
class OwnReference:
    """How the video's own footage re-decides its frames (``redecided``)."""

    confident_in: float = 0.7  # smoothed first-pass score at or under which a frame is the video's own "in"
    confident_out: float = 1.5  # at or over which a frame is an out-candidate
    exclude_s: float = 3.0  # frames this close in time, or of the same shot, never vouch for each other
    neighbours: int = 5  # nearest frames of each side whose distances are averaged
    weight: float = 1.0  # exponent of the contrast d_in / d_out
    # "colour" (HSV histograms), "latent" (VAE latent means), "lines" (edge orientations and density)
    descriptors: tuple[str, ...] = ("colour", "latent")
    min_frames: int = 25  # fewer frames on either side than this: scores unchanged
    max_reference: int = 512  # frames of each side at most, spread evenly over the video

    def __post_init__(self) -> None:
        if not self.descriptors or set(self.descriptors) - set(DESCRIPTORS):
            raise ValueError(f"descriptors must be some of {DESCRIPTORS}")
        if self.confident_in >= self.confident_out:
            raise ValueError("confident_in must be below confident_out")
        if min(self.exclude_s, self.weight) < 0 or min(self.neighbours, self.min_frames) < 1:
            raise ValueError("exclude_s and weight must be >= 0, neighbours and min_frames >= 1")


@torch.inference_mode()
def frame_descriptors(
    model: ConvVAE, frames: np.ndarray, which: tuple[str, ...] = DESCRIPTORS, batch_size: int = 256
) -> dict[str, np.ndarray]:
    """Per-frame descriptors of uint8 frames (N, H, W, 3), resized to the model input: "colour" (N, D)
    float32 HSV histograms of the model's colour grid (rows sum to 1), "latent" (N, latent_dim) float32
    encoder means (z without noise), "lines" (N, ORIENTATION_BINS * grid**2) float32 ``line_histograms``."""
    cfg = model.config
    out: dict[str, list[np.ndarray]] = {name: [] for name in which}
    model.eval()
    device = next(model.parameters()).device
    for start in range(0, len(frames), batch_size):
        chunk = resize_frames(frames[start : start + batch_size], cfg.height, cfg.width)
        if "colour" in out:
            out["colour"].append(cfg.colour_descriptors(chunk))
        if "lines" in out:
            out["lines"].append(line_histograms(chunk, cfg.colour_grid))
        if "latent" in out:
            x = torch.from_numpy(np.ascontiguousarray(chunk)).to(device).permute(0, 3, 1, 2).float() / 255.0
            out["latent"].append(model.encode(x)[0].float().cpu().numpy())
    grid = cfg.colour_grid
    sizes = {"colour": hsv_histograms(frames[:0], grid).shape[1], "latent": cfg.latent_dim}
    sizes["lines"] = ORIENTATION_BINS * grid * grid
    return {k: np.concatenate(v) if v else np.zeros((0, sizes[k]), np.float32) for k, v in out.items()}


def line_histograms(frames: np.ndarray, grid: int = 1) -> np.ndarray:
    """uint8 RGB (N, H, W, 3) -> (N, ORIENTATION_BINS * grid**2) float32: per cell of a grid x grid split,
    the grey-level gradient magnitude (Sobel, 0..1 per pixel) summed by orientation and divided by the
    frame's pixel count, so the vector tells both how many edges there are and which way they run. The
    yard lines of an American football field are many parallel lines across the grass; a soccer pitch has
    few."""
    n, height, width = frames.shape[:3]
    out = np.zeros((n, grid, grid, ORIENTATION_BINS), np.float32)
    rows = np.arange(height) * grid // height
    cols = np.arange(width) * grid // width
    cell = (rows[:, None] * grid + cols[None, :]).ravel()  # (H * W,) cell of each pixel
    for i, frame in enumerate(frames):
        grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        magnitude = np.sqrt(gx * gx + gy * gy).ravel() / 4.0  # a Sobel step of 1 gives 4
        angle = (np.arctan2(gy, gx).ravel() % np.pi) / np.pi  # 0..1 over 0..180 degrees
        bins = np.minimum((angle * ORIENTATION_BINS).astype(np.int64), ORIENTATION_BINS - 1)
        counts = np.bincount(cell * ORIENTATION_BINS + bins, magnitude, grid * grid * ORIENTATION_BINS)
        out[i] = counts.reshape(grid, grid, ORIENTATION_BINS)
    return out.reshape(n, -1) / float(height * width)


def shot_ids(timestamps_s: np.ndarray, cut_times_s: np.ndarray) -> np.ndarray:
    """(N,) int: the shot each frame belongs to, counting the cuts (times of each new shot's first frame)
    at or before it."""
    return np.searchsorted(np.sort(np.asarray(cut_times_s, dtype=np.float64)), timestamps_s, side="right")


def own_distances(
    descriptors: np.ndarray,
    reference: np.ndarray,
    timestamps_s: np.ndarray,
    shots: np.ndarray,
    exclude_s: float,
    neighbours: int,
    metric: str,
) -> np.ndarray:
    """(N,) mean distance of each frame's descriptor (N, D) to its ``neighbours`` nearest frames among
    ``reference`` (R,) (indices into the same frames), leaving out those of its own shot (``shots`` (N,))
    and those within ``exclude_s`` seconds; NaN where no reference frame is left. ``metric``: "l1"
    (histograms, non-negative) or "l2" (latent means)."""
    out = np.full(len(descriptors), np.nan)
    if len(reference) == 0:
        return out
    ref = torch.from_numpy(np.ascontiguousarray(descriptors[reference], dtype=np.float32))
    ref_times, ref_shots = timestamps_s[reference], shots[reference]
    in_ref = (ref > 0).any(dim=0)
    for start in range(0, len(descriptors), _QUERY_CHUNK):
        rows = slice(start, start + _QUERY_CHUNK)
        query = torch.from_numpy(np.ascontiguousarray(descriptors[rows], dtype=np.float32))
        if metric == "l1":
            dist = sparse_l1(query, ref, in_ref).numpy().astype(np.float64)
        else:
            dist = torch.cdist(query[None], ref[None])[0].numpy().astype(np.float64)
        near = np.abs(timestamps_s[rows, None] - ref_times[None, :]) < exclude_s
        dist[near | (shots[rows, None] == ref_shots[None, :])] = np.inf
        k = min(neighbours, dist.shape[1])
        nearest = np.partition(dist, k - 1, axis=1)[:, :k]  # (Q, k), inf where too few are left
        finite = np.isfinite(nearest)
        count = finite.sum(axis=1)
        total = np.where(finite, nearest, 0.0).sum(axis=1)
        out[rows] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def _spread(index: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` of the sorted indices, spread evenly over them."""
    if len(index) <= limit:
        return index
    return index[np.linspace(0, len(index) - 1, limit).round().astype(np.int64)]


def contrast(
    descriptors: dict[str, np.ndarray],
    smoothed: np.ndarray,
    timestamps_s: np.ndarray,
    shots: np.ndarray,
    options: OwnReference,
) -> np.ndarray:
    """(N,) d_in / d_out, the geometric mean over ``descriptors`` (name -> (N, D)) of each frame's distance
    to the video's confidently-in frames (``smoothed`` (N,) <= ``confident_in``) over its distance to the
    out-candidates (>= ``confident_out``), divided by the neutral contrast (the geometric mean of the two
    sides' median contrasts); 1 where either side has fewer than ``min_frames`` frames, and the neutral
    value where nothing is left of a side after the exclusions."""
    inside = _spread(np.flatnonzero(smoothed <= options.confident_in), options.max_reference)
    outside = _spread(np.flatnonzero(smoothed >= options.confident_out), options.max_reference)
    ratio = np.ones(len(smoothed))
    if min(len(inside), len(outside)) < options.min_frames:
        return ratio
    log_ratio = np.zeros(len(smoothed))
    for name in options.descriptors:
        metric = "l2" if name == "latent" else "l1"
        sides = [
            own_distances(
                descriptors[name], side, timestamps_s, shots, options.exclude_s, options.neighbours, metric
            )
            for side in (inside, outside)
        ]
        d_in, d_out = (np.maximum(d, 1e-9) for d in sides)
        log_ratio += np.where(np.isfinite(d_in) & np.isfinite(d_out), np.log(d_in / d_out), 0.0)
    log_ratio /= len(options.descriptors)
    # The sides differ in size and spread (a video is mostly in), so d_in < d_out for most frames of either
    # side; the neutral contrast is halfway (in the log) between the typical in-frame's and out-frame's
    neutral = 0.5 * (np.median(log_ratio[inside]) + np.median(log_ratio[outside]))
    return np.exp(log_ratio - neutral)


def redecided(
    model: ConvVAE,
    frames: np.ndarray,
    scores: np.ndarray,
    smoothed: np.ndarray,
    timestamps_s: np.ndarray,
    cut_times_s: np.ndarray,
    options: OwnReference,
) -> np.ndarray:
    """(N,) scores of ``frames`` (N, H, W, 3) after comparing each with the video's own footage:
    ``scores * (d_in / d_out) ** weight`` (``contrast``); ``scores`` (N,) are the first pass's normalised
    scores under ``model``, ``smoothed`` (N,) the ones that pick the two sides, ``timestamps_s`` (N,) and
    ``cut_times_s`` the shot cuts, so a frame's own shot is excluded. Unchanged where a side is too small."""
    if len(frames) == 0:
        return scores
    times = np.asarray(timestamps_s, dtype=np.float64)
    descriptors = frame_descriptors(model, frames, options.descriptors)
    ratio = contrast(descriptors, smoothed, times, shot_ids(times, cut_times_s), options)
    return scores * ratio**options.weight
