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
import copy
import dataclasses
import datetime as dt
import json
import shlex
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from benchmarks import comskip_peer
from benchmarks.folds import add_fold_options, fold_model, fold_options, match_paths
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
from scoring.calibration import recalibrate
from scoring.colour import combine, reference_subset
from scoring.frames import SamplingSpec
from scoring.model import VAEConfig
from scoring.pipeline import (
    DEFAULT_TRAIN_FPS,
    TrainedCategory,
    TrainingOptions,
    decide_scores,
    default_model_config,
    default_temporal_params,
    held_out_colour,
    negative_reference,
)
from scoring.scorer import CategoryModel, frame_errors, normalised_scores
from scoring.segments import TemporalParams
from scoring.selfref import DESCRIPTORS, OwnReference, SelfReference
from scoring.shotcuts import detect_shot_cuts

# A variant maps (model, broadcast, first-pass normalised scores (1, N), shot cuts) to (smoothed scores (N,),
# out decisions (N,), out intervals); the first pass (the VAE) is computed once per fold model and broadcast
Scorer = Callable[[TrainedCategory, Broadcast, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, list]]


def scorer(
    params: TemporalParams | None = None, self_reference: SelfReference | OwnReference | None = None
) -> Scorer:
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


@dataclasses.dataclass(frozen=True)
class Variant:
    """A way to decide: scoring, and the threshold rule (negatives, method, percentile) of calibration."""

    name: str
    score: Scorer = dataclasses.field(default_factory=scorer)
    negatives: tuple[str, ...] = ()  # clip names used as negatives (and so never tested)
    method: str | None = None  # None: the default calibration method
    percentile: float | None = None  # None: the default percentile
    negative_colours: bool = False  # the negatives' colours push frames like them out (VAEConfig)
    # colour-term settings other than the product's defaults, e.g. (("colour_power", 1.0),)
    colour: tuple[tuple[str, float], ...] = ()

    def colour_config(self, config: VAEConfig) -> VAEConfig:
        """``config`` with this variant's colour term: the product's default colour settings (a cached fold
        model may predate them), this variant's overrides, and its negative colours."""
        defaults = default_model_config()
        fields = {name: getattr(defaults, name) for name in COLOUR_FIELDS} | dict(self.colour)
        return dataclasses.replace(config, **fields, negative_colours=self.negative_colours)

    def calibrated(self, trained: TrainedCategory, negative_losses: np.ndarray | None) -> TrainedCategory:
        """The fold model with this variant's threshold. Negatives only enter calibration in
        ``train_category`` (the VAE never sees them), so recalibrating the held-out losses it stored with
        the negatives' losses gives the threshold training with them would have given."""
        if negative_losses is None and self.method is None and self.percentile is None:
            return trained
        calibration = recalibrate(
            trained.calibration,
            percentile=self.percentile,
            negative_losses=negative_losses,
            method=self.method,
        )
        return dataclasses.replace(trained, calibration=calibration)


