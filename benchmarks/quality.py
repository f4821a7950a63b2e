"""Quality benchmark: train soccer on videos/soccer, score broadcast_dev.mp4, compare with its ground truth.

    .venv/bin/python -m benchmarks.quality --data ../shared/data --write-docs

Frames are decoded once with ``scoring.frames`` and cached (``--cache``). Writes the "Quality" section of
docs/BENCHMARKS.md between its markers with ``--write-docs``; prints the same markdown otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.quality_metrics import Interval, Separation, separation
from scoring.calibration import recalibrate
from scoring.frames import SamplingSpec, extract_frames
from scoring.model import VAEConfig
from scoring.pipeline import (
    CalibrationOptions,
    ClipFrames,
    TrainedCategory,
    TrainingOptions,
    default_model_config,
    default_temporal_params,
    score_frames,
    train_category,
)
from scoring.segments import TemporalParams
from scoring.training import TrainConfig

START, END = "<!-- quality:start -->", "<!-- quality:end -->"
# Sources of broadcast_dev.mp4's ads and confounders: never usable as negatives.
DEV_SOURCES = ("Mihir-Maurya__trailer", "arietah8545__trailer", "ernxyz-alac__goal", "kanihal__jw",
               "jaapthind__burger", "jaapthind__macbook")  # fmt: skip
RAW = TemporalParams(window_s=0.0, low=1.0, high=1.0, min_segment_s=0.0, snap_to_cuts_s=0.0)


def baseline_options() -> TrainingOptions:
    """Plain pixel-MSE VAE: mean squared error, 99th percentile of held-out time blocks, no augmentation."""
    return TrainingOptions(
        model=VAEConfig(error_quantile=None, normalise_pixels=False),
        train=TrainConfig(augment=False),
        calibration=CalibrationOptions(percentile=99.0, method="percentile", holdout="blocks"),
    )


ALTERNATIVE = {
    "percentile": "percentile threshold (as without negatives)",
    "f1": "F1 threshold from negatives",
}


def vae_only_options() -> TrainingOptions:
    """The defaults with the colour-statistics term switched off: what the reconstruction error alone does."""
    return TrainingOptions(model=dataclasses.replace(default_model_config(), colour_weight=0.0))


def load_clip(path: Path, spec: SamplingSpec, cache: Path) -> ClipFrames:
    cached = cache / f"{path.parent.name}__{path.stem}__{spec.slug}.npz"
    if not cached.exists():
        fs = extract_frames(path, spec)
        np.savez(cached, frames=fs.frames, timestamps_s=fs.timestamps_s)
    data = np.load(cached)
    return ClipFrames(data["frames"], data["timestamps_s"], f"{path.parent.name}/{path.name}")


def video_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in {".mp4", ".avi", ".gif", ".mkv", ".webm"}
    )


def out_intervals(segments) -> list[Interval]:
    return [Interval(s.start_s, s.end_s) for s in segments if s.label == "out"]


def evaluate(trained: TrainedCategory, dev: ClipFrames, truth: dict, others: dict[str, ClipFrames]) -> dict:
    """Raw (threshold only) and smoothed figures on the dev broadcast, and confounder out-fractions."""
    started = time.perf_counter()
    raw = score_frames(dev, [trained], RAW)
    fps = len(dev.frames) / (time.perf_counter() - started)
    smooth = score_frames(dev, [trained], default_temporal_params())
    times = dev.timestamps_s
    figures = {
        "raw": separation(raw.best_scores, raw.out, times, out_intervals(raw.segments), truth),
        "smoothed": separation(smooth.smoothed, smooth.out, times, out_intervals(smooth.segments), truth),
        "scoring_fps": fps,
        "confounders": {},
    }
    for name, clip in others.items():
        result = score_frames(clip, [trained], default_temporal_params())
        figures["confounders"][name] = (float(np.mean(result.best_scores > 1)), float(np.mean(result.out)))
    return figures


def with_threshold(trained: TrainedCategory, threshold: float, method: str) -> TrainedCategory:
    calibration = dataclasses.replace(trained.calibration, threshold=threshold, method=method)
    return dataclasses.replace(trained, calibration=calibration)


def run(args: argparse.Namespace) -> dict:
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
    negative_paths = video_files(data / "videos/ads") + video_files(data / "videos/other")
    negatives = [
        load_clip(p, spec, cache) for p in negative_paths if not any(s in p.stem for s in DEV_SOURCES)
    ]
    rows = {}
    for label, options in (
        ("baseline (pixel-MSE VAE)", baseline_options()),
        ("VAE only (defaults without the colour term)", vae_only_options()),
        ("best (defaults)", TrainingOptions()),
    ):
        trained = train_category("soccer", soccer, negatives, options)
        rows[label] = {"train_s": trained.metadata["duration_s"], **evaluate(trained, dev, truth, others)}
        # the other threshold of the same model: percentile (as without negatives) or F1 (with them)
        other = "percentile" if trained.calibration.method == "f1" else "f1"
        threshold = recalibrate(trained.calibration, method=other).threshold
        rows[f"{label}, {ALTERNATIVE[other]}"] = {
            "train_s": trained.metadata["duration_s"],
            **evaluate(with_threshold(trained, threshold, other), dev, truth, others),
        }
    return {
        "rows": rows,
        "negatives": [c.source for c in negatives],
        "frames": sum(len(c.frames) for c in soccer),
    }


# Figures from the exploration that chose the defaults (one training run, many frame errors and thresholds
# computed from its saved per-pixel error maps); kept here so the docs section is regenerated whole.
EXPLORATION = """
### How the defaults were chosen

