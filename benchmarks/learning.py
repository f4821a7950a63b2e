"""Learning from one correction, on the quality protocol: train soccer with the defaults, score the dev
broadcast, correct its first wrong segment as a reviewer would (flip its label), then either recalibrate (a
missed break becomes negative frames: best-F1 threshold) or retrain (a false alarm becomes reference frames),
and report how the broadcast and the other clips change.

    nice -n 19 .venv/bin/python -m benchmarks.learning --data ../shared/data

Prints a markdown section for docs/BENCHMARKS.md. Frames are cached like benchmarks/quality.py's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.quality import evaluate, load_clip, video_files, with_threshold
from benchmarks.quality_metrics import truth_out_frames
from scoring.calibration import recalibrate
from scoring.frames import SamplingSpec
from scoring.model import VAEConfig
from scoring.pipeline import (
    ClipFrames,
    TrainingOptions,
    default_temporal_params,
    score_frames,
    train_category,
)
from scoring.scorer import frame_errors


def first_wrong_segment(segments, times_s: np.ndarray, truth_out: np.ndarray):
    """The first machine segment whose label disagrees with most of its frames' truth, or None."""
    for segment in segments:
        inside = (times_s >= segment.start_s) & (times_s < segment.end_s)
        if inside.any() and (np.mean(truth_out[inside]) > 0.5) != (segment.label == "out"):
            return segment
    return None


def learn(trained, soccer, dev: ClipFrames, wrong) -> tuple[str, object]:
    """(what was done, the corrected model) for the corrected segment ``wrong`` of ``dev``."""
    inside = (dev.timestamps_s >= wrong.start_s) & (dev.timestamps_s < wrong.end_s)
    if wrong.label == "in":  # a missed break: its frames are negatives now
        negatives = frame_errors(trained.model, dev.frames[inside])
        calibration = recalibrate(trained.calibration, negative_losses=negatives, method="auto")
        return "recalibrate (missed break as negatives, best F1)", with_threshold(
            trained, calibration.threshold, calibration.method
        )
    correction = ClipFrames(dev.frames[inside], dev.timestamps_s[inside], "broadcast_dev correction")
    return "retrain (false alarm as reference)", train_category(
        "soccer", [*soccer, correction], [], TrainingOptions()
    )


def row(label: str, figures: dict) -> str:
    smooth = figures["smoothed"]
    others = " | ".join(f"{raw:.2f} / {sm:.2f}" for raw, sm in figures["confounders"].values())
    return (
        f"| {label} | {smooth.tpr:.3f} | {smooth.fpr:.3f} | {smooth.break_precision:.2f} / "
        f"{smooth.break_recall:.2f} / {smooth.break_f1:.2f} | {others} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--cache", default="/tmp/offside_bench/frames")  # shared with benchmarks/quality.py
    args = parser.parse_args()
    data, cache = Path(args.data), Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    spec = SamplingSpec(None, VAEConfig().height, VAEConfig().width)
    soccer = [load_clip(p, spec, cache) for p in video_files(data / "videos/soccer")]
    dev = load_clip(data / "broadcast_dev.mp4", spec, cache)
    truth = json.loads((data / "broadcast_dev.json").read_text())
    others = {
        f"{folder}/{p.stem}": load_clip(p, spec, cache)
        for folder in ("other_sports", "soccer_other")
        for p in video_files(data / "videos" / folder)
    }
    started = time.perf_counter()
    trained = train_category("soccer", soccer, [], TrainingOptions())
    before = evaluate(trained, dev, truth, others)
    result = score_frames(dev, [trained], default_temporal_params())
    wrong = first_wrong_segment(result.segments, dev.timestamps_s, truth_out_frames(truth, dev.timestamps_s))
    header = "| model | TPR | FPR | break P / R / F1 | " + " | ".join(others) + " |"
    lines = [header, "| " + " | ".join(["---"] * (4 + len(others))) + " |", row("defaults", before)]
    if wrong is None:
        lines.append("\nNo segment of the broadcast is wrong: nothing to correct.")
    else:
        how, corrected = learn(trained, soccer, dev, wrong)
        lines.append(row(f"after: {how}", evaluate(corrected, dev, truth, others)))
        lines.insert(
            0, f"Corrected: {wrong.label} {wrong.start_s:.2f}-{wrong.end_s:.2f} s of the broadcast.\n"
        )
    lines.append(f"\nWall time {time.perf_counter() - started:.0f} s.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