SHOTS = dataclasses.replace(default_temporal_params(), shot_max_s=10.0)
# the colour term's settings that a variant may change without retraining (``rebuilt_colours``)
COLOUR_FIELDS = (
    "colour_hue_blur",
    "colour_power",
    "colour_weight",
    "colour_grid",
    "colour_neighbours",
    "colour_references",
    "colour_cell_neighbours",
)
# one clip of each confounder sport that has a second clip to test on (the others would leave no test)
NEGATIVES = ("american_football/sbriggssjc__IMG_7593", "other_sports/adityavinay1002__cricket_ecb_match")
VARIANTS = {
    v.name: v
    for v in (
        Variant("defaults", scorer()),
        Variant("shot-level (shots <= 10 s)", scorer(SHOTS)),
        Variant("second pass", scorer(self_reference=SelfReference())),
        Variant("second pass + shot-level", scorer(SHOTS, SelfReference())),
        Variant("own reference (colour + latent)", scorer(self_reference=OwnReference())),
        Variant("own reference (colour)", scorer(self_reference=OwnReference(descriptors=("colour",)))),
        Variant("own reference (latent)", scorer(self_reference=OwnReference(descriptors=("latent",)))),
        Variant(
            "own reference (colour + latent + lines)",
            scorer(self_reference=OwnReference(descriptors=DESCRIPTORS)),
        ),
        Variant("own reference + shot-level", scorer(SHOTS, OwnReference())),
        Variant("percentile 90", percentile=90.0),
        Variant("percentile 80", percentile=80.0),
        Variant("negatives (1 AF, 1 cricket), F1 threshold", negatives=NEGATIVES, method="f1"),
        Variant("negatives (1 AF, 1 cricket), F1 threshold, shot-level", scorer(SHOTS), NEGATIVES, "f1"),
        Variant("negative colours (1 AF, 1 cricket)", negatives=NEGATIVES, negative_colours=True),
        Variant(
            "negative colours, percentile 80", negatives=NEGATIVES, percentile=80.0, negative_colours=True
        ),
        *(
            Variant(name, colour=tuple(settings.items()), percentile=percentile)
            for name, settings, percentile in (
                ("colour: plain histograms", {"colour_hue_blur": 0.0, "colour_power": 1.0}, None),
                ("colour: hue blur 0.1", {"colour_hue_blur": 0.1, "colour_power": 1.0}, None),
                ("colour: hue blur 0.25", {"colour_hue_blur": 0.25, "colour_power": 1.0}, None),
                ("colour: hue blur 0.33", {"colour_hue_blur": 0.33, "colour_power": 1.0}, None),
                ("colour: hue blur 0.4", {"colour_hue_blur": 0.4, "colour_power": 1.0}, None),
                ("colour: hue blur 0.25, percentile 90", {"colour_hue_blur": 0.25}, 90.0),
                ("colour: hue blur 0.25, percentile 97", {"colour_hue_blur": 0.25}, 97.0),
                ("colour: hue blur 0.25, power 0.93", {"colour_hue_blur": 0.25, "colour_power": 0.93}, None),
                ("colour: hue blur 0.25, power 0.85", {"colour_hue_blur": 0.25, "colour_power": 0.85}, None),
                (
                    "colour: hue blur 0.25, power 0.85, percentile 90",
                    {"colour_hue_blur": 0.25, "colour_power": 0.85},
                    90.0,
                ),
                (
                    "colour: hue blur 0.25, power 0.85, percentile 99",
                    {"colour_hue_blur": 0.25, "colour_power": 0.85},
                    99.0,
                ),
                ("colour: hue blur 0.25, power 0.7", {"colour_hue_blur": 0.25, "colour_power": 0.7}, None),
                ("colour weight 0.6", {"colour_weight": 0.6}, None),
                ("colour weight 0.7", {"colour_weight": 0.7}, None),
                ("colour weight 0.9", {"colour_weight": 0.9}, None),
                ("colour weight 0.95", {"colour_weight": 0.95}, None),
                ("colour: 10 neighbours", {"colour_neighbours": 10}, None),
                ("colour: 1,024 reference frames", {"colour_references": 1024}, None),
                ("colour: 3x3 grid", {"colour_grid": 3}, None),
                ("colour: whole frame (no grid)", {"colour_grid": 1}, None),
                (
                    "colour: 2x2 grid, cell neighbours",
                    {"colour_grid": 2, "colour_cell_neighbours": True},
                    None,
                ),
                (
                    "colour: 3x3 grid, cell neighbours",
                    {"colour_grid": 3, "colour_cell_neighbours": True},
                    None,
                ),
                (
                    "colour: 4x4 grid, cell neighbours",
                    {"colour_grid": 4, "colour_cell_neighbours": True},
                    None,
                ),
                (
                    "colour: 3x3 grid, cell neighbours, 1,024 references",
                    {"colour_grid": 3, "colour_cell_neighbours": True, "colour_references": 1024},
                    None,
                ),
                (
                    "colour: 3x3 grid, cell neighbours, weight 0.9",
                    {"colour_grid": 3, "colour_cell_neighbours": True, "colour_weight": 0.9},
                    None,
                ),
            )
        ),
        *(
            Variant(f"temporal: {name}", scorer(dataclasses.replace(default_temporal_params(), **changes)))
            for name, changes in (
                ("window 0.5 s", {"window_s": 0.5}),
                ("window 1 s", {"window_s": 1.0}),
                ("window 2 s", {"window_s": 2.0}),
                ("window 3 s", {"window_s": 3.0}),
                ("min segment 1 s", {"min_segment_s": 1.0}),
                ("min segment 3 s", {"min_segment_s": 3.0}),
                ("window 2 s, min segment 3 s", {"window_s": 2.0, "min_segment_s": 3.0}),
                ("hysteresis 0.8", {"low": 0.8}),
                ("no hysteresis", {"low": 1.0}),
                ("snap to cuts 1 s", {"snap_to_cuts_s": 1.0}),
                ("hysteresis 0.95", {"low": 0.95}),
                ("enter at 1.1", {"high": 1.1}),
                ("enter at 1.1, leave at 1.0", {"high": 1.1, "low": 1.0}),
                ("enter at 1.05, leave at 0.95", {"high": 1.05, "low": 0.95}),
                ("min segment 4 s", {"min_segment_s": 4.0}),
                ("window 2 s, hysteresis 0.95", {"window_s": 2.0, "low": 0.95}),
                ("window 2 s, no hysteresis", {"window_s": 2.0, "low": 1.0}),
                ("window 3 s, no hysteresis", {"window_s": 3.0, "low": 1.0}),
                (
                    "window 2 s, no hysteresis, min segment 3 s",
                    {"window_s": 2.0, "low": 1.0, "min_segment_s": 3.0},
                ),
            )
        ),
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
    """(frame errors (1, N) as ``score_frames`` computes them (scores before dividing by the threshold),
    shot cut times, scoring frames/s of the VAE pass)."""
    started = time.perf_counter()
    errors, _ = normalised_scores([CategoryModel(trained.name, trained.model, 1.0)], broadcast.frames)
    fps = len(broadcast.frames) / (time.perf_counter() - started)
    return errors, detect_shot_cuts(broadcast.timestamps_s, broadcast.frames), fps


def evaluate(variant: Variant, trained: TrainedCategory, broadcast: Broadcast, first: tuple) -> dict:
    errors, cuts, fps = first
    smoothed, out, intervals = variant.score(trained, broadcast, errors / trained.threshold, cuts)
    figures = separation(smoothed, out, broadcast.timestamps_s, intervals, broadcast.truth)
    return {
        "separation": dataclasses.asdict(figures),
        "sources": out_by_source(broadcast, out),
        "scoring_fps": fps,
        "threshold": trained.threshold,
    }


def with_negatives(variant: Variant, trained: TrainedCategory, fold: Fold, clips: Clips, cache: ClipCache,
                   memo: dict) -> TrainedCategory:  # fmt: skip
    """The fold model as ``train_category`` would have made it with the variant's colour settings and
    negatives: the VAE never sees either, so only the colour references (``negative_colours``), the held-out
    losses they change and the calibration differ; all are recomputed here from the clips the fold trained
    on (``rebuilt_colours``). One such model per colour configuration (``memo``), so one first pass each."""
    spec = SamplingSpec(DEFAULT_TRAIN_FPS, trained.config.height, trained.config.width)
    negatives = None
    if variant.negatives:
        negatives = np.concatenate([cache.load(clips.paths[n], spec).frames for n in variant.negatives])
    config = variant.colour_config(trained.config)
    if config != trained.config:
        key = (config, variant.negatives if config.negative_colours else ())
        if key not in memo:
            train = [cache.load(clips.paths[n], spec) for n in fold.train]
            frames = [c.frames for c in train if c is not None and len(c.frames)]
            memo[key] = rebuilt_colours(trained, config, frames, negatives)
        trained = memo[key]
    return variant.calibrated(trained, None if negatives is None else frame_errors(trained.model, negatives))


def rebuilt_colours(trained: TrainedCategory, config: VAEConfig, clips: list[np.ndarray],
                    negatives: np.ndarray | None) -> TrainedCategory:  # fmt: skip
    """The model as ``train_category`` would have made it with ``config``'s colour term (same VAE): the
    reference and negative reference from ``clips`` (the frames (n_k, H, W, 3) of each clip it trained on,
    in training order) and ``negatives``, and each held-out loss recombined from its VAE part and the new
    leave-one-clip-out colour distance, as in training. A held-out loss is vae ** (1 - w) * colour ** w
    (``scoring.colour.combine``), so its VAE part is recovered exactly from the old colour distance and
    weight. Raises ValueError when either weight is 0 (no colour term to rebuild) or the clips do not match
    the model's held-out losses."""
    old_weight, new_weight = trained.config.colour_weight, config.colour_weight
    if old_weight <= 0 or new_weight <= 0:
        raise ValueError("a colour term can only be rebuilt between two non-zero weights")
    frames = np.concatenate(clips)
    groups = np.concatenate([np.full(len(c), k) for k, c in enumerate(clips)])
    old, new = trained.config.colour_descriptors(frames), config.colour_descriptors(frames)
    old_negatives = trained.model.negative_reference if len(trained.model.negative_reference) else None
    new_negatives = negative_reference(negatives, config)
    old_colour, new_colour = (
        np.concatenate([held_out_colour(h, groups == g, c, n) for g in np.unique(groups)])
        for h, c, n in ((old, trained.config, old_negatives), (new, config, new_negatives))
    )
    if len(new_colour) != len(trained.calibration.held_out_losses):
        raise ValueError("the training clips do not match the model's held-out losses")
    vae_part = (trained.calibration.held_out_losses / old_colour**old_weight) ** (1.0 / (1.0 - old_weight))
    model = copy.deepcopy(trained.model)
    model.config = config
    model.set_colour_reference(torch.from_numpy(reference_subset(new, config.colour_references)))
    empty = torch.zeros(0, new.shape[1])
    model.set_negative_reference(empty if new_negatives is None else new_negatives)
    held_out = combine(vae_part, new_colour, new_weight)
    negative_losses = np.zeros(0) if negatives is None else frame_errors(model, negatives)
    calibration = recalibrate(
        dataclasses.replace(trained.calibration, held_out_losses=held_out), negative_losses=negative_losses
    )  # the threshold and every figure of the calibration from the new losses
    return dataclasses.replace(trained, model=model, calibration=calibration)


def run_fold(variants: list[Variant], fold: Fold, clips: Clips, dev: Broadcast | None, args) -> dict:
    """Every variant's figures on one fold: the model is trained once (without negatives), the first pass
    runs once per broadcast, each variant recalibrates the threshold and decides."""
    cache = ClipCache(args.out / "frames")
    trained = fold_model(fold, args.data, args.out, cache, fold_options(args))
    tests = broadcasts_of(fold, clips, args.broadcasts, args.seed)
    passes: dict[int, tuple] = {}  # one first pass per distinct network (negative colours change it)
    coloured: dict[tuple, TrainedCategory] = {}

    def firsts(model: TrainedCategory) -> tuple:
        if id(model.model) not in passes:
            dev_first = None if dev is None else first_pass(model, dev)
            passes[id(model.model)] = ([first_pass(model, b) for b in tests], dev_first)
        return passes[id(model.model)]

    rows = {}
    for v in variants:
        model = with_negatives(v, trained, fold, clips, cache, coloured)
        tests_first, dev_first = firsts(model)
        rows[v.name] = {
            "broadcasts": [evaluate(v, model, b, f) for b, f in zip(tests, tests_first, strict=True)],
            "dev": None if dev is None else evaluate(v, model, dev, dev_first),
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
            pieces = zlib.crc32(repr(b.pieces).encode())  # the composition, so a changed one renders anew
            video = folder / f"{b.name.replace('#', '_')}_{pieces:08x}.mp4"
            comskip_peer.render(b, clips.paths, times, video)
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
    variants = [VARIANTS[name] for name in args.variants]
    others = [c for c in others if not any(c in v.negatives for v in variants)]  # one test set for all
    folds = make_folds(list(clips.matches), others)
    folds = [f for f in folds if not args.only or f.held_out in args.only]
    for fold in folds:
        for name, row in run_fold(variants, fold, clips, dev, args).items():
            result["variants"].setdefault(name, {})[fold.held_out] = row
    result["negatives"] = sorted({n for v in variants for n in v.negatives})
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
    add_fold_options(parser)
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
        result["command"] = ".venv/bin/python -m benchmarks.quality " + shlex.join(
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
