"""Where `python -m scoring score` spends its CPU time, and what reusing near-identical frames' scores
costs in quality (docs/BENCHMARKS.md, "Scoring throughput").

    python -m benchmarks.scoring_profile stages VIDEO --model DIR [--reuse-below 2] [--batch 256]
    python -m benchmarks.scoring_profile reuse --model DIR [--video broadcast_dev.mp4] [--limits 1 2 3 4]

``stages`` runs what ``scoring.cli.cmd_score`` runs, one stage at a time, and prints each stage's CPU time
(user + system of all threads) and wall time. Like ``python -m scoring``, it lets idle OpenMP threads sleep
unless ``OMP_WAIT_POLICY`` is set (set it to compare policies; torch reads it once, when it loads).
``reuse`` scores a video with a ground truth at every frame, through the network and with
each reuse limit, and prints the frame AUROC, the agreement of the out decisions and the per-frame score
deviation.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "broadcast_dev.mp4"


class Stages:
    """Accumulates (CPU s, wall s) per stage name, in first-seen order."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}

    def timed(self, name: str, fn, *args):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = fn(*args)
        total = self.totals.setdefault(name, [0.0, 0.0])
        total[0] += time.process_time() - cpu0
        total[1] += time.perf_counter() - wall0
        return result

    def report(self, n_frames: int) -> str:
        lines = [f"{name:34s} cpu {c:7.3f} s  wall {w:7.3f} s  {1000 * c / n_frames:6.3f} ms/frame"
                 for name, (c, w) in self.totals.items()]  # fmt: skip
        lines.append(f"{'total':34s} cpu {sum(c for c, _ in self.totals.values()):7.3f} s")
        return "\n".join(lines)


def stages(video: str, model_dir: Path, reuse_below: float, batch: int) -> str:
    """Per-stage timings of scoring ``video`` at every frame, as ``cmd_score`` does it."""
    s = Stages()
    s.timed("import torch and scoring", _imports)
    import numpy as np
    import torch

    from scoring import colour, scorer
    from scoring.cli import extract, score_json
    from scoring.pipeline import decide_scores, default_temporal_params, load_checkpoint
    from scoring.shotcuts import detect_shot_cuts

    trained = s.timed("load the model", load_checkpoint, model_dir, "cpu")
    model, cfg = trained.model, trained.config
    frameset = s.timed("extraction (decode + resize)", extract, video, cfg.height, cfg.width, None, False)
    source = s.timed("reuse gate", scorer.reused_frames, frameset.frames, reuse_below)
    scored, where = np.unique(source, return_inverse=True)
    frames = frameset.frames[scored]
    scorer._for_inference(model)
    errors = np.empty(len(frames))
    with torch.inference_mode():
        for start in range(0, len(frames), batch):
            chunk = frames[start : start + batch]
            x = s.timed("input conversion", scorer._to_input, chunk, torch.device("cpu"))
            x = x.contiguous(memory_format=torch.channels_last)
            recon = s.timed("VAE forward", lambda x: model.decode(model.encode(x)[0]), x)
            per_pixel = s.timed("per-pixel error", scorer.pixel_errors, x, recon)
            vae = s.timed("quantile / pixel scale", lambda e: scorer.model_error(model, e).double().numpy(),
                          per_pixel)  # fmt: skip
            hists = s.timed("HSV histograms", cfg.colour_descriptors, chunk)
            dist = s.timed("colour kNN", cfg.colour_distances, hists, model.colour_reference)
            dist = dist * cfg.negative_factor(hists, dist, model.negative_reference)
            errors[start : start + len(chunk)] = colour.combine(vae, dist, cfg.colour_weight)
    scores = errors[where][None] / trained.threshold
    cuts = s.timed("shot cuts", detect_shot_cuts, frameset.timestamps_s, frameset.frames)
    params = default_temporal_params()
    result = s.timed("smoothing / segments", decide_scores, frameset, [trained], scores, params, cuts)
    s.timed("JSON", lambda: json.dumps(score_json(video, result)))
    header = f"{len(frameset.frames)} frames, {len(scored)} through the network, batch {batch}"
    return header + "\n" + s.report(len(frameset.frames))


def _imports() -> None:
    import torch  # noqa: F401

    import scoring.cli  # noqa: F401
    import scoring.pipeline  # noqa: F401


def reuse(video: Path, model_dir: Path, limits: list[float]) -> str:
    """Quality of reused scores against scoring every frame, on ``video`` and its ``.json`` ground truth."""
    import numpy as np

    from benchmarks.quality_metrics import Interval, separation, truth_out_frames
    from scoring.calibration import auroc
    from scoring.frames import SamplingSpec, extract_frames
    from scoring.pipeline import load_checkpoint, score_frames
    from scoring.scorer import reused_frames

    trained = load_checkpoint(model_dir)
    truth = json.loads(video.with_suffix(".json").read_text())
    frameset = extract_frames(video, SamplingSpec(None, trained.config.height, trained.config.width))
    positive = truth_out_frames(truth, frameset.timestamps_s)
    lines = [f"{len(frameset.frames)} frames"]
    plain = None
    for limit in [0.0, *limits]:
        cpu0 = time.process_time()
        result = score_frames(frameset, [trained], reuse_below=limit)
        spent = time.process_time() - cpu0
        predicted = [Interval(s.start_s, s.end_s) for s in result.segments if s.label == "out"]
        sep = separation(result.smoothed, result.out, frameset.timestamps_s, predicted, truth)
        best = result.best_scores
        raw = auroc(best[~positive], best[positive])
        kept = len(np.unique(reused_frames(frameset.frames, limit)))
        line = (f"limit {limit:g}: {kept / len(best):.0%} through the network, scoring cpu {spent:.2f} s, "
                f"AUROC smoothed {sep.auroc:.4f} raw {raw:.4f}, TPR {sep.tpr:.3f} FPR {sep.fpr:.3f}, "
                f"break F1 {sep.break_f1:.2f}")  # fmt: skip
        if plain is None:
            plain = (result, sep.auroc, raw)
        else:
            deviation = np.abs(best - plain[0].best_scores) / np.abs(plain[0].best_scores)
            line += (f"; AUROC change {sep.auroc - plain[1]:+.4f} / {raw - plain[2]:+.4f}, out decisions "
                     f"agree {np.mean(result.out == plain[0].out):.2%}, score deviation max "
                     f"{deviation.max():.3f} p99 {np.percentile(deviation, 99):.3f} "
                     f"mean {deviation.mean():.4f}")  # fmt: skip
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stages")
    p.add_argument("video")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--reuse-below", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=256)
    p = sub.add_parser("reuse")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    p.add_argument("--limits", type=float, nargs="+", default=[1.0, 2.0, 3.0, 4.0])
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as scoring.__main__, before torch loads
    if args.command == "stages":
        print(stages(args.video, args.model, args.reuse_below, args.batch))
    else:
        print(reuse(args.video, args.model, args.limits))


if __name__ == "__main__":
    main()
