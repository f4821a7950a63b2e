"""High-level API shared by the Celery workers and the command line: train a category, score a video's frames.

Workers stay thin: they load rows and frame files, call ``train_category`` / ``score_frames`` with a progress
callback, and save what comes back (``save_checkpoint``, ``ScoreResult``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from scoring import calibration as cal
from scoring.checkpoint import TrainedCategory, load_checkpoint, save_checkpoint
from scoring.colour import combine, reference_subset
from scoring.device import choose_device, describe
from scoring.frames import FrameStream
from scoring.heatmaps import error_heatmap_png, occlusion_heatmap_png
from scoring.model import ConvVAE, VAEConfig
from scoring.scorer import (
    UNKNOWN,
    CategoryModel,
    ScoreResult,
    error_maps,
    frame_errors,
    model_error,
    normalised_scores,
    resize_frames,
    weighted_error_maps,
)
from scoring.segments import TemporalParams, decide_segments, smooth_scores, temporal_scores
from scoring.selfref import OwnReference, SelfReference, redecided, rescored
from scoring.shotcuts import detect_shot_cuts
from scoring.training import ProgressCallback, TrainConfig, TrainingCancelled, train_vae

__all__ = [
    "DEFAULT_TRAIN_FPS",
    "CalibrationOptions",
    "ClipFrames",
    "ScoreResult",
    "TrainedCategory",
    "TrainingCancelled",
    "TrainingOptions",
    "default_model_config",
    "default_temporal_params",
    "heatmap_png",
    "load_checkpoint",
    "save_checkpoint",
    "decide_scores",
    "score_frames",
    "train_category",
]


# Frames per second that training samples from reference clips: the dashboard's OFFSIDE_TRAIN_FPS default and
# the command line's, the rate the leave-one-match-out benchmark trains at (docs/BENCHMARKS.md)
DEFAULT_TRAIN_FPS = 5.0


class HasFrames(Protocol):
    frames: np.ndarray
    timestamps_s: np.ndarray


@dataclass(frozen=True)
class ClipFrames:
    """Frames of one reference clip (or a time range of one): uint8 (N, H, W, 3) RGB and timestamps (N,)."""

    frames: np.ndarray
    timestamps_s: np.ndarray
    source: str = ""

    @classmethod
    def of(cls, frameset: HasFrames, source: str = "") -> ClipFrames:
        """Wrap anything with ``frames`` and ``timestamps_s`` (e.g. ``scoring.frames.FrameSet``)."""
        return cls(frameset.frames, frameset.timestamps_s, source or str(getattr(frameset, "source", "")))


@dataclass(frozen=True)
class CalibrationOptions:
    percentile: float = cal.DEFAULT_PERCENTILE
    # "percentile", "f1" (the F1-optimal threshold, needs negatives) or "auto": f1 when negatives are given
    method: str = cal.DEFAULT_METHOD
    # "clips": leave one reference clip out at a time, train on the rest, and take the held-out clip's losses,
    # so the threshold reflects footage the model has never seen; "blocks": the final model's held-out blocks
    holdout: str = "clips"
    # epochs of each leave-one-clip-out model, one per reference clip: about 70% of a default training's
    # frames. Fewer leave the folds' held-out errors higher, which lowers every score: 8 lost break F1 and
    # the out-rate of ads and other sports in the leave-one-match-out benchmark (docs/BENCHMARKS.md, "Training
    # cost"), so 12 stays
    fold_epochs: int = 12


def default_model_config() -> VAEConfig:
    """The configuration ``benchmarks/quality.py`` found best (docs/BENCHMARKS.md): the reconstruction error
    is the 15th percentile of a frame's per-pixel errors, each divided by that pixel's median error on unseen
    matches, and the score combines it with the frame's colour distance to the reference frames (weight 0.8
    in the log domain; one HSV histogram per quarter of the frame, each hue bin sharing a quarter of its mass
    with each neighbouring hue, 256 reference frames)."""
    return VAEConfig(
        error_quantile=0.15,
        normalise_pixels=True,
        error_scale_eps=0.1,
        colour_weight=0.8,
        colour_grid=2,
        colour_references=256,
        colour_hue_blur=0.25,
    )


@dataclass(frozen=True)
class TrainingOptions:
    model: VAEConfig = field(default_factory=default_model_config)
    train: TrainConfig = field(default_factory=TrainConfig)
    calibration: CalibrationOptions = field(default_factory=CalibrationOptions)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingOptions:
        """Inverse of ``to_dict``; missing parts take their defaults."""
        return cls(
            model=VAEConfig.from_dict(data["model"]) if "model" in data else default_model_config(),
            train=TrainConfig.from_dict(data.get("train", {})),
            calibration=CalibrationOptions(**data.get("calibration", {})),
        )


def default_temporal_params() -> TemporalParams:
    """Temporal smoothing, hysteresis and minimum segment length tuned by ``benchmarks/quality.py``."""
    return TemporalParams()


def _stack(clips: Sequence[ClipFrames], config: VAEConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frames (N, H, W, 3) at the model size, clip index (N,), timestamps (N,)) of all clips."""
    frames = [resize_frames(c.frames, config.height, config.width) for c in clips]
    groups = [np.full(len(c.frames), i, dtype=np.int64) for i, c in enumerate(clips)]
    times = [np.asarray(c.timestamps_s, dtype=np.float64) for c in clips]
    return np.concatenate(frames), np.concatenate(groups), np.concatenate(times)