Exploration on one set of trained models (54x96, 20 epochs on the four soccer clips plus four
leave-one-clip-out models of 12 epochs each; 2026-11-23, ad-hoc analysis of their saved per-pixel error maps,
the same code paths as `scoring.scorer`). Smoothed = 1 s rolling median.

| frame error | AUROC raw | FPR @ TPR 0.95 raw | AUROC smoothed | FPR @ TPR 0.95 smoothed |
| --- | --- | --- | --- | --- |
| mean squared error (the plain VAE) | 0.867 | 0.279 | 0.870 | 0.279 |
| 10th percentile of per-pixel errors | 0.988 | 0.168 | 0.988 | 0.167 |
| 30th percentile | 0.974 | 0.148 | 0.977 | 0.148 |
| 50th percentile | 0.910 | 0.279 | 0.914 | 0.279 |
| 20th pct., pixels / median error of the training model's held-out blocks | 0.980 | 0.134 | 0.981 | 0.133 |
| 10th pct., pixels / median error on held-out clips (leave-one-clip-out) | 0.987 | 0.111 | 0.987 | 0.115 |
| **15th pct., pixels / median error on held-out clips** (default) | 0.991 | 0.068 | 0.993 | 0.009 |
| 20th pct., pixels / median error on held-out clips | 0.991 | 0.091 | 0.993 | 0.008 |

Why: the unseen matches' soccer frames that the plain VAE rejects are close-ups (players and crowd filling
the frame; the training clips are mostly wide shots). A low quantile of the per-pixel error asks whether most
of the frame looks like soccer; dividing each pixel by its typical error on *unseen* matches (leave one clip
out) down-weights regions that differ between broadcasts anyway (stands, score bugs). The hardest positives
left are the cricket insert (a green field with ad boards) and a few dark frames of the MacBook ad.

Thresholds for that default error (smoothed decisions, default temporal parameters):

| threshold rule | TPR | FPR | break F1 | boundary error (s) |
| --- | --- | --- | --- | --- |
| 99th pct. of the final model's held-out time blocks (the usual rule) | 1.000 | 0.661 | 0.14 | 7.68 |
| 90th pct. of all held-out-clip losses pooled | 0.783 | 0.000 | 0.77 | 0.95 |
| median over clips of each clip's 99th pct. | 0.984 | 0.129 | 0.82 | 0.77 |
| geometric mean over clips of each clip's 99th pct. | 0.865 | 0.000 | 0.83 | 0.00 |
| **geometric mean over clips of each clip's 95th pct.** (default) | 0.934 | 0.000 | 0.92 | 0.00 |
| 0.9 x the default | 0.982 | 0.072 | 1.00 | 0.74 |

