"""Quality benchmark: leave-one-match-out over the soccer matches, on broadcasts it composes itself.

    nice -n 19 .venv/bin/python -m benchmarks.quality --data ../shared/data --write-docs

For each match of ``videos/soccer/`` and ``videos/soccer_more/`` (a fold), a soccer model is trained on the
other matches with ``scoring.pipeline.train_category`` at default settings (``benchmarks.folds``, cached on
disk), then scores ``--broadcasts`` seeded broadcasts made of the held-out match, ads, American football and
other sports (``benchmarks.protocol``) with ``scoring.pipeline.score_frames``; ``broadcast_dev.mp4`` is scored
by every fold's model as one row among the others. With Comskip installed its EDLs on the same broadcasts
are scored by the same metric code. Writes the "Quality" section of docs/BENCHMARKS.md with ``--write-docs``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import comskip_peer
from benchmarks.folds import fold_model, match_paths
from benchmarks.protocol import (
    BROADCAST_FPS,
    CONFOUNDER_FOLDERS,
    Broadcast,
    ClipCache,
    Fold,
    compose,
    dev_broadcast,
    make_folds,
    video_files,
)
from benchmarks.quality_metrics import Interval, separation
from benchmarks.quality_report import markdown, write_docs
from scoring.frames import SamplingSpec
from scoring.pipeline import TrainedCategory, TrainingOptions, decide_scores, default_temporal_params
from scoring.scorer import CategoryModel, normalised_scores
from scoring.segments import TemporalParams
from scoring.selfref import SelfReference
from scoring.shotcuts import detect_shot_cuts

# A variant maps (model, broadcast, first-pass scores (1, N), shot cuts) to (smoothed scores (N,), out
# decisions (N,), out intervals); the first pass (the VAE) is shared by the variants of one fold model
Scorer = Callable[[TrainedCategory, Broadcast, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, list]]


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    score: Scorer
    options: TrainingOptions = dataclasses.field(default_factory=TrainingOptions)
    negatives: tuple[str, ...] = ()  # clip names used as negatives (and so never tested)


def scorer(params: TemporalParams | None = None, self_reference: SelfReference | None = None) -> Scorer:
    """``python -m scoring score``'s path (``score_frames`` = first pass + ``decide_scores``), with other
    temporal parameters or a second pass."""

    def score(trained: TrainedCategory, broadcast: Broadcast, scores: np.ndarray, cuts: np.ndarray):
        result = decide_scores(
            broadcast, [trained], scores, params or default_temporal_params(), cuts, self_reference
        )
        return (
            result.smoothed,
            result.out,
            [Interval(s.start_s, s.end_s) for s in result.segments if s.label == "out"],
        )

    return score


SHOTS = dataclasses.replace(default_temporal_params(), shot_max_s=10.0)
VARIANTS = {
    v.name: v
    for v in (
        Variant("defaults", scorer()),
        Variant("shot-level (shots <= 10 s)", scorer(SHOTS)),
        Variant("second pass", scorer(self_reference=SelfReference())),
        Variant("second pass + shot-level", scorer(SHOTS, SelfReference())),
    )
}


@dataclasses.dataclass
class Clips:
    """Every clip the protocol uses, at the broadcast rate and the model size."""

    matches: dict[str, object]
    ads: dict[str, object]
    confounders: dict[str, object]
    paths: dict[str, Path]
    skipped: dict[str, str]


def load_clips(data: Path, cache: ClipCache, spec: SamplingSpec) -> Clips:
    groups: dict[str, dict] = {"matches": {}, "ads": {}, "confounders": {}}
    paths: dict[str, Path] = {}
    folders = [("matches", p) for p in match_paths(data).values()]
    folders += [("ads", p) for p in video_files(data / "videos/ads")]
    folders += [("confounders", p) for f in CONFOUNDER_FOLDERS for p in video_files(data / "videos" / f)]
    for group, path in folders:
        clip = cache.load(path, spec)
        if clip is not None:
            groups[group][clip.source] = clip
            paths[clip.source] = path
    return Clips(**groups, paths=paths, skipped=dict(cache.failed))


def broadcasts_of(fold: Fold, clips: Clips, count: int, seed: int) -> list[Broadcast]:
    soccer = [clips.matches[n] for n in fold.test_soccer]
    ads = [c for n, c in clips.ads.items() if n in fold.test_other]
    confounders = [c for n, c in clips.confounders.items() if n in fold.test_other]
    stem = fold.held_out.split("/")[-1]
    base = seed * 1_000_003 + zlib.crc32(fold.held_out.encode())  # each fold its own seeded orders
    return [compose(f"{stem}#{k}", soccer, ads, confounders, base + k) for k in range(count)]


def out_by_source(broadcast: Broadcast, out: np.ndarray) -> dict[str, list[float]]:
    """Source clip -> [frames out, frames] in this broadcast."""
    counts: dict[str, list[float]] = {}
    for source in np.unique(broadcast.frame_source):
        inside = broadcast.frame_source == source
        counts[str(source)] = [float(out[inside].sum()), float(inside.sum())]
    return counts


def first_pass(trained: TrainedCategory, broadcast: Broadcast) -> tuple[np.ndarray, np.ndarray, float]:
    """(normalised scores (1, N), shot cut times, scoring frames/s of the VAE pass) as ``score_frames``
    computes them."""
    started = time.perf_counter()
    _, scores = normalised_scores(
        [CategoryModel(trained.name, trained.model, trained.threshold)], broadcast.frames
    )
    fps = len(broadcast.frames) / (time.perf_counter() - started)
    return scores, detect_shot_cuts(broadcast.timestamps_s, broadcast.frames), fps


def evaluate(variant: Variant, trained: TrainedCategory, broadcast: Broadcast, first: tuple) -> dict:
    scores, cuts, fps = first
    smoothed, out, intervals = variant.score(trained, broadcast, scores, cuts)
    figures = separation(smoothed, out, broadcast.timestamps_s, intervals, broadcast.truth)
    return {
        "separation": dataclasses.asdict(figures),
        "sources": out_by_source(broadcast, out),
        "scoring_fps": fps,
    }


def run_variants(
    variants: list[Variant], folds: list[Fold], clips: Clips, dev: Broadcast | None, args
) -> dict:
    """Variants that share training options and negatives, fold by fold: each fold's broadcasts' figures and
    broadcast_dev's under the fold's model; the first pass is computed once per broadcast."""
    cache = ClipCache(args.out / "frames")
    rows: dict[str, dict] = {v.name: {} for v in variants}
    for fold in folds:
        trained = fold_model(fold, args.data, args.out, cache, variants[0].options)
        tests = broadcasts_of(fold, clips, args.broadcasts, args.seed)
        firsts = [first_pass(trained, b) for b in [*tests, *([dev] if dev is not None else [])]]
        for v in variants:
            results = [evaluate(v, trained, b, f) for b, f in zip(tests, firsts, strict=False)]
            dev_result = evaluate(v, trained, dev, firsts[-1]) if dev is not None else None
            rows[v.name][fold.held_out] = {
                "broadcasts": results,
                "dev": dev_result,
                "train_s": trained.metadata.get("duration_s"),
            }
    return rows


def run_comskip(folds: list[Fold], clips: Clips, dev: Broadcast | None, args) -> dict:
    """Comskip's figures per fold's broadcasts (and broadcast_dev.mp4 itself), with the same metric code."""
    folder = args.out / "comskip"
    folder.mkdir(parents=True, exist_ok=True)
    times = {n: c.timestamps_s for g in (clips.matches, clips.ads, clips.confounders) for n, c in g.items()}
    rows = {}
    for fold in folds:
        results = []
        for b in broadcasts_of(fold, clips, args.broadcasts, args.seed):
            video = comskip_peer.render(
                b, clips.paths, times, folder / f"{b.name.replace('#', '_')}_{args.seed}.mp4"
            )
            results.append(_comskip_figures(b, comskip_peer.run_comskip(video)))
        rows[fold.held_out] = {"broadcasts": results, "dev": None}
    if dev is not None:
        dev_video = folder / "broadcast_dev.mp4"
        if not dev_video.exists():
            dev_video.symlink_to((args.data / "broadcast_dev.mp4").resolve())
        dev_figures = _comskip_figures(dev, comskip_peer.run_comskip(dev_video))
        for row in rows.values():
            row["dev"] = dev_figures
    return rows


def _comskip_figures(b: Broadcast, intervals: list[Interval]) -> dict:
    out = comskip_peer.decisions(intervals, b.timestamps_s)
    figures = separation(out.astype(float), out, b.timestamps_s, intervals, b.truth)
    return {
        "separation": dataclasses.asdict(figures),
        "sources": out_by_source(b, out),
        "scoring_fps": float("nan"),
    }


def run(args: argparse.Namespace) -> dict:
    cache = ClipCache(args.out / "frames")
    spec = SamplingSpec(BROADCAST_FPS, TrainingOptions().model.height, TrainingOptions().model.width)
    clips = load_clips(args.data, cache, spec)
    dev = dev_broadcast(args.data, SamplingSpec(None, spec.height, spec.width), cache)
    others = [*clips.ads, *clips.confounders]
    result = {"variants": {}, "skipped": clips.skipped, "matches": list(clips.matches), "folds": {}}
    groups: dict[tuple, list[Variant]] = {}
    for name in args.variants:
        variant = VARIANTS[name]
        groups.setdefault((json.dumps(variant.options.to_dict()), variant.negatives), []).append(variant)
    for variants in groups.values():
        folds = make_folds(list(clips.matches), others, variants[0].negatives)
        folds = [f for f in folds if not args.only or f.held_out in args.only]
        result["variants"].update(run_variants(variants, folds, clips, dev, args))
        result["folds"].update({v.name: [dataclasses.asdict(f) for f in folds] for v in variants})
    if args.comskip and comskip_peer.available():
        folds = make_folds(list(clips.matches), others)
        folds = [f for f in folds if not args.only or f.held_out in args.only]
        result["variants"]["Comskip (peer)"] = run_comskip(folds, clips, dev, args)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--out", default="benchmarks/out", type=Path, help="frames, fold models, renders")
    parser.add_argument("--broadcasts", type=int, default=2, help="composed broadcasts per fold")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--only", nargs="*", default=None, help="held-out matches to evaluate (default all)")
    parser.add_argument("--no-comskip", dest="comskip", action="store_false")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also dump all figures here")
    parser.add_argument("--from-json", type=Path, default=None, help="only re-render an earlier --json")
    args = parser.parse_args()
    if args.from_json:
        result = json.loads(args.from_json.read_text())
    else:
        started = time.perf_counter()
        result = run(args)
        result["wall_s"] = time.perf_counter() - started
        result["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        result["command"] = "nice -n 19 .venv/bin/python -m benchmarks.quality " + " ".join(
            a for a in sys.argv[1:] if a != "--write-docs"
        )
        result["broadcasts"], result["seed"] = args.broadcasts, args.seed
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=float))
    section = markdown(result)
    if args.write_docs:
        write_docs(Path(__file__).resolve().parent.parent / "docs/BENCHMARKS.md", section)
    print(section)


if __name__ == "__main__":
    main()
