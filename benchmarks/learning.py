"""Learning from one correction, on the quality protocol, the way the dashboard's review learns.

    nice -n 19 .venv/bin/python -m benchmarks.learning --data ../shared/data \
        --json benchmarks/out/learning.json

Soccer is trained with the product's defaults on ``videos/soccer/`` (frames sampled at ``DEFAULT_TRAIN_FPS``,
the dashboard's rate, which is also the rate runs score at), then ``broadcast_dev.mp4`` and every clip of
``videos/soccer_other/``, ``videos/other_sports/`` and ``videos/american_football/`` are scored with
``scoring.pipeline``'s first pass and ``decide_scores`` (what ``score_frames`` does). Two corrections are then
made as a reviewer would make them in the report, one at a time, each from the defaults:

* **soccer, out -> in**: the first clip of ``soccer_other/`` (sorted by name) with a segment flagged out gets
  that first wrong segment relabelled "in". Learning then does what the report's Learn form does
  (``webapp.learning``: ``scoring.review.learning_ranges`` with negatives on): the reviewed run's in ranges
  become reference clips and its out ranges negative clips, and soccer is retrained with the same
  configuration (a new version). Recalibrating applies only when that run still has out ranges (negatives).
* **other sport, in -> out**: the first clip of ``american_football/`` then ``other_sports/`` with a segment
  kept in gets that segment relabelled "out"; its ranges become clips the same way and the defaults'
  version is recalibrated (``method="auto"``: the best-F1 threshold against the new negatives, as the
  recalibration job does). Retraining with it applies too but is not run (a third training).

Everything is scored again after each, and a markdown section for docs/BENCHMARKS.md is printed: the
broadcast's AUROC / TPR / FPR / break F1 and every clip's fraction of frames out (raw: normalised score > 1;
smoothed: the run's decision), the corrected clips marked. The retrained version differs from the defaults
by the correction and by training noise (the training is seeded, the data changed), which one run cannot
separate.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.protocol import ClipCache, dev_broadcast, video_files
from benchmarks.quality import first_pass
from benchmarks.quality_metrics import Interval, separation, truth_out_frames
from scoring.calibration import recalibrate
from scoring.frames import SamplingSpec
from scoring.pipeline import (
    DEFAULT_TRAIN_FPS,
    ClipFrames,
    TrainedCategory,
    TrainingOptions,
    decide_scores,
    default_temporal_params,
    train_category,
)
from scoring.review import ReviewedSegment, learning_ranges
from scoring.scorer import frame_errors

CATEGORY = "soccer"
IN_FOLDERS = ("soccer_other",)  # every frame should be in
OUT_FOLDERS = ("american_football", "other_sports")  # every frame should be out
DEV = "broadcast_dev"


@dataclasses.dataclass
class Scored:
    """One clip under one version: its run's decisions and the figures the tables show."""

    segments: list
    raw_out: float  # fraction of frames with normalised score > 1
    out: float  # fraction of frames out after smoothing, hysteresis and minimum lengths
    dev: dict | None = None  # the broadcast's separation figures


class Bench:
    """The clips, their frames at the run rate, and one first pass per (network, clip)."""

    def __init__(self, data: Path, cache: ClipCache, spec: SamplingSpec) -> None:
        self.spec = spec
        self.clips: dict[str, ClipFrames] = {}
        self.truth: dict[str, np.ndarray | None] = {}
        dev = dev_broadcast(data, spec, cache)
        if dev is None:
            raise SystemExit(f"{data / 'broadcast_dev.mp4'} does not decode: {cache.failed}")
        self.dev_truth = dev.truth
        self.clips[DEV] = ClipFrames(dev.frames, dev.timestamps_s, DEV)
        self.truth[DEV] = truth_out_frames(dev.truth, dev.timestamps_s)
        for folder in (*IN_FOLDERS, *OUT_FOLDERS):
            for path in video_files(data / "videos" / folder):
                clip = cache.load(path, spec)
                if clip is not None and len(clip.frames):
                    self.clips[clip.source] = clip
                    self.truth[clip.source] = np.full(len(clip.frames), folder in OUT_FOLDERS)
        self.skipped = dict(cache.failed)
        self._passes: dict[tuple[int, str], tuple] = {}

    def score(self, trained: TrainedCategory, name: str) -> Scored:
        """The run ``trained`` makes of clip ``name`` (versions of one network share the first pass)."""
        clip = self.clips[name]
        key = (id(trained.model), name)
        if key not in self._passes:
            self._passes[key] = first_pass(trained, clip)
        errors, cuts, _ = self._passes[key]
        result = decide_scores(clip, [trained], errors / trained.threshold, default_temporal_params(), cuts)
        scored = Scored(
            list(result.segments), float(np.mean(result.best_scores > 1)), float(result.out.mean())
        )
        if name == DEV:
            intervals = [Interval(s.start_s, s.end_s) for s in result.segments if s.label == "out"]
            figures = separation(result.smoothed, result.out, clip.timestamps_s, intervals, self.dev_truth)
            scored.dev = dataclasses.asdict(figures)
        return scored

    def score_all(self, trained: TrainedCategory) -> dict[str, Scored]:
        return {name: self.score(trained, name) for name in self.clips}