class _Progress:
    """Maps the epochs of every training run (final model, then calibration folds) onto one 0..1 progress."""

    def __init__(self, on_progress: ProgressCallback | None, total_epochs: int) -> None:
        self.on_progress, self.total, self.done, self.fold = on_progress, max(total_epochs, 1), 0, 0

    def __call__(self, epoch: int, step: int, metrics: dict[str, float]) -> Any:
        if "val_loss" in metrics:
            self.done += 1
        metrics = {**metrics, "fold": float(self.fold), "progress": min(self.done / self.total, 1.0)}
        return self.on_progress(epoch, step, metrics) if self.on_progress else None


def held_out_colour(histograms, held_out: np.ndarray, config: VAEConfig, negatives=None) -> np.ndarray | None:
    """Colour distances of the ``held_out`` (bool mask) frames to a reference made of the other frames,
    times their ``negative_factor`` when the negative clips' histograms are given."""
    if histograms is None:
        return None
    reference = torch.from_numpy(reference_subset(histograms[~held_out], config.colour_references))
    distances = config.colour_distances(histograms[held_out], reference)
    if negatives is None:
        return distances
    return distances * config.negative_factor(histograms[held_out], distances, negatives)


def negative_reference(negative_frames: np.ndarray | None, config: VAEConfig) -> torch.Tensor | None:
    """(R, D) histograms of the negative clips' frames (at most ``colour_references``, spread evenly) when
    the configuration uses them, else None."""
    if negative_frames is None or not len(negative_frames) or config.colour_weight <= 0:
        return None
    if not config.negative_colours:
        return None
    histograms = config.colour_descriptors(negative_frames)
    return torch.from_numpy(reference_subset(histograms, config.colour_references))


def _held_out_maps(frames, groups, times, options: TrainingOptions, device, progress: _Progress, final,
                   histograms=None, negatives=None):  # fmt: skip
    """Per-pixel error maps (M, H, W) of frames no model trained on, the clip each came from (M,), and their
    colour distances to the frames trained on (M,) (None without ``histograms``).

    With clips held out: each clip under a model trained on the other clips (what an unseen match looks
    like); otherwise the final model's held-out time blocks.
    """
    if options.calibration.holdout != "clips" or len(np.unique(groups)) < 2:
        held_out = np.zeros(len(frames), dtype=bool)
        held_out[final.val_index] = True
        colour = held_out_colour(histograms, held_out, options.model, negatives)
        return error_maps(final.model, frames[held_out]), groups[held_out], colour
    fold_train = dataclasses.replace(options.train, epochs=options.calibration.fold_epochs)
    maps, clip_ids, colours = [], [], []
    for fold, clip in enumerate(np.unique(groups), start=1):
        progress.fold = fold
        keep = groups != clip
        result = train_vae(
            frames[keep], groups[keep], times[keep], options.model, fold_train, device, progress
        )
        maps.append(error_maps(result.model, frames[~keep]))
        clip_ids.append(groups[~keep])
        colours.append(held_out_colour(histograms, ~keep, options.model, negatives))
    colour = None if histograms is None else np.concatenate(colours)
    return np.concatenate(maps), np.concatenate(clip_ids), colour


def _fit_error_scale(model: ConvVAE, maps: np.ndarray) -> None:
    """Per-pixel divisor: the median held-out error of each pixel, plus a floor relative to its mean."""
    median = np.median(maps, axis=0)  # (H, W)
    scale = median + model.config.error_scale_eps * float(median.mean())
    model.error_scale.copy_(torch.from_numpy(scale.astype(np.float32)))


