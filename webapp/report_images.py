"""Images for the reports, computed on demand from a run's (or a model's) network and cached as PNG files.

A clicked frame of a run gets three pictures: the frame itself, the model's reconstruction of it, and the
per-pixel error over the frame; an occlusion-sensitivity map is a job (``workers/report_tasks.py``) because it
scores hundreds of occluded copies. Files live under ``MEDIA_ROOT/runs/<run>/heatmaps/`` (deleted with the
run); the three pictures of clicked frames are a cache of at most ``OFFSIDE_REPORT_IMAGE_CACHE_FILES`` files,
the oldest removed first, while occlusion maps (each the result of a job) stay.

Where the three pictures are made, and why: in the request, but never from a decoded video frame. The frame
shown is the video's preview-store JPEG nearest the frame's time (at most 320 px wide, made by the worker at
probe time); the reconstruction and the error map come from the model's input, the run's own frame set at
the model's small size (or that preview resized down when the frame set is gone). One forward pass of one
frame that small costs milliseconds, whereas making them on the worker at scoring time for every scored
frame (tens of thousands in a match) would store pictures nobody opens.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from scoring.files import write_atomic
from scoring.heatmaps import encode_png, error_heatmap_png, occlusion_heatmap_png
from scoring.previews import decode_preview
from scoring.scorer import frame_errors, reconstructed_frames, resize_frames, weighted_error_maps

DISPLAY_WIDTH = 480  # frames are shown side by side; no need for full resolution
KINDS = ("frame", "recon", "error", "occlusion")
CACHED_KINDS = ("frame", "recon", "error")  # made in requests, evicted oldest first; occlusion maps stay


def heatmap_path(run, index: int, model_index: int, kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown image kind {kind!r}")
    return run.directory / "heatmaps" / f"{int(index)}-m{int(model_index)}-{kind}.png"


def display_frame(video, t_s: float) -> np.ndarray:
    """The frame shown at ``t_s``, at most DISPLAY_WIDTH wide, RGB (H, W, 3), decoded from the video: for
    worker jobs only (the occlusion map), never in a request."""
    from scoring.frames import read_frame_at
    from webapp.models.videos import decode_limits

    limits = decode_limits()
    return read_frame_at(video.original_path, t_s, max_width=DISPLAY_WIDTH, past_end="last", limits=limits)


def model_input(frameset_frames: np.ndarray | None, index: int, full: np.ndarray, config) -> np.ndarray:
    """The frame the scorer saw (from the run's frame set when it is still there), at the model's size."""
    source = full[None] if frameset_frames is None else np.asarray(frameset_frames[index : index + 1])
    return resize_frames(source, config.height, config.width)  # (1, h, w, 3)


def upscale(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)


def cached_frame_set(run, index: int, model_index: int) -> dict[str, Path] | None:
    """The three cached pictures of one frame, or None when any of them is missing."""
    paths = {kind: heatmap_path(run, index, model_index, kind) for kind in CACHED_KINDS}
    return paths if all(p.is_file() for p in paths.values()) else None


def render_frame_set(run, trained, frameset_frames, index: int, preview: bytes, model_index: int,
                     max_files: int) -> dict[str, Path]:  # fmt: skip
    """Write frame, reconstruction and error PNGs of one frame from its ``preview`` JPEG (see the module doc)
    and keep the run's cache within ``max_files`` pictures. With ``trained`` None (the run's model version
    was deleted) only the frame is written and returned."""
    shown = decode_preview(preview)  # (h, w, 3) RGB, at most 320 px wide
    paths = {kind: heatmap_path(run, index, model_index, kind) for kind in CACHED_KINDS}
    write_atomic(paths["frame"], encode_png(shown))
    if trained is None:
        paths = {"frame": paths["frame"]}
    else:
        small = model_input(frameset_frames, index, shown, trained.config)
        h, w = shown.shape[:2]
        write_atomic(paths["recon"], encode_png(upscale(reconstructed_frames(trained.model, small)[0], w, h)))
        write_atomic(paths["error"], error_heatmap_png(shown, weighted_error_maps(trained.model, small)[0]))
    bound_cache(paths["frame"].parent, max_files, keep=set(paths.values()))
    return paths


def bound_cache(folder: Path, max_files: int, keep: set[Path] = frozenset()) -> int:
    """Delete the oldest (by modification time) pictures of ``CACHED_KINDS`` in ``folder`` beyond
    ``max_files``, never those in ``keep`` (the ones being served); returns how many went."""
    dated = []
    for path in folder.glob("*.png"):
        if path.stem.rsplit("-", 1)[-1] not in CACHED_KINDS or path in keep:
            continue
        try:
            dated.append((path.stat().st_mtime_ns, path))
        except FileNotFoundError:  # another request evicted it meanwhile
            continue
    excess = len(dated) + len(keep) - max_files
    if excess <= 0:
        return 0
    for _, path in sorted(dated)[:excess]:
        path.unlink(missing_ok=True)
    return min(excess, len(dated))


def render_occlusion(run, trained, frameset_frames, index: int, t_s: float, model_index: int, report=None):
    """Occlusion sensitivity (Zeiler & Fergus 2014) of one frame as a PNG; ``report(fraction)`` per batch."""
    full = display_frame(run.video, t_s)
    small = model_input(frameset_frames, index, full, trained.config)[0]

    def score_batch(batch: np.ndarray) -> np.ndarray:
        return frame_errors(trained.model, batch) / trained.threshold

    png = occlusion_heatmap_png(full, small, score_batch, batch_size=OCCLUSION_BATCH, on_progress=report)
    return write_atomic(heatmap_path(run, index, model_index, "occlusion"), png)


OCCLUSION_BATCH = 16  # occluded copies scored at once: small enough for a progress bar that moves


# --- image grids for the model report -----------------------------------------------------------------------


def tile(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """uint8 (N, h, w, 3) -> one (rows * (h + gap), columns * (w + gap), 3) picture, white gaps."""
    n, h, w, _ = images.shape
    rows = max(1, -(-n // columns))
    sheet = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        sheet[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return sheet


def enlarge(sheet: np.ndarray, tile_width: int, target_width: int = 160) -> np.ndarray:
    """Blow small model-size tiles up (nearest neighbour, so pixels stay honest) to about ``target_width``."""
    factor = max(1, min(4, round(target_width / max(tile_width, 1))))
    return cv2.resize(sheet, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)


def pairs_grid(frames: np.ndarray, model, columns: int = 8) -> bytes:
    """Inputs on odd rows, their reconstructions right below, ``columns`` pairs per row band."""
    recon = reconstructed_frames(model, frames)
    bands = []
    for start in range(0, len(frames), columns):
        chunk = slice(start, start + columns)
        pad = columns - len(frames[chunk])
        block = np.concatenate([frames[chunk], np.full((pad, *frames.shape[1:]), 255, np.uint8)])
        rblock = np.concatenate([recon[chunk], np.full((pad, *frames.shape[1:]), 255, np.uint8)])
        bands.append(tile(np.concatenate([block, rblock]), columns))
    gap = np.full((6, bands[0].shape[1], 3), 255, dtype=np.uint8)
    sheet = np.concatenate([x for band in bands for x in (band, gap)][:-1])
    return encode_png(enlarge(sheet, frames.shape[2]))