def first_wrong_segment(segments, times_s: np.ndarray, truth_out: np.ndarray) -> int | None:
    """Index of the first segment whose label disagrees with most of its frames' truth, or None."""
    for k, segment in enumerate(segments):
        inside = (times_s >= segment.start_s) & (times_s < segment.end_s)
        if inside.any() and (np.mean(truth_out[inside]) > 0.5) != (segment.label == "out"):
            return k
    return None


def pick_correction(bench: Bench, runs: dict[str, Scored], folders: tuple[str, ...]) -> dict | None:
    """The first clip of ``folders`` (in that order, clips by name) with a wrong segment: its name, the
    segment's index and the reviewed segments with that one relabelled (an "in" one named the category)."""
    for name in (n for f in folders for n in bench.clips if n.startswith(f + "/")):
        segments = runs[name].segments
        k = first_wrong_segment(segments, bench.clips[name].timestamps_s, bench.truth[name])
        if k is None:
            continue
        reviewed = [ReviewedSegment.of(s) for s in segments]
        flipped = "in" if reviewed[k].label == "out" else "out"
        reviewed[k] = dataclasses.replace(
            reviewed[k], label=flipped, category=CATEGORY if flipped == "in" else ""
        )
        return {"clip": name, "index": k, "segment": reviewed[k], "reviewed": reviewed}
    return None


def clips_of(bench: Bench, correction: dict) -> tuple[list[ClipFrames], list[ClipFrames]]:
    """(reference clips, negative clips) the Learn form makes of the reviewed run: its frames at the run
    rate inside each range, as ``workers.framesets.clip_frames`` takes them."""
    clip = bench.clips[correction["clip"]]
    references, negatives = [], []
    for segment, is_negative in learning_ranges(correction["reviewed"], CATEGORY, negatives=True):
        inside = (clip.timestamps_s >= segment.start_s) & (clip.timestamps_s < segment.end_s)
        source = f"{clip.source} ({segment.start_s:.2f}-{segment.end_s:.2f} s)"
        part = ClipFrames(clip.frames[inside], clip.timestamps_s[inside], source)
        if len(part.frames):
            (negatives if is_negative else references).append(part)
    return references, negatives


def recalibrated(trained: TrainedCategory, negatives: list[ClipFrames]) -> TrainedCategory:
    """The version after the recalibration job with the category's negatives (best-F1 threshold)."""
    losses = np.concatenate([frame_errors(trained.model, c.frames) for c in negatives])
    calibration = recalibrate(trained.calibration, negative_losses=losses, method="auto")
    return dataclasses.replace(trained, calibration=calibration)


def describe(correction: dict) -> dict:
    s = correction["segment"]
    was = "out" if s.label == "in" else "in"
    return {"clip": correction["clip"], "was": was, "now": s.label, "start_s": s.start_s, "end_s": s.end_s,
            "segments": len(correction["reviewed"])}  # fmt: skip


def summary(runs: dict[str, Scored], trained: TrainedCategory) -> dict:
    return {
        "threshold": trained.threshold,
        "method": trained.calibration.method,
        "dev": runs[DEV].dev,
        "clips": {n: [r.raw_out, r.out] for n, r in runs.items() if n != DEV},
        "dev_out": [runs[DEV].raw_out, runs[DEV].out],
    }