def train_category(
    name: str,
    clips: Sequence[ClipFrames],
    negatives: Sequence[ClipFrames] = (),
    options: TrainingOptions | None = None,
    on_progress: ProgressCallback | None = None,
    device: torch.device | str | None = None,
) -> TrainedCategory:
    """Train and calibrate one category on its reference clips; negatives (optional) refine calibration.

    ``on_progress(epoch, step, metrics)`` gets loss metrics plus ``progress`` (0..1 over the whole job) and
    ``fold`` (0 = final model, k = k-th calibration model); a truthy return raises ``TrainingCancelled``.
    """
    if not clips or not any(len(c.frames) for c in clips):
        raise ValueError("training needs at least one clip with frames")
    options = options or TrainingOptions()
    device = choose_device(str(device)) if device is not None else choose_device()
    started = time.perf_counter()
    frames, groups, times = _stack([c for c in clips if len(c.frames)], options.model)
    use_folds = options.calibration.holdout == "clips" and len(np.unique(groups)) >= 2
    n_folds = len(np.unique(groups)) if use_folds else 0
    progress = _Progress(on_progress, options.train.epochs + n_folds * options.calibration.fold_epochs)
    result = train_vae(frames, groups, times, options.model, options.train, device, progress)
    histograms = options.model.colour_descriptors(frames) if options.model.colour_weight > 0 else None
    neg_frames = _stack(negatives, options.model)[0] if negatives else None
    neg_reference = negative_reference(neg_frames, options.model)
    maps, clip_ids, colour = _held_out_maps(
        frames, groups, times, options, device, progress, result, histograms, neg_reference
    )
    model = result.model.cpu()
    if options.model.normalise_pixels:
        _fit_error_scale(model, maps)
    held_out = model_error(model, torch.from_numpy(maps)).double().numpy()
    if histograms is not None:
        reference = reference_subset(histograms, options.model.colour_references)
        model.set_colour_reference(torch.from_numpy(reference))
        held_out = combine(held_out, colour, options.model.colour_weight)
    if neg_reference is not None:
        model.set_negative_reference(neg_reference)
    negative_losses = None if neg_frames is None else frame_errors(model, neg_frames)
    calibration = cal.calibrate(
        held_out, negative_losses, options.calibration.percentile, options.calibration.method, clip_ids
    )
    metadata = {
        "clips": [{"source": c.source, "frames": len(c.frames)} for c in clips],
        "negatives": [{"source": c.source, "frames": len(c.frames)} for c in negatives],
        "n_frames": int(len(frames)),
        "history": result.history,
        "best_epoch": result.best_epoch,
        "options": options.to_dict(),
        "device": describe(device),
        "duration_s": time.perf_counter() - started,
    }
    return TrainedCategory(name, model, calibration, options.train, metadata)


def _second_pass(categories: Sequence[CategoryModel], frames: np.ndarray, scores: np.ndarray,
                 times: np.ndarray, window_s: float, options: SelfReference | OwnReference,
                 cut_times_s: np.ndarray) -> np.ndarray:  # fmt: skip
    """(K, N) scores after the second pass: with ``SelfReference`` each category's colour reference took in
    the frames it confidently won (smoothed); with ``OwnReference`` each category's scores are re-decided
    against the video's own footage (the frames it won form its sides, the others are out-candidates)."""
    smoothed = smooth_scores(scores.min(axis=0), times, window_s)  # (N,)
    winner = scores.argmin(axis=0)  # (N,)
    if isinstance(options, OwnReference):
        return np.stack([
            # a frame another category wins is no evidence of this one: it counts as out for it
            redecided(c.model, frames, scores[k], np.where(winner == k, smoothed, np.inf), times, cut_times_s,
                      options)
            for k, c in enumerate(categories)
        ])  # fmt: skip
    return np.stack([
        rescored(c.model, frames, scores[k], (smoothed <= options.confident_below) & (winner == k), options)
        for k, c in enumerate(categories)
    ])  # fmt: skip


def score_frames(
    frameset: HasFrames,
    models: Sequence[TrainedCategory],
    temporal_params: TemporalParams | None = None,
    cut_times_s: np.ndarray | None = None,
    on_progress: Callable[[float], Any] | None = None,
    self_reference: SelfReference | OwnReference | None = None,
    reuse_below: float = 0.0,
) -> ScoreResult:
    """Score frames against one or more categories and turn the scores into in/out segments.

    A frame's normalised score is its lowest score over categories; "out" after smoothing and hysteresis.
    ``on_progress(fraction)`` is called after every batch. Segment boundaries snap to shot cuts found in
    ``frames`` unless ``cut_times_s`` is given or ``temporal_params.snap_to_cuts_s`` is 0. With
    ``self_reference`` a second pass re-scores the frames against references that include the video's own
    confidently-in frames (``scoring.selfref``: ``SelfReference`` adds their colours to the model's
    reference, ``OwnReference`` weighs each frame's distance to them against its distance to the video's
    out-candidates). With ``reuse_below`` > 0 a frame within that many grey levels (mean absolute difference)
    of the last frame scored takes its first-pass score (``scoring.scorer.frame_errors``).
    """
    if not models:
        raise ValueError("scoring needs at least one trained category")
    categories = [CategoryModel(m.name, m.model, m.threshold) for m in models]
    total, done = max(len(frameset.frames) * len(categories), 1), [0]

    def on_batch(n: int) -> None:
        done[0] += n
        if on_progress is not None:
            on_progress(done[0] / total)

    _, scores = normalised_scores(categories, frameset.frames, on_batch, reuse_below)
    return decide_scores(frameset, models, scores, temporal_params, cut_times_s, self_reference)