Held-out time blocks of the training matches say nothing about new matches (their threshold flags 66% of the
unseen soccer); held-out *clips* do, but one clip (LaLiga, Bernabeu) is far from the other three (its held-out
error is ~3x theirs), so pooling lets it set the threshold alone; the geometric mean of per-clip percentiles
weighs each unseen match equally. The window between "misses cricket" and "flags close-ups" is narrow
(about 0.9x to 1.0x of the default threshold): calibration, not ranking, is what limits the decisions.
Temporal parameters (window 0.5 to 2 s, minimum segment 2 to 3 s, snapping 0 to 1 s, hysteresis low 0.8
to 1.0) changed little at the default threshold, so the segments module's defaults stay (1 s median, low
0.9, high 1.0, 2 s minimum segment, 0.5 s snap to shot cuts).

Reading the main table: it retrains everything end to end through `scoring.pipeline` on frames decoded by
`scoring.frames`. Its default model ranks worse than the exploration run (smoothed FPR at TPR 0.95 of 0.122
against 0.009, AUROC 0.983 against 0.993) with the same code and seeds but another decode path and thread
count: run-to-run variation on four training clips is as large as the gaps between the candidates above, so
the exploration figures are optimistic and the main table is the honest one. The baseline (no augmentation,
threshold from held-out time blocks) flags every frame of the unseen broadcast; with augmentation the same
mean-squared-error model still flags 62% of the unseen soccer (exploration, raw). For the reconstruction
error alone, negatives with the F1-optimal threshold trade the missed cricket/tennis inserts for false alarms
on soccer close-ups (TPR 1.0, FPR 0.18, break precision 0.70): see below for why that changed.

### The colour-statistics term (second exploration, 2026-11-23)

