"""Command line: ``python -m scoring train|score|heatmap|probe|frame`` (the contract is in DESIGN.md)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

RANGE = re.compile(r"^(?P<path>.+)@(?P<start>[0-9:.]*)-(?P<end>[0-9:.]*)$")


class UsageError(ValueError):
    """Bad input from the user: reported as one line, exit status 2 (a ValueError, so argparse reports one
    raised while converting an option the same way). Checkpoint errors are ValueErrors too: torch is only
    imported by the commands that need it, so ``probe`` and ``frame`` start fast."""


def parse_time(text: str) -> float | None:
    """Seconds from "12.5", "01:02.5" or "00:01:02.500"; None for an empty string."""
    if not text:
        return None
    try:
        value = 0.0
        for part in text.split(":"):
            value = value * 60 + float(part)
    except ValueError as exc:
        raise UsageError(f"bad time {text!r}") from exc
    return value


def parse_video_arg(arg: str) -> tuple[Path, float | None, float | None]:
    """VIDEO or VIDEO@START-END (seconds or timecodes; either end may be empty) -> (path, start_s, end_s)."""
    match = RANGE.match(arg)
    if match and not Path(arg).exists():
        path, start, end = Path(match["path"]), parse_time(match["start"]), parse_time(match["end"])
    else:
        path, start, end = Path(arg), None, None
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if start is not None and end is not None and end <= start:
        raise UsageError(f"{arg}: the range ends before it starts")
    return path, start, end


@contextmanager
def progress_bar(desc: str, total: float, enabled: bool):
    """A tqdm bar on a terminal; yields ``update(fraction_done)``."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, disable=not enabled, unit="", leave=False, file=sys.stderr)
    state = {"last": 0.0}

    def update(done: float) -> None:
        bar.update(max(done - state["last"], 0.0))
        state["last"] = max(done, state["last"])

    try:
        yield update
    finally:
        bar.close()


def extract(arg: str, height: int, width: int, fps: float | None, show: bool):
    """Decode one VIDEO[@START-END] argument at the model's input size."""
    from scoring.frames import SamplingSpec, extract_frames

    path, start_s, end_s = parse_video_arg(arg)
    with progress_bar(f"decode {path.name}", 1.0, show) as update:
        return extract_frames(path, SamplingSpec(fps, height, width), start_s, end_s, update)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a category model on reference clips")
    p.add_argument("videos", nargs="+", metavar="VIDEO[@START-END]")
    p.add_argument("--out", required=True, type=Path, help="model directory to write")
    p.add_argument("--name", default=None, help="category name (default: the --out folder name)")
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        help="sampling rate (default: 5, as the dashboard and the quality benchmark; 0 = every frame)",
    )
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument(
        "--negative",
        action="append",
        default=[],
        metavar="VIDEO[@START-END]",
        help="a clip that is NOT this category (repeatable); adds ROC/F1 calibration",
    )
    p.add_argument("--percentile", type=float, default=None, help="threshold percentile of held-out losses")
    p.add_argument(
        "--method",
        choices=["auto", "percentile", "f1"],
        default=None,
        help="threshold (default percentile); auto = best F1 with --negative clips, else the percentile",
    )
    p.add_argument("--holdout", choices=["clips", "blocks"], default=None, help="calibration hold-out")
    p.add_argument("--height", type=int, default=None, help="model input height (default: 54)")
    p.add_argument("--width", type=int, default=None, help="model input width (default: 96)")
    p.add_argument("--beta", type=float, default=None)
    p.add_argument("--denoise-std", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: $OFFSIDE_DEVICE or best)")


# Off by default: the command scores every frame exactly as the worker does, so a run from the command line
# and one from the dashboard give the same scores. At 2 grey levels a third of the broadcast's frames skip
# the network with no decision changed and a frame's score moved by 0.3% on average, at most 11%, but the
# end-to-end gain was small (0.44x -> 0.46x of raw decode: decoding and importing torch dominate; see
# docs/BENCHMARKS.md, "Scoring throughput").
REUSE_BELOW = 0.0