def run(args: argparse.Namespace) -> dict:
    options = TrainingOptions()
    if args.epochs:  # a quick look at the path, not a measurement
        train = dataclasses.replace(options.train, epochs=args.epochs)
        calibration = dataclasses.replace(options.calibration, fold_epochs=args.epochs)
        options = dataclasses.replace(options, train=train, calibration=calibration)
    spec = SamplingSpec(DEFAULT_TRAIN_FPS, options.model.height, options.model.width)
    cache = ClipCache(args.out / "frames")
    bench = Bench(args.data, cache, spec)
    soccer = [
        c for c in (cache.load(p, spec) for p in video_files(args.data / "videos/soccer")) if c is not None
    ]
    result: dict = {"skipped": bench.skipped, "models": {}, "corrections": {}, "timings_s": {}}
    started = time.perf_counter()
    defaults = train_category(CATEGORY, soccer, [], options)
    result["timings_s"]["train defaults"] = time.perf_counter() - started
    runs = bench.score_all(defaults)
    result["models"]["defaults"] = summary(runs, defaults)
    save(args, result, started)
    log(f"defaults trained and scored: {time.perf_counter() - started:.0f} s")

    def learn(name: str, fix) -> tuple[list, list]:
        """Record correction ``name`` and, when it gives negatives, the recalibrated version's scores."""
        references, negatives = clips_of(bench, fix)
        result["corrections"][name] = {**describe(fix), "references": len(references),
                                       "negatives": len(negatives)}  # fmt: skip
        if negatives:
            model = recalibrated(defaults, negatives)
            result["models"][f"{name}, recalibrate"] = summary(bench.score_all(model), model)
        save(args, result, started)
        return references, negatives

    fix_out = pick_correction(bench, runs, OUT_FOLDERS)  # the cheap one first: a run cut short keeps it
    if fix_out is not None:
        learn("other sport in -> out", fix_out)

    fix_in = pick_correction(bench, runs, IN_FOLDERS)
    if fix_in is not None:
        references, negatives = learn("soccer out -> in", fix_in)
        began = time.perf_counter()
        retrained = train_category(CATEGORY, [*soccer, *references], negatives, options)
        result["timings_s"]["retrain"] = time.perf_counter() - began
        result["models"]["soccer out -> in, retrain"] = summary(bench.score_all(retrained), retrained)
        log(f"soccer correction learnt: {time.perf_counter() - started:.0f} s")
    save(args, result, started)
    return result


def save(args: argparse.Namespace, result: dict, started: float) -> None:
    """Dump what is measured so far to ``--json`` (a run cut short keeps its finished parts)."""
    result["wall_s"] = time.perf_counter() - started
    result["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["command"] = "nice -n 19 .venv/bin/python -m benchmarks.learning " + " ".join(sys.argv[1:])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=float))


def log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def markdown(result: dict) -> str:
    """The tables: the broadcast's figures per version, then each clip's fraction out per version."""
    models = result["models"]
    corrected = {c["clip"]: key for key, c in result["corrections"].items()}
    lines = [f"Command: `{result['command']}` ({result['date']}, wall time {result['wall_s']:,.0f} s).", ""]
    for key, c in result["corrections"].items():
        lines.append(
            f"- Correction **{key}**: `{c['clip']}`, segment {c['start_s']:.2f}-{c['end_s']:.2f} s "
            f"({c['was']} -> {c['now']}, of {c['segments']} segments); the reviewed run gives "
            f"{c['references']} reference and {c['negatives']} negative clip(s)."
        )
    if not result["corrections"]:
        lines.append("- No clip had a wrong segment: nothing to correct.")
    lines += ["", "| version | threshold | broadcast AUROC | TPR | FPR | break P / R / F1 |"]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for name, m in models.items():
        d = m["dev"]
        lines.append(
            f"| {name} | {m['threshold']:.3g} ({m['method']}) | {d['auroc']:.3f} | {d['tpr']:.3f} "
            f"| {d['fpr']:.3f} | {d['break_precision']:.2f} / {d['break_recall']:.2f} / {d['break_f1']:.2f} |"
        )
    lines += ["", "Fraction of frames out, raw / smoothed (soccer_other should be 0, the others 1):", ""]
    lines += ["| clip | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
    for clip in next(iter(models.values()))["clips"]:
        mark = f" **(corrected: {corrected[clip]})**" if clip in corrected else ""
        cells = " | ".join("{:.2f} / {:.2f}".format(*m["clips"][clip]) for m in models.values())
        lines.append(f"| {clip}{mark} | {cells} |")
    if result["skipped"]:
        lines.append("\nSkipped (not decodable): " + ", ".join(result["skipped"]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument(
        "--out", default="benchmarks/out", type=Path, help="frame cache (shared with quality)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also dump all figures here")
    parser.add_argument(
        "--epochs", type=int, default=None, help="fewer epochs, to try the path (default: the product's)"
    )
    parser.add_argument("--from-json", type=Path, default=None, help="only re-render an earlier --json")
    args = parser.parse_args()
    result = json.loads(args.from_json.read_text()) if args.from_json else run(args)
    print(markdown(result))


if __name__ == "__main__":
    main()
