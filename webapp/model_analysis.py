"""Numbers behind the model report and the category overview, computed from stored frame sets and cached.

A model version's analysis (per-clip losses, latent means) runs its network over a sample of each training
clip's frames once and is kept in ``models/<category>/v<N>/report/analysis.json``; the category overview
(every active model on every category's reference frames) is cached under ``MEDIA_ROOT/reports/`` keyed by the
model versions and clips it covers, so it is recomputed exactly when one of them changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scoring.files import write_atomic
from scoring.latent import latent_means
from webapp.media_layout import REPORTS, media_path
from webapp.models import Category, FrameSet, ReferenceClip, TrainedModel, Video

FRAMES_PER_CLIP = 150  # sampled evenly from each clip: enough for a box plot, quick on a CPU
ANALYSIS_VERSION = 1


@dataclass(frozen=True)
class ClipSample:
    name: str
    kind: str  # "reference" | "negative"
    frames: np.ndarray  # uint8 (n, h, w, 3) at the model's size


def evenly(n: int, limit: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, limit)).round().astype(int)) if n else np.arange(0)


def frames_of(video: Video, start_s, end_s, spec, limit: int = FRAMES_PER_CLIP) -> np.ndarray | None:
    """Up to ``limit`` frames of [start_s, end_s) from the video's stored frame set at ``spec``, or None."""
    row = FrameSet.existing(video, spec)
    if row is None:
        return None
    stored = row.load()
    times = stored.timestamps_s
    inside = np.flatnonzero((times >= (start_s or 0.0)) & ((times < end_s) if end_s is not None else True))
    return np.asarray(stored.frames[inside[evenly(len(inside), limit)]])


def model_spec(model: TrainedModel):
    from scoring.frames import SamplingSpec

    sampling = model.lineage.get("sampling") or model.config.get("sampling", {})
    cfg = model.config.get("model", {})
    return SamplingSpec(sampling.get("fps"), int(sampling.get("height") or cfg.get("height", 54)),
                        int(sampling.get("width") or cfg.get("width", 96)))  # fmt: skip


def clip_samples(model: TrainedModel, config) -> list[ClipSample]:
    """Frames of each clip the version was trained (or calibrated against negatives) on, at the model size."""
    from scoring.scorer import resize_frames

    spec = model_spec(model)
    videos = Video.objects.in_bulk([c["video_id"] for c in model.lineage.get("clips", [])])
    samples = []
    for clip in model.lineage.get("clips", []):
        video = videos.get(clip["video_id"])
        frames = None if video is None else frames_of(video, clip.get("start_s"), clip.get("end_s"), spec)
        if frames is None or not len(frames):
            continue
        name = f"{clip.get('video_title', video.title)} #{clip.get('clip_id', '')}"
        kind = "negative" if clip.get("is_negative") else "reference"
        samples.append(ClipSample(name, kind, resize_frames(frames, config.height, config.width)))
    return samples


def report_dir(model: TrainedModel) -> Path:
    return model.directory / "report"


def analysis(model: TrainedModel, trained=None) -> dict:
    """{"clips": [{name, kind, losses}], "mu": {"reference": [[...]], "negative": [[...]]}}, cached."""
    cache = report_dir(model) / "analysis.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data.get("version") == ANALYSIS_VERSION:
            return data
    trained = trained or model.load()
    data = compute_analysis(trained, clip_samples(model, trained.config))
    write_atomic(cache, json.dumps(data).encode())
    return data


def compute_analysis(trained, samples: list[ClipSample]) -> dict:
    from scoring.scorer import frame_errors

    mu = {"reference": [], "negative": []}
    clips = []
    for sample in samples:
        clips.append({"name": sample.name, "kind": sample.kind,
                      "losses": frame_errors(trained.model, sample.frames).tolist()})  # fmt: skip
        mu[sample.kind] += latent_means(trained.model, sample.frames).tolist()
    return {"version": ANALYSIS_VERSION, "clips": clips, "mu": mu}


def reference_frames(model: TrainedModel, trained, limit: int = 16) -> np.ndarray:
    """Up to ``limit`` reference frames spread over the version's reference clips, at the model size."""
    refs = [s.frames for s in clip_samples(model, trained.config) if s.kind == "reference"]
    if not refs:
        return np.zeros((0, trained.config.height, trained.config.width, 3), dtype=np.uint8)
    stacked = np.concatenate(refs)
    return stacked[evenly(len(stacked), limit)]


# --- category overview --------------------------------------------------------------------------------------


def overview_key(models: list[TrainedModel], categories: list[Category]) -> str:
    clips = ReferenceClip.objects.filter(category__in=categories, is_negative=False)
    parts = [f"m{m.pk}@{m.trained_at}" for m in models] + [f"c{c.pk}" for c in categories]
    parts += [f"k{c.pk}:{c.category_id}:{c.video_id}:{c.start_s}:{c.end_s}" for c in clips.order_by("pk")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def category_frames(category: Category, spec) -> np.ndarray | None:
    """Reference frames of a category (negatives excluded) from stored frame sets at ``spec``."""
    chunks = []
    for clip in category.clips.filter(is_negative=False).select_related("video"):
        frames = frames_of(clip.video, clip.start_s, clip.end_s, spec)
        if frames is not None and len(frames):
            chunks.append(frames)
    return np.concatenate(chunks) if chunks else None


def acceptance_rates(models: list[TrainedModel], categories: list[Category]) -> np.ndarray:
    """(models, categories) share of each category's reference frames a model accepts (score <= 1); NaN
    where a category has no stored frames at that model's sampling."""
    from scoring.scorer import frame_errors, resize_frames

    rates = np.full((len(models), len(categories)), np.nan)
    for i, model in enumerate(models):
        trained, spec = model.load(), model_spec(model)
        for j, category in enumerate(categories):
            frames = category_frames(category, spec)
            if frames is None:
                continue
            small = resize_frames(frames, trained.config.height, trained.config.width)
            rates[i, j] = float(np.mean(frame_errors(trained.model, small) / trained.threshold <= 1.0))
    return rates


def overview(models: list[TrainedModel], categories: list[Category]) -> np.ndarray:
    cache = media_path(f"{REPORTS}/overview/{overview_key(models, categories)}.json")
    if cache.is_file():
        return np.asarray(json.loads(cache.read_text()), dtype=np.float64)
    rates = acceptance_rates(models, categories)
    write_atomic(cache, json.dumps([[None if np.isnan(v) else v for v in row] for row in rates]).encode())
    return rates