def grey_levels(text: str) -> float:
    """``--reuse-below``'s value: a mean absolute difference in grey levels, 0 to 255."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 255:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 255 grey levels")
    return value


def _add_score(sub) -> None:
    p = sub.add_parser("score", help="score a video against one or more category models")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--model", required=True, action="append", type=Path, help="model directory (repeatable)")
    p.add_argument("--json", required=True, type=Path, help="output JSON file")
    p.add_argument("--fps", type=float, default=None, help="sampling rate (default: every frame)")
    p.add_argument("--window-s", type=float, default=None, help="smoothing window in seconds")
    p.add_argument("--min-segment-s", type=float, default=None)
    p.add_argument("--device", default=None)
    p.add_argument(
        "--reuse-below",
        type=grey_levels,
        default=REUSE_BELOW,
        metavar="LEVELS",
        help="a frame within LEVELS grey levels (mean absolute difference at the model's size) of the last "
        f"frame scored takes its score instead of running the network (default {REUSE_BELOW:g}; 0 scores "
        "every frame)",
    )
    p.add_argument(
        "--export",
        action="append",
        default=[],
        type=export_spec,
        metavar="FORMAT:PATH",
        help="also write markers (repeatable): kodi, ffmetadata, vtt, otio, cmx3600, csv or json",
    )


def export_spec(text: str) -> tuple[str, Path]:
    """ "kodi:match.edl" -> ("kodi", Path("match.edl")); an argparse error names the known formats."""
    from scoring.markers import marker_format

    name, sep, path = text.partition(":")
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: use FORMAT:PATH, e.g. kodi:match.edl")
    try:
        return marker_format(name).name, Path(path)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def write_exports(video: Path, segments, exports: list[tuple[str, Path]]) -> list[str]:
    """Write each requested marker file (from the scored segments); the paths written."""
    from scoring.frames import probe_video
    from scoring.markers import MarkerSource, write_markers

    if not exports:
        return []
    info = probe_video(video)  # decodes: fps, duration and start timecode as the timeline has them
    source = MarkerSource(info.fps, video.stem, video.name, info.start_timecode, info.duration_s)
    for name, path in exports:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(write_markers(name, segments, source), encoding="utf-8")
    return [str(path) for _, path in exports]


def _add_heatmap(sub) -> None:
    p = sub.add_parser("heatmap", help="write a reconstruction-error or occlusion heatmap of one frame")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path, help="PNG file to write")
    p.add_argument("--t", type=parse_time, default=0.0, help="time of the frame (seconds or timecode)")
    p.add_argument("--occlusion", action="store_true", help="occlusion sensitivity instead of pixel error")
    p.add_argument("--patch", type=int, default=8)
    p.add_argument("--stride", type=int, default=4)
    p.add_argument("--alpha", type=float, default=0.5)


def _add_probe_and_frame(sub) -> None:
    p = sub.add_parser(
        "probe", help="print the video stream's facts as one JSON object (decodes every frame)"
    )
    p.add_argument("video", metavar="VIDEO")
    p = sub.add_parser("frame", help="write the frame on screen at a time as a PNG at display size")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--t", type=parse_time, required=True, help="time (seconds or timecode) on the timeline")
    p.add_argument("--out", required=True, type=Path, help="PNG file to write")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scoring", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_score(sub)
    _add_heatmap(sub)
    _add_probe_and_frame(sub)
    return parser


def training_options(args: argparse.Namespace):
    """Defaults from ``TrainingOptions`` overridden by whichever flags were given."""
    from scoring.pipeline import TrainingOptions

    opts = TrainingOptions()
    train = {
        k: v
        for k, v in {"epochs": args.epochs, "seed": args.seed, "denoise_std": args.denoise_std}.items()
        if v is not None
    }
    calib = {
        k: v
        for k, v in {"percentile": args.percentile, "method": args.method, "holdout": args.holdout}.items()
        if v is not None
    }
    model = {
        k: v
        for k, v in {"beta": args.beta, "height": args.height, "width": args.width}.items()
        if v is not None
    }
    return replace(
        opts,
        model=replace(opts.model, **model),
        train=replace(opts.train, **train),
        calibration=replace(opts.calibration, **calib),
    )


def cmd_train(args: argparse.Namespace, show: bool) -> dict[str, Any]:
    from scoring.pipeline import DEFAULT_TRAIN_FPS, ClipFrames, save_checkpoint, train_category

    options = training_options(args)
    size = options.model.height, options.model.width
    fps = DEFAULT_TRAIN_FPS if args.fps is None else (args.fps or None)
    clips = [ClipFrames.of(extract(v, *size, fps, show), v) for v in args.videos]
    negatives = [ClipFrames.of(extract(v, *size, fps, show), v) for v in args.negative]
    with progress_bar("train", 1.0, show) as update:

        def on_progress(epoch: int, step: int, metrics: dict[str, float]) -> None:
            update(metrics["progress"])

        trained = train_category(
            args.name or args.out.name, clips, negatives, options, on_progress, args.device
        )
    save_checkpoint(trained, args.out)
    return {
        "model": str(args.out),
        "threshold": trained.threshold,
        "frames": trained.metadata["n_frames"],
        "duration_s": round(trained.metadata["duration_s"], 1),
        "auroc": trained.calibration.auroc,
    }


def score_json(video: str, result) -> dict[str, Any]:
    """The DESIGN.md JSON document (extra keys allowed, never fewer)."""
    from scoring.segments import format_timecode

    best = result.best_scores
    frames = [
        {"t": round(float(t), 4), "score": float(s), "out": bool(o), "smoothed": float(m), "label": lab}
        for t, s, o, m, lab in zip(
            result.timestamps_s, best, result.out, result.smoothed, result.labels, strict=True
        )
    ]
    segments = [
        {
            "start_s": float(s.start_s),
            "end_s": float(s.end_s),
            "label": s.label,
            "mean_score": float(s.mean_score),
            "start_tc": format_timecode(s.start_s),
            "end_tc": format_timecode(s.end_s),
        }
        for s in result.segments
    ]
    return {
        "video": video,
        "threshold": float(result.thresholds[0]),
        "thresholds": dict(zip(result.categories, map(float, result.thresholds), strict=True)),
        "categories": result.categories,
        "frames": frames,
        "segments": segments,
    }


def cmd_score(args: argparse.Namespace, show: bool) -> dict[str, Any]:
    from scoring.frames import FrameStream, SamplingSpec

    path, start_s, end_s = parse_video_arg(args.video)
    models, size = None, _input_size(args.model[0])
    if size is None:  # not a readable model: loading it says why
        models = _load_models(args)
        size = (models[0].config.height, models[0].config.width)
    spec = SamplingSpec(args.fps, *size)
    # Decoding starts first, on its own thread: torch loads and the networks run while FFmpeg decodes
    with (
        progress_bar(f"decode {path.name}", 1.0, show) as update,
        FrameStream(path, spec, start_s, end_s, update) as stream,
    ):
        from scoring.pipeline import default_temporal_params, score_stream

        models = models or _load_models(args)
        params = default_temporal_params()
        if args.window_s is not None:
            params = replace(params, window_s=args.window_s)
        if args.min_segment_s is not None:
            params = replace(params, min_segment_s=args.min_segment_s)
        result = score_stream(stream, models, params, reuse_below=args.reuse_below)
    doc = score_json(args.video, result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc))
    n_out = sum(s["label"] == "out" for s in doc["segments"])
    written = write_exports(path, result.segments, args.export)
    return {"json": str(args.json), "frames": len(doc["frames"]), "out_segments": n_out, "exports": written}


def _input_size(model_dir: Path) -> tuple[int, int] | None:
    """(height, width) of a model's input from its model.json, without loading torch; None when the file
    cannot tell (``load_checkpoint`` then raises the right error)."""
    try:
        config = json.loads((Path(model_dir) / "model.json").read_text())["config"]
        height, width = int(config["height"]), int(config["width"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (height, width) if height > 0 and width > 0 else None


def _load_models(args: argparse.Namespace) -> list:
    from scoring.pipeline import load_checkpoint

    return [load_checkpoint(m, args.device or "cpu") for m in args.model]


def cmd_heatmap(args: argparse.Namespace, show: bool) -> dict[str, Any]:
    from scoring.frames import read_frame_at
    from scoring.pipeline import heatmap_png, load_checkpoint

    path, _, _ = parse_video_arg(args.video)
    trained = load_checkpoint(args.model)
    frame = read_frame_at(path, args.t)
    png = heatmap_png(trained, frame, args.occlusion, args.patch, args.stride, args.alpha)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(png)
    return {"png": str(args.out), "t": args.t}


def cmd_probe(args: argparse.Namespace, show: bool) -> dict[str, Any]:
    """The stream facts of DESIGN.md as one JSON object (the worker's probe calls the same function)."""
    from scoring.frames import probe_video

    path, _, _ = parse_video_arg(args.video)
    return probe_video(path).as_json()


def cmd_frame(args: argparse.Namespace, show: bool) -> dict[str, Any]:
    """The frame on screen at ``--t`` (last frame with PTS <= t) as a PNG at display size."""
    import cv2

    from scoring.frames import read_frame_at

    path, _, _ = parse_video_arg(args.video)
    if args.t < 0:
        raise UsageError(f"--t {args.t:g}: times start at 0 (the first displayed frame)")
    frame = read_frame_at(path, args.t)  # (H, W, 3) RGB
    ok, png = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"{args.out}: could not encode the PNG")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(png.tobytes())
    return {"png": str(args.out), "t": args.t, "width": int(frame.shape[1]), "height": int(frame.shape[0])}


COMMANDS: dict[str, Callable[[argparse.Namespace, bool], dict[str, Any]]] = {
    "train": cmd_train,
    "score": cmd_score,
    "heatmap": cmd_heatmap,
    "probe": cmd_probe,
    "frame": cmd_frame,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from scoring.frames import VideoDecodeError

    show = sys.stderr.isatty()
    try:
        summary = COMMANDS[args.command](args, show)
    except (UsageError, VideoDecodeError, ValueError, OSError) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0
