"""Batched scoring: reconstruction error per frame (decoder mean, z = mu), normalised by category thresholds.

Normalised score = error / threshold, so 1.0 is the boundary for every category and scores are comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from scoring.colour import combine
from scoring.model import ConvVAE

UNKNOWN = "unknown"
DEFAULT_BATCH = 256  # measured fastest on the 2-core CPU (1130 frames/s at 54x96, idle machine)


@dataclass(frozen=True)
class CategoryModel:
    """What scoring needs from one trained category."""

    name: str
    model: ConvVAE
    threshold: float


@dataclass(frozen=True)
class ScoreResult:
    """Per-frame scores of one video against one or more categories, and the temporal decisions."""

    timestamps_s: np.ndarray  # (N,)
    categories: list[str]  # K names
    thresholds: np.ndarray  # (K,)
    errors: np.ndarray  # (K, N) raw reconstruction errors
    scores: np.ndarray  # (K, N) normalised: errors / thresholds
    smoothed: np.ndarray  # (N,) best (lowest) normalised score after temporal smoothing
    labels: list[str]  # (N,) winning category per frame, or "unknown"
    out: np.ndarray  # (N,) bool: final decision after smoothing, hysteresis and minimum segment length
    segments: list = field(default_factory=list)  # scoring.segments.Segment, in time order

    @property
    def best_scores(self) -> np.ndarray:
        """(N,) lowest raw normalised score over categories."""
        return self.scores.min(axis=0)


def resize_frames(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 (N, h, w, 3) -> (N, height, width, 3), area interpolation; a no-op at the right size."""
    if frames.shape[1:3] == (height, width):
        return frames
    out = np.empty((len(frames), height, width, frames.shape[3]), dtype=np.uint8)
    for i, frame in enumerate(frames):
        out[i] = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return out