The reconstruction error above still ranks the tennis insert (a blue court framed by green) and the cricket
insert below the close-ups of unseen matches: a low quantile of the per-pixel error only asks whether *some*
of the frame rebuilds well, and flat areas of any colour do. Candidates were scored offline on one training
run (the final model and four leave-one-clip-out models of the main table's defaults, their per-pixel error
maps and latent means saved), each term normalised and thresholded by the same leave-one-clip-out rule
(geometric mean of the held-out clips' 95th percentiles). *Colour* = mean L1 distance of the frame's joint
HSV histogram (16 hue x 4 saturation x 4 value bins) to its 5 nearest reference histograms (training frames,
evenly subsampled). Smoothed figures on `broadcast_dev.mp4`; the last column is the fraction of frames flagged
(raw) on the three unseen soccer clips of `videos/soccer_other/` (dome goalkeeper training / tactical camera
/ broadcast goal), which should be 0.

| frame score | AUROC | FPR @ TPR 0.95 | TPR | FPR | break F1 | unseen soccer out |
| --- | --- | --- | --- | --- | --- | --- |
| reconstruction error alone (first default) | 0.983 | 0.122 | 0.865 | 0.044 | 0.83 | .22 / .00 / .27 |
| latent Mahalanobis distance (z = mu) | 0.860 | 0.775 | 0.910 | 0.500 | 0.25 | – |
| error x Mahalanobis, geometric mean | 0.966 | 0.167 | 0.992 | 0.181 | 0.82 | – |
| colour alone | 1.000 | 0.000 | 0.854 | 0.000 | 0.83 | .23 / .00 / .00 |
| max(error, colour), each over its threshold | 0.991 | 0.069 | 0.865 | 0.000 | 0.83 | .00 / .00 / .15 |
| error^0.7 x colour^0.3 | 0.985 | 0.099 | 0.865 | 0.030 | 0.83 | .23 / .00 / .22 |
| error^0.5 x colour^0.5 | 0.989 | 0.083 | 0.865 | 0.026 | 0.83 | .24 / .00 / .17 |
| **error^0.3 x colour^0.7** (second default) | 0.996 | 0.035 | 0.865 | 0.000 | 0.83 | .19 / .00 / .06 |
| error^0.2 x colour^0.8 | 0.999 | 0.000 | 0.865 | 0.000 | 0.83 | .20 / .00 / .00 |

Colour alone ranks this broadcast perfectly, but it is the weaker detector elsewhere: it flags 24% of the
Mihir-Maurya trailer that the reconstruction error flags entirely, and 13% of the tennis clip; the issue's own
measurement found a colour-histogram score ranking other broadcasts at about 0.96 AUROC. The combination
keeps both: weights 0.7 and 0.8 rank equally well on these clips, and 0.7 was kept as the smaller departure
from the VAE. Threshold percentile for the combined score (weight 0.7): the 80th / 90th / 95th percentile
flag 0.039 / 0.014 / 0.000 of the broadcast's soccer and 62% / 33% / 19% of the dome clip, with break F1 0.83
for all three: the tennis frames of the broadcast (seconds 7 to 13 of the clip) stay below every one of
them, and so does most of the cricket insert, so the 95th percentile stays. The two inserts are what keeps
break F1 at 0.83: detecting either would give 0.92.

Threshold method. With the colour term the F1-optimal threshold against negative clips (ads and unrelated
footage, never a source of the broadcast) detects all seven breaks of the broadcast with no false
out-segment (break F1 1.00, boundary error 0.66 s, 6.9% of soccer frames flagged next to the breaks), where
the leave-one-clip-out percentile misses the tennis and cricket inserts (break F1 0.83). But it does not
transfer: it flags 43% (raw) and 100% (smoothed) of `osamashaaban__goal`, an unseen broadcast goal that the
percentile threshold leaves in (0.06 / 0.00). A threshold set against this set of negatives says more about
them than about new soccer, so the default stays the percentile; `auto` (F1 when the category has negatives)
and `f1` are options in the training form, the API, the command line and the admin's recalibrate action.

### Where the colours are (third exploration, 2026-11-23)

One histogram per frame cannot tell a tennis court (blue in the middle, green around it) from a soccer frame
whose stands or kits bring the same blue: the mix is the same, only its place differs. Candidates: one
histogram per cell of a grid over the frame, concatenated (each cell weighing 1 / cells, so distances stay in
0..2), compared as before (L1, 5 nearest of N reference frames). Scored offline on one training run of the
defaults of the time (final model and four leave-one-clip-out models; the VAE term unchanged), thresholds by
the same leave-one-clip-out rule, smoothed decisions with the default temporal parameters. *Tennis* and
*cricket* are the standalone clips of `videos/other_sports/` (should be 1); *goal* is the unseen broadcast
`soccer_other/osamashaaban__goal` (should be 0), each raw / smoothed. In every row the youth-training clip
stays in (0.00) and the dome clip is flagged once smoothed (1.00), so they are left out. *1x1*, *2x2*: one
histogram per frame, per quarter; * each term over its own threshold.

| colour | w | AUROC | FPR @ TPR .95 | TPR | FPR | break F1 | bound. (s) | tennis | cricket | goal |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| 1x1, 1024 refs (2nd default) | 0.7 | .996 | .037 | .865 | .000 | 0.83 | 0.00 | .13/.13 | .07/.00 | .06/.00 |
| 1x1 | 0.8 | .999 | .000 | .865 | .000 | 0.83 | 0.00 | .13/1.00 | .06/.00 | .00/.00 |
| 1x1 | 0.9 | 1.00 | .000 | .865 | .000 | 0.83 | 0.00 | .13/.13 | .03/.00 | .00/.00 |
| 2x2, 256 refs | 0.7 | .994 | .025 | .865 | .047 | 0.83 | 0.58 | .43/1.00 | .14/.00 | .10/.00 |
| **2x2, 256 refs** (default) | 0.8 | .996 | .000 | .982 | .060 | 1.00 | 0.64 | .95/1.00 | .19/.00 | .03/.00 |
| 2x2 | 0.85 | .997 | .000 | .982 | .061 | 1.00 | 0.65 | .98/1.00 | .20/.00 | .01/.00 |
| 2x2 | 0.9 | .999 | .000 | .982 | .065 | 1.00 | 0.68 | .99/1.00 | .22/1.00 | .00/.00 |
| 2x2, colour alone | 1.0 | 1.00 | .000 | .982 | .083 | 1.00 | 0.85 | .99/1.00 | .26/1.00 | .01/.00 |
| 2x2, max(error, colour) * | – | .996 | .027 | .982 | .083 | 1.00 | 0.85 | .99/1.00 | .35/1.00 | .29/.53 |
| 2x2, 8 hue bins | 0.8 | .996 | .000 | .913 | .058 | 0.92 | 0.72 | .80/1.00 | .14/.00 | .03/.00 |
| 2x3 | 0.8 | .996 | .000 | .983 | .064 | 1.00 | 0.67 | .98/1.00 | .22/.00 | .04/.00 |
| 3x3, 1024 refs | 0.8 | .990 | .087 | .913 | .075 | 0.92 | 0.90 | .84/1.00 | .22/.00 | .01/.00 |

The quarters are what moves the tennis insert over the threshold; weight 0.8 is the smallest that does it
(0.85 and 0.9 buy nothing on the broadcast, and colour alone flags 65% of the ice-hockey clip raw, the VAE
all of it). Finer grids rank worse (3x3: FPR 0.087 at TPR 0.95): with four training matches, a cell of a
ninth of the frame is often a close-up's shirt. 256 reference frames rank as 1024 do (colour alone, 2x2: TPR
0.935 / 0.940, same AUROC 1.000) and keep the cost of the distances where it was (1024 values x 256 frames =
256 x 1024): those distances are now computed only over the bins either side uses, exactly, 1.5 to 3x faster
(0.26 -> 0.17 ms per frame on the broadcast, 0.35 -> 0.12 on the tennis clip, one thread). The main table's
end-to-end run reproduces the default's row to the third decimal. Rejected as well: mirrored training frames
in the colour reference (half of the 256 flipped left to right, for layouts the four matches did not film):
they bring soccer and tennis closer alike (tennis clip 0.15 raw at w = 0.8, break F1 0.92).