def score_stream(
    stream: FrameStream,
    models: Sequence[TrainedCategory],
    temporal_params: TemporalParams | None = None,
    reuse_below: float = 0.0,
) -> ScoreResult:
    """``score_frames`` on frames as they decode: each chunk of ``stream`` goes through the networks while
    the next ones decode, then the whole frame set is decided as ``score_frames`` decides it. The scores are
    the same, except that with ``reuse_below`` > 0 each chunk's first frame is always scored."""
    if not models:
        raise ValueError("scoring needs at least one trained category")
    categories = [CategoryModel(m.name, m.model, m.threshold) for m in models]
    parts = [normalised_scores(categories, frames, reuse_below=reuse_below)[1] for frames, _ in stream]
    frameset = stream.result()
    scores = np.concatenate(parts, axis=1) if parts else np.zeros((len(categories), 0))
    return decide_scores(frameset, models, scores, temporal_params)


def decide_scores(
    frameset: HasFrames,
    models: Sequence[TrainedCategory],
    scores: np.ndarray,
    temporal_params: TemporalParams | None = None,
    cut_times_s: np.ndarray | None = None,
    self_reference: SelfReference | OwnReference | None = None,
) -> ScoreResult:
    """The second half of ``score_frames``: from first-pass normalised scores (K, N) of ``models`` to the
    result (second pass, temporal decisions, segments, labels)."""
    params = temporal_params or default_temporal_params()
    frames, times = frameset.frames, np.asarray(frameset.timestamps_s, dtype=np.float64)
    categories = [CategoryModel(m.name, m.model, m.threshold) for m in models]
    thresholds = np.array([c.threshold for c in categories], dtype=np.float64)
    own = isinstance(self_reference, OwnReference)
    if cut_times_s is None and (params.snap_to_cuts_s > 0 or params.shot_max_s > 0 or own):
        cut_times_s = detect_shot_cuts(times, frames)
    if self_reference is not None:
        cuts = np.zeros(0) if cut_times_s is None else cut_times_s
        scores = _second_pass(categories, frames, scores, times, params.window_s, self_reference, cuts)
    best = scores.min(axis=0)  # (N,)
    end_s = getattr(frameset, "end_s", None)  # a FrameSet knows where its video ends; bare clip frames do not
    out, segments = decide_segments(best, times, params, cut_times_s, end_s=end_s)
    names = [c.name for c in categories]
    labels = [UNKNOWN if o else names[k] for k, o in zip(scores.argmin(axis=0), out, strict=True)]
    return ScoreResult(
        timestamps_s=times,
        categories=names,
        thresholds=thresholds,
        errors=scores * thresholds[:, None],
        scores=scores,
        smoothed=temporal_scores(best, times, params, cut_times_s),
        labels=labels,
        out=np.asarray(out, dtype=bool),
        segments=list(segments),
    )


def heatmap_png(
    trained: TrainedCategory,
    frame_rgb: np.ndarray,
    occlusion: bool = False,
    patch: int = 8,
    stride: int = 4,
    alpha: float = 0.5,
) -> bytes:
    """PNG of a full-size RGB frame (H, W, 3) with the model's per-pixel error, or its occlusion sensitivity
    (how much the normalised score drops when a patch is hidden), overlaid."""
    cfg = trained.config
    small = resize_frames(frame_rgb[None], cfg.height, cfg.width)[0]  # (h, w, 3) at the model size
    if not occlusion:
        error = weighted_error_maps(trained.model, small[None])[0]  # (h, w): what the score sees
        return error_heatmap_png(frame_rgb, error, alpha)

    def score_batch(batch: np.ndarray) -> np.ndarray:
        return frame_errors(trained.model, batch) / trained.threshold

    return occlusion_heatmap_png(frame_rgb, small, score_batch, alpha=alpha, patch=patch, stride=stride)