def _to_input(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    if not frames.flags.writeable:  # memory-mapped frame sets are read-only; torch wants a writable array
        frames = frames.copy()
    x = torch.from_numpy(np.ascontiguousarray(frames)).to(device)  # (B, H, W, C) uint8
    return x.permute(0, 3, 1, 2).float().div_(255.0)  # (B, C, H, W) in [0, 1]


def pixel_errors(x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """Squared error per pixel averaged over colour channels: (B, C, H, W) -> (B, H, W)."""
    return (recon.float() - x.float()).pow(2).mean(dim=1)


def aggregate_errors(
    err: torch.Tensor, pool: int = 1, quantile: float | None = None, scale: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-frame error (B,) from per-pixel errors (B, H, W): divided by ``scale`` (H, W), average-pooled by
    ``pool``, then their mean or their ``quantile``-th quantile.

    A low quantile asks "is most of this frame made of what the category looks like?": a soccer close-up
    keeps its grass and stands well reconstructed even when the players in front are not.
    """
    if scale is not None:
        err = err / scale
    err = err[:, None]  # (B, 1, H, W)
    if pool > 1:
        err = F.avg_pool2d(err, pool, ceil_mode=True)  # (B, 1, H / pool, W / pool)
    flat = err.flatten(1)  # (B, P)
    if quantile is None:
        return flat.mean(dim=1)
    k = min(flat.shape[1], max(1, round(quantile * flat.shape[1])))
    return flat.kthvalue(k, dim=1).values


def model_error(model: ConvVAE, err: torch.Tensor) -> torch.Tensor:
    """Per-frame reconstruction error (B,) from per-pixel errors (B, H, W) as ``model``'s configuration
    defines it (without the colour term: see ``with_colour``)."""
    cfg = model.config
    scale = model.error_scale.to(err.device) if cfg.normalise_pixels else None
    return aggregate_errors(err, cfg.error_pool, cfg.error_quantile, scale)


def _for_inference(model: ConvVAE) -> None:
    """Evaluation mode, weights in channels-last layout: its convolutions run about 1.5x faster on the CPU
    (the decoder's transposed ones most). Once per call, not per batch."""
    model.eval()
    model.to(memory_format=torch.channels_last)


@torch.inference_mode()
def _reconstruct(model: ConvVAE, frames: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, reconstruction), both (B, C, H, W) in [0, 1], decoder mean at z = mu; ``frames`` are resized
    to the model input when needed."""
    cfg = model.config
    device = next(model.parameters()).device
    x = _to_input(resize_frames(frames, cfg.height, cfg.width), device)
    x = x.contiguous(memory_format=torch.channels_last)  # matches the weights' layout (_for_inference)
    return x, model.decode(model.encode(x)[0])


@torch.inference_mode()
def reconstructed_frames(model: ConvVAE, frames: np.ndarray) -> np.ndarray:
    """uint8 (B, h, w, 3) reconstructions (decoder mean at z = mu) of ``frames`` at the model's size."""
    _for_inference(model)
    recon = _reconstruct(model, frames)[1]  # (B, C, h, w) in [0, 1]
    return recon.permute(0, 2, 3, 1).clamp(0, 1).mul(255).round().byte().cpu().numpy()


def reused_frames(frames: np.ndarray, reuse_below: float) -> np.ndarray:
    """(N,) int64: for each uint8 frame (N, H, W, 3), the index of the frame whose score it takes: its own,
    or that of the last frame that kept its own when the two differ by less than ``reuse_below`` grey levels
    on average (mean absolute difference over pixels and channels). Compared with the last kept frame, not the
    previous one, so a slow pan cannot drift further than ``reuse_below`` from the frame actually scored."""
    source = np.arange(len(frames), dtype=np.int64)
    if reuse_below <= 0 or len(frames) == 0:
        return source
    limit = reuse_below * frames[0].size  # the L1 norm is a sum over pixels and channels
    kept = 0
    for i in range(1, len(frames)):
        if cv2.norm(frames[i], frames[kept], cv2.NORM_L1) < limit:
            source[i] = kept
        else:
            kept = i
    return source


@torch.inference_mode()
def frame_errors(
    model: ConvVAE,
    frames: np.ndarray,
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int], None] | None = None,
    reuse_below: float = 0.0,
) -> np.ndarray:
    """Reconstruction error (N,) of uint8 frames (N, H, W, 3), resized to the model input when needed.

    With ``reuse_below`` > 0 (grey levels, 0..255), a frame within that mean absolute difference of the last
    frame scored takes its score instead of running the network (``reused_frames``): an approximation,
    measured on the broadcast in docs/BENCHMARKS.md ("Scoring throughput"). 0 scores every frame.
    """
    if reuse_below > 0 and len(frames):
        cfg = model.config
        small = resize_frames(frames, cfg.height, cfg.width)
        source = reused_frames(small, reuse_below)
        scored, where = np.unique(source, return_inverse=True)  # scored frames, each frame's among them
        errors = frame_errors(model, small[scored], batch_size, on_batch)
        if on_batch is not None and len(frames) > len(scored):
            on_batch(len(frames) - len(scored))  # the reused ones count as done
        return errors[where]
    _for_inference(model)
    cfg = model.config
    errors = np.empty(len(frames), dtype=np.float64)
    for start in range(0, len(frames), batch_size):
        # resized once here: the reconstruction and the colour term both read the model-size frames
        chunk = resize_frames(frames[start : start + batch_size], cfg.height, cfg.width)
        x, recon = _reconstruct(model, chunk)
        vae = model_error(model, pixel_errors(x, recon)).double().cpu().numpy()
        errors[start : start + len(chunk)] = with_colour(model, vae, chunk)
        if on_batch is not None:
            on_batch(len(chunk))
    return errors


def with_colour(model: ConvVAE, vae_errors: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The frame score: the reconstruction error, combined with the colour distance when the model has one;
    ``frames`` are at the model's input size."""
    cfg = model.config
    if cfg.colour_weight <= 0:
        return vae_errors
    histograms = cfg.colour_descriptors(frames)
    colour = cfg.colour_distances(histograms, model.colour_reference)
    colour = colour * cfg.negative_factor(histograms, colour, model.negative_reference)
    return combine(vae_errors, colour, cfg.colour_weight)


@torch.inference_mode()
def error_maps(model: ConvVAE, frames: np.ndarray, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """Per-pixel squared error (N, H, W) float32 at the model's input size, averaged over colour channels
    (not divided by the model's error scale)."""
    _for_inference(model)
    maps = [
        pixel_errors(*_reconstruct(model, frames[s : s + batch_size]))
        for s in range(0, len(frames), batch_size)
    ]
    return (
        torch.cat(maps).cpu().numpy()
        if maps
        else np.zeros((0, model.config.height, model.config.width), np.float32)
    )


def weighted_error_maps(model: ConvVAE, frames: np.ndarray) -> np.ndarray:
    """Per-pixel errors (N, H, W) as the frame score weighs them: divided by the model's per-pixel scale
    when its configuration normalises pixels (what a heatmap should show), plain ``error_maps`` otherwise."""
    maps = error_maps(model, frames)
    if model.config.normalise_pixels:
        maps = maps / model.error_scale.cpu().numpy()
    return maps


def normalised_scores(
    categories: Sequence[CategoryModel],
    frames: np.ndarray,
    on_batch: Callable[[int], None] | None = None,
    reuse_below: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(errors (K, N), scores (K, N)) for every category; scores = errors / threshold. ``reuse_below``: see
    ``frame_errors`` (0: every frame through every network)."""
    errors = np.stack([
        frame_errors(c.model, frames, on_batch=on_batch, reuse_below=reuse_below) for c in categories
    ])  # fmt: skip
    thresholds = np.array([c.threshold for c in categories], dtype=np.float64)[:, None]
    return errors, errors / thresholds