The margin is thin, and this table should be read with it. The inserts that decided break F1 before still
sit at the threshold: smoothed medians 0.99 (tennis) and 0.95 (cricket), detected because hysteresis keeps
a segment open down to 0.9 once a part of it crosses 1.0; the cricket clip on its own stays in. Scaling the
default threshold:

| threshold | TPR | FPR | break F1 | boundary (s) | tennis | cricket | goal |
| --- | --- | --- | --- | --- | --- | --- | --- |
| 0.90 x | 1.000 | 0.181 | 0.82 | 0.96 | 1.00 / 1.00 | .78 / 1.00 | .56 / 1.00 |
| 0.95 x | 0.986 | 0.090 | 1.00 | 0.89 | 1.00 / 1.00 | .43 / 1.00 | .19 / .74 |
| **1.00 x** (default) | 0.982 | 0.060 | 1.00 | 0.64 | .95 / 1.00 | .19 / .00 | .03 / .00 |
| 1.05 x | 0.865 | 0.013 | 0.83 | 0.16 | .13 / 1.00 | .05 / .00 | .00 / .00 |
| 1.10 x | 0.865 | 0.000 | 0.83 | 0.00 | .13 / .13 | .03 / .00 | .00 / .00 |

Break F1 >= 0.9 holds from about 0.95x to 1.0x of the calibrated threshold; below it the unseen broadcast goal
goes out, above it the tennis insert comes back in. The calibration rule was fixed before this exploration
(the geometric mean of per-clip 95th percentiles; 85th and 90th give the same F1 here), not fitted to the
broadcast, but on four training matches the next broadcast may well land on the other side: more reference
footage (close-ups, other stadiums) is what would widen the window, not another term.
A second, independent training (the `scoring train` command of the cost paragraph below, two threads instead
of one) found the same seven out-segments with `python -m scoring score` on the broadcast, tennis at
87.8-93.6 s and cricket at 118.0-123.4 s (truth: 87.8-93.6 and 116.6-122.1).

