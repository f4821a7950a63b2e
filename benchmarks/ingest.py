"""Ingest speed against FFmpeg itself: each figure is a ratio to ``ffmpeg -f null`` decoding of the same file
in the same run (interleaved rounds, median ratio), so a noisy shared machine cancels out.

    python -m benchmarks.ingest [--video PATH] [--seconds 60] [--repeat 3] [--model DIR]
                                [--write docs/BENCHMARKS.md]

Files: the broadcast (H.264 720p) and a 576i MPEG-2 TS made from it (interlaced: the model's small input is
read from each frame's first field, see ``scoring.frames.FIELD_READ_FACTOR``). Rows: extraction at every
frame and at 5 fps (targets >= 0.8x and >= 1.0x raw decode), and
``python -m scoring score`` end to end at every frame with a small model (target >= 0.6x raw decode).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scoring.frames import SamplingSpec, extract_frames

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "broadcast_dev.mp4"
START, END = "<!-- ingest:start -->", "<!-- ingest:end -->"


def timed(fn, in_child: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``fn``; CPU is user + system of this process's threads, or of the
    child processes it waited for. CPU time barely moves with other load on a shared machine, wall time does:
    the two ratios together say what the machine's noise did."""
    who = resource.RUSAGE_CHILDREN if in_child else resource.RUSAGE_SELF
    r0, t0 = resource.getrusage(who), time.perf_counter()
    fn()
    t1, r1 = time.perf_counter(), resource.getrusage(who)
    return t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def ffmpeg_null(path: Path) -> None:
    """The reference: FFmpeg decoding every video frame with its default threads, nothing kept."""
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
                   check=True)  # fmt: skip


def make_576i(source: Path, seconds: float, out: Path) -> Path:
    interlace = "scale=720:576,setsar=16/15,fps=50,interlace=scan=tff"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-t", str(seconds), "-i", str(source), "-vf", interlace,
                    "-c:v", "mpeg2video", "-b:v", "6M", "-flags", "+ilme+ildct", "-top", "1", "-c:a", "mp2",
                    "-f", "mpegts", str(out)], check=True)  # fmt: skip
    return out


def clip(source: Path, seconds: float, out: Path) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-t", str(seconds), "-i", str(source), "-c", "copy",
                    str(out)], check=True)  # fmt: skip
    return out


def small_model(video: Path, folder: Path) -> Path:
    """One epoch on a few frames: scoring speed does not depend on how well the model was trained."""
    model = folder / "model"
    command = [sys.executable, "-m", "scoring", "train", "--out", str(model), "--epochs", "1", "--fps", "1"]
    subprocess.run([*command, f"{video}@0-20", f"{video}@20-40"], check=True, capture_output=True)
    return model


def score_cli(video: Path, model: Path, folder: Path) -> None:
    subprocess.run([sys.executable, "-m", "scoring", "score", "--model", str(model), "--json",
                    str(folder / "scores.json"), str(video)], check=True, capture_output=True)  # fmt: skip


def measure(path: Path, model: Path, folder: Path, repeat: int) -> dict[str, float]:
    """Median ratios (reference time / our time, > 1 is faster) of wall and of CPU time per row."""
    rows = {
        "every": lambda: extract_frames(path, SamplingSpec(None, 54, 96)),
        "sparse": lambda: extract_frames(path, SamplingSpec(5, 54, 96)),
        "score": lambda: score_cli(path, model, folder),
    }
    ratios: dict[str, list[float]] = {f"{k}_{m}": [] for k in rows for m in ("wall", "cpu")}
    raw_best = float("inf")
    for _ in range(repeat):
        raw_wall, raw_cpu = timed(lambda: ffmpeg_null(path), in_child=True)
        raw_best = min(raw_best, raw_wall)
        for key, fn in rows.items():
            ours_wall, ours_cpu = timed(fn, in_child=key == "score")
            ratios[f"{key}_wall"].append(raw_wall / ours_wall)
            ratios[f"{key}_cpu"].append(raw_cpu / ours_cpu)
    result = {k: statistics.median(v) for k, v in ratios.items()}
    result["raw_s"] = raw_best
    return result


def table(rows: dict[str, dict[str, float]], seconds: float, repeat: int) -> str:
    load = os.getloadavg()[0]
    when, cpu = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}", platform.processor() or platform.machine()
    lines = [
        f"Ingest speed, {when} UTC, {cpu}, {os.cpu_count()} cores, load {load:.1f} at the end; "
        f"`python -m benchmarks.ingest --seconds {seconds:g} --repeat {repeat}`. Ratios are against "
        "`ffmpeg -f null` on the same file in the same round (median of rounds; > 1 is faster than FFmpeg's "
        "own decode), as wall time / CPU time (user + system, all threads).",
        "",
        f"| file (first {seconds:g} s) | ffmpeg -f null | every frame (>= 0.8x) | 5 fps (>= 1.0x) | "
        "`scoring score` every frame (>= 0.6x) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in rows.items():
        keys = ("every", "sparse", "score")
        cells = " | ".join(f"{r[f'{k}_wall']:.2f}x / {r[f'{k}_cpu']:.2f}x" for k in keys)
        lines.append(f"| {name} | {r['raw_s']:.2f} s | {cells} |")
    return "\n".join(lines)


def write_section(doc: Path, text: str) -> None:
    content = doc.read_text()
    block = f"{START}\n{text}\n{END}"
    if START in content:
        head, rest = content.split(START, 1)
        content = head + block + rest.split(END, 1)[1]
    else:
        content = content.rstrip() + "\n\n## Ingest (decoding through PyAV)\n\n" + block + "\n"
    doc.write_text(content)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: train one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="offside-ingest-") as tmp:
        folder = Path(tmp)
        files = {
            f"{args.video.name} (H.264)": clip(args.video, args.seconds, folder / "broadcast.mp4"),
            "576i MPEG-2 TS made from it": make_576i(args.video, args.seconds, folder / "576i.ts"),
        }
        model = args.model or small_model(args.video, folder)
        rows = {name: measure(path, model, folder, args.repeat) for name, path in files.items()}
    text = table(rows, args.seconds, args.repeat)
    print(text)
    if args.write:
        write_section(args.write, text)


if __name__ == "__main__":
    main()
