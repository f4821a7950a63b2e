"""Where the time of ``python -m scoring train`` goes: the same path (decode each clip, ``train_category``,
save), each pipeline step timed in wall and process CPU seconds, and every epoch of every model.

    nice -n 5 .venv/bin/python -m benchmarks.training_cost --out /tmp/model ../shared/data/videos/soccer/*.mp4
    ... --fold-epochs 12     # the defaults before issue 13, item 6

Prints one line per step and per model (fold 0 = the final model, k = the k-th leave-one-clip-out model).
CPU time rises with the machine's load (threads wait and lose their caches): compare runs at similar load.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import scoring.pipeline as pipeline
from scoring.cli import extract
from scoring.model import VAEConfig

# pipeline functions that train_category calls: each is wrapped in a timer for the run
STEPS = ("train_vae", "error_maps", "held_out_colour", "_fit_error_scale", "model_error")


class Timings:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float, float]] = []  # (name, wall s, CPU s)
        self.epochs: list[tuple[int, float, float]] = []  # (fold, wall s, CPU s) since the previous epoch end
        self.last = (time.perf_counter(), time.process_time())

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.steps.append((name, time.perf_counter() - wall, time.process_time() - cpu))

        return timed

    def on_progress(self, epoch: int, step: int, metrics: dict[str, float]) -> None:
        if "val_loss" in metrics:
            now = (time.perf_counter(), time.process_time())
            self.epochs.append((int(metrics["fold"]), now[0] - self.last[0], now[1] - self.last[1]))
            self.last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--epochs", type=int, default=None, help="final model's (default: the product's)")
    parser.add_argument("--fold-epochs", type=int, default=None, help="default: the product's")
    args = parser.parse_args()
    options = pipeline.TrainingOptions()
    if args.epochs is not None:
        options = dataclasses.replace(options, train=dataclasses.replace(options.train, epochs=args.epochs))
    if args.fold_epochs is not None:
        calibration = dataclasses.replace(options.calibration, fold_epochs=args.fold_epochs)
        options = dataclasses.replace(options, calibration=calibration)
    timings = Timings()
    for name in STEPS:  # restored by the process ending: this module is only ever run as a program
        setattr(pipeline, name, timings.wrap(name, getattr(pipeline, name)))
    # the colour term's descriptors are a method of the configuration (a plain function on the class binds)
    VAEConfig.colour_descriptors = timings.wrap("colour_descriptors", VAEConfig.colour_descriptors)
    size = options.model.height, options.model.width
    clips = []
    for video in args.videos:
        frames = timings.wrap(f"decode {Path(video).name}", extract)(
            video, *size, pipeline.DEFAULT_TRAIN_FPS, False
        )
        clips.append(pipeline.ClipFrames.of(frames, video))
    timings.last = (time.perf_counter(), time.process_time())
    train = timings.wrap("train_category (all)", pipeline.train_category)
    trained = train(args.out.name, clips, [], options, timings.on_progress)
    pipeline.save_checkpoint(trained, args.out)
    for name, wall, cpu in timings.steps:
        print(f"{name:40s} wall {wall:8.1f} s   CPU {cpu:8.1f} s")
    for fold in sorted({f for f, _, _ in timings.epochs}):
        rows = [(w, c) for f, w, c in timings.epochs if f == fold]
        wall, cpu = sum(w for w, _ in rows), sum(c for _, c in rows)
        print(f"model {fold}: {len(rows)} epochs, wall {wall:.1f} s, CPU {cpu:.1f} s")
    meta = trained.metadata
    print(f"threshold {trained.threshold:.4f}, best epoch {meta['best_epoch']}, {meta['n_frames']} frames")


if __name__ == "__main__":
    main()