With the quarters the F1-optimal threshold against negatives (main table) is now the worse rule on every
count: it flags 18% of the broadcast's soccer (break precision 0.70, F1 0.82) and all of the unseen broadcast
goal once smoothed, where the percentile flags none of it. The percentile stays the default.

Cost of the defaults. With the 2x2 colour grid (2026-11-23 15:51 UTC, load average 0.3 at the start):
`/usr/bin/time .venv/bin/python -m scoring train --out DIR ../shared/data/videos/soccer/*.mp4` took 3 min 5 s
wall (177 s in training and calibration: 20 epochs of the final model + four 12-epoch leave-one-clip-out
models, 193% CPU, 1.4 GB peak memory): the 5-minute target is met (the single histogram's run took 3 min 53 s
at 13:51 on the same machine; session 1 measured 11 min while other jobs held it, load average 3-4). Scoring
speed with the colour term (throughput section, 2 threads): three runs between 15:55 and 16:00 UTC gave
1,391, 1,270 and 977 frames/s, the training rate of the same runs moving with it (544 to 365 frames/s); the
single histogram's four runs earlier that day gave 893 to 1,273. A profile of `frame_errors` puts 60% of the
time in the decoder's transposed convolutions, 15% in the encoder and about 17% in the colour term
(histograms 0.07 ms, distances 0.11 ms per frame): the 1,000 frames/s target is met on a quiet machine and
sits inside this shared VM's run-to-run spread on a busy one.
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.{digits}f}"


def _separation_row(label: str, kind: str, s: Separation) -> str:
    cells = [label, kind, _fmt(s.auroc, 4), _fmt(s.fpr_at_tpr95), _fmt(s.tpr), _fmt(s.fpr),
             f"{_fmt(s.break_precision, 2)} / {_fmt(s.break_recall, 2)} / {_fmt(s.break_f1, 2)}",
             _fmt(s.ad_break_recall, 2), _fmt(s.boundary_error_s, 2)]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


TARGETS = (  # (figure, label, goal, higher is better) on the smoothed decisions of the default model
    ("auroc", "frame AUROC", 0.97, True),
    ("fpr_at_tpr95", "FPR at TPR 0.95", 0.05, False),
    ("break_f1", "break F1", 0.9, True),
    ("boundary_error_s", "boundary error (s)", 1.0, False),
)


def verdict(result: dict) -> list[str]:
    """One line per target for the default model's smoothed figures: met, or missed and by how much."""
    smoothed = result["rows"]["best (defaults)"]["smoothed"]
    lines = ["", "Targets (default model, smoothed):", ""]
    for name, label, goal, higher in TARGETS:
        value = getattr(smoothed, name)
        met = value >= goal if higher else value <= goal
        status = "met" if met else f"**missed** by {abs(value - goal):.3f}"
        lines.append(f"- {label}: {value:.3f} (target {'>=' if higher else '<='} {goal}): {status}")
    return lines


