"""Where in a frame the model sees something foreign: per-pixel error overlays and occlusion sensitivity.

Independent of the model class: callers pass error maps or a ``score_batch`` callable, so any scorer (the VAE,
a colour baseline, a test double) can be explained the same way.

Occlusion sensitivity follows Zeiler & Fergus 2014 ("Visualizing and understanding convolutional networks",
section 4.2): grey out one patch at a time and record how the output changes.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

ScoreBatch = Callable[
    [np.ndarray], np.ndarray
]  # (B, H, W, 3) uint8 RGB -> (B,) scores, higher = more foreign


def colorize(values: np.ndarray, vmin: float | None = None, vmax: float | None = None,
             colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:  # fmt: skip
    """(H, W) float -> (H, W, 3) uint8 RGB through a perceptual colour map; range defaults to min..max."""
    values = np.asarray(values, dtype=np.float32)
    lo = float(np.min(values)) if vmin is None else vmin
    hi = float(np.max(values)) if vmax is None else vmax
    scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    grey = np.clip(scaled * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(grey, colormap), cv2.COLOR_BGR2RGB)


def overlay(frame_rgb: np.ndarray, values: np.ndarray, alpha: float = 0.5, vmin: float | None = None,
            vmax: float | None = None) -> np.ndarray:  # fmt: skip
    """Blend a (h, w) map, upsampled smoothly to the frame's size, over an (H, W, 3) RGB frame."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    h, w = frame_rgb.shape[:2]
    big = cv2.resize(np.asarray(values, dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    heat = colorize(big, vmin=vmin if vmin is not None else float(np.min(values)),
                    vmax=vmax if vmax is not None else float(np.max(values)))  # fmt: skip
    return cv2.addWeighted(np.ascontiguousarray(frame_rgb, dtype=np.uint8), 1.0 - alpha, heat, alpha, 0.0)


def encode_png(image_rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def error_heatmap_png(frame_rgb_full: np.ndarray, error_map: np.ndarray, alpha: float = 0.5,
                      vmax: float | None = None) -> bytes:  # fmt: skip
    """PNG bytes of the full-size frame with the model-size (h, w) error map over it. Pass a shared ``vmax``
    to make the colours of several frames comparable."""
    return encode_png(overlay(frame_rgb_full, error_map, alpha=alpha, vmin=0.0, vmax=vmax))


def _positions(size: int, patch: int, stride: int) -> list[int]:
    """Patch origins along one axis; the last patch is flush with the edge so every pixel is covered."""
    last = max(size - patch, 0)
    return sorted(set(range(0, last + 1, stride)) | {last})


def _fill_value(frame: np.ndarray, fill: str | float) -> np.ndarray:
    if fill == "mean":
        return frame.reshape(-1, 3).mean(axis=0).round().astype(np.uint8)  # (3,) per-channel mean colour
    if fill == "black":
        return np.zeros(3, dtype=np.uint8)
    if isinstance(fill, (int, float)):
        return np.full(3, np.clip(fill, 0, 255), dtype=np.uint8)
    raise ValueError(f"fill must be 'mean', 'black' or a grey level, got {fill!r}")


def occlusion_map(
    frame_small: np.ndarray,
    score_batch: ScoreBatch,
    patch: int = 8,
    stride: int = 4,
    fill: str | float = "mean",
    batch_size: int = 128,
    on_progress: Callable[[float], object] | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8 RGB at model size -> (H, W) float32: how much the score drops when each region is
    occluded, averaged over the overlapping patches covering each pixel. Positive = the region makes the
    frame look foreign; negative = hiding it makes the frame look worse (it looked typical).
    ``on_progress(fraction)`` follows the batches of occluded copies (0..1).

    Cost: one score of (H / stride) * (W / stride) occluded copies, e.g. 322 at 60x96 with the defaults.
    """
    frame = np.ascontiguousarray(frame_small, dtype=np.uint8)
    h, w = frame.shape[:2]
    if patch < 1 or stride < 1:
        raise ValueError("patch and stride must be positive")
    colour = _fill_value(frame, fill)
    base = float(np.asarray(score_batch(frame[None]))[0])
    origins = [(y, x) for y in _positions(h, patch, stride) for x in _positions(w, patch, stride)]
    total = np.zeros((h, w), dtype=np.float64)
    count = np.zeros((h, w), dtype=np.float64)
    for start in range(0, len(origins), batch_size):
        chunk = origins[start : start + batch_size]
        batch = np.repeat(frame[None], len(chunk), axis=0)  # (B, H, W, 3)
        for b, (y, x) in enumerate(chunk):
            batch[b, y : y + patch, x : x + patch] = colour
        drops = base - np.asarray(score_batch(batch), dtype=np.float64)  # (B,)
        for (y, x), drop in zip(chunk, drops, strict=True):
            total[y : y + patch, x : x + patch] += drop
            count[y : y + patch, x : x + patch] += 1
        if on_progress is not None:
            on_progress(min((start + len(chunk)) / len(origins), 1.0))
    return (total / np.maximum(count, 1)).astype(np.float32)


def occlusion_heatmap_png(
    frame_rgb_full: np.ndarray,
    frame_small: np.ndarray,
    score_batch: ScoreBatch,
    alpha: float = 0.5,
    **occlusion_kwargs,
) -> bytes:
    """PNG bytes of the full-size frame with its occlusion map over it (only regions that raise the score
    are coloured; regions that look typical stay dark)."""
    sensitivity = occlusion_map(frame_small, score_batch, **occlusion_kwargs)
    return encode_png(overlay(frame_rgb_full, np.clip(sensitivity, 0.0, None), alpha=alpha, vmin=0.0))