def markdown(result: dict, command: str, seconds: float) -> str:
    lines = [
        START,
        "## Quality",
        "",
        f"Command: `{result.get('command', command)}`  ",
        f"Date: {result['date']}; machine: {_cpu_model()}, {result['threads']} torch thread(s) on "
        f"{os.cpu_count()} cores (shared with other jobs), torch {torch.__version__}; benchmark wall time "
        f"{seconds / 60:.1f} min (train s below include scoring the negatives).  ",
        f"Training: the four clips of `videos/soccer/` at native fps ({result['frames']} frames). Scored: "
        "`broadcast_dev.mp4` (5,215 frames, soccer from two matches not in the training set). Positive = not "
        "soccer. *Raw* = frame score > 1; *smoothed* = the default temporal parameters (median window, "
        "hysteresis, minimum segment, snap to shot cuts). Breaks = maximal runs of non-soccer segments (2 ad "
        "breaks + 5 other-sport inserts); detected when an out-segment overlaps with IoU >= 0.5.",
        "",
        "| model | scores | AUROC | FPR @ TPR 0.95 | TPR | FPR | break P / R / F1 | ad-break recall "
        "| boundary error (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, row in result["rows"].items():
        lines.append(_separation_row(label, "raw", row["raw"]))
        lines.append(_separation_row(label, "smoothed", row["smoothed"]))
    lines += verdict(result)
    lines += clip_table(result, "other_sports", OTHER_SPORTS_CAPTION)
    lines += clip_table(result, "soccer_other", UNSEEN_SOCCER_CAPTION)
    lines += [
        "",
        f"Negatives (never a source of the dev broadcast): {', '.join(result['negatives'])}.",
        EXPLORATION,
        END,
    ]
    return "\n".join(lines)


OTHER_SPORTS_CAPTION = (
    "Other-sport confounders (train on soccer, score each clip of `videos/other_sports/`): fraction of "
    "frames flagged out (should be 1), raw / smoothed."
)
UNSEEN_SOCCER_CAPTION = (
    "Unseen soccer (each clip of `videos/soccer_other/`, never trained on: a goalkeeper-training clip in a "
    "white dome, a broadcast goal, a tactical camera): fraction of frames flagged out (should be 0), raw / "
    "smoothed."
)


def clip_table(result: dict, folder: str, caption: str) -> list[str]:
    """Out-fractions per clip of one folder for every model, with training time and scoring speed."""
    first = next(iter(result["rows"].values()))["confounders"]
    names = [n for n in first if n.startswith(folder + "/") or (folder == "other_sports" and "/" not in n)]
    header = [n.split("/")[-1] for n in names]
    lines = ["", caption, "", "| model | " + " | ".join(header) + " | train s | scoring frames/s |",
             "| --- " * (len(names) + 3) + "|"]  # fmt: skip
    for label, row in result["rows"].items():
        cells = [f"{row['confounders'][n][0]:.2f} / {row['confounders'][n][1]:.2f}" for n in names]
        lines.append(
            f"| {label} | " + " | ".join(cells) + f" | {row['train_s']:.0f} | {row['scoring_fps']:.0f} |"
        )
    return lines


def load_result(path: Path) -> dict:
    """A ``--json`` dump with its figures turned back into ``Separation`` objects."""
    result = json.loads(path.read_text())
    for row in result["rows"].values():
        row["raw"], row["smoothed"] = Separation(**row["raw"]), Separation(**row["smoothed"])
    result.setdefault("wall_s", float("nan"))
    return result


def write_docs(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Offside benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--cache", default="/tmp/offside_bench/frames")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--json", default=None, help="also dump all figures here")
    parser.add_argument("--from-json", default=None, help="only re-render the markdown of an earlier --json")
    args = parser.parse_args()
    started = time.perf_counter()
    command = ".venv/bin/python -m benchmarks.quality --write-docs"
    if args.from_json:
        result = load_result(Path(args.from_json))
        section = markdown(result, command, result["wall_s"])
    else:
        result = run(args)
        result["wall_s"] = time.perf_counter() - started
        result["date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        result["threads"] = torch.get_num_threads()
        section = markdown(result, command, result["wall_s"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, default=lambda o: dataclasses.asdict(o), indent=1))
    if args.write_docs:
        write_docs(Path(__file__).resolve().parent.parent / "docs/BENCHMARKS.md", section)
    print(section)


if __name__ == "__main__":
    main()
