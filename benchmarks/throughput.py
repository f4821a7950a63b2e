"""Throughput on this machine, side by side on one file: raw decode, extraction, training, scoring, heatmaps.

    python -m benchmarks.throughput [--video PATH] [--seconds 60] [--repeat 3] [--write docs/BENCHMARKS.md]

Decode-bound figures are noisy on a shared machine, so the decode passes are interleaved (raw, every-frame,
sparse, raw, ...) and the best of ``--repeat`` is kept for each; CPU seconds per frame are reported too, as
they depend less on what else runs. Model figures use ``scoring.model`` / ``scoring.scorer`` /
``scoring.training`` when present and are skipped otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from scoring.frames import SamplingSpec, extract_frames, read_frame_at
from scoring.heatmaps import error_heatmap_png, occlusion_heatmap_png

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "broadcast_dev.mp4"
START, END = "<!-- throughput:start -->", "<!-- throughput:end -->"


@dataclass
class Row:
    what: str
    value: float
    unit: str
    target: str = ""
    note: str = ""


def timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of this process, all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def raw_decode(path: Path, seconds: float) -> int:
    """OpenCV's own rate: read() every frame (decode + BGR conversion), no resize."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    limit = int(round(seconds * cap.get(cv2.CAP_PROP_FPS)))
    n = 0
    while n < limit and cap.read()[0]:
        n += 1
    cap.release()
    return n


def model_size() -> tuple[int, int]:
    try:
        from scoring.model import VAEConfig
    except ImportError:
        return 54, 96
    cfg = VAEConfig()
    return cfg.height, cfg.width


def decode_rows(path: Path, seconds: float, repeat: int, sparse_fps: float) -> tuple[list[Row], object]:
    """Interleaved passes. Rates are the best pass of each kind; the "x raw" ratios are the median of the
    ratios within each round (raw, every, sparse run back to back), which cancels slow changes of load."""
    height, width = model_size()
    every, sparse = SamplingSpec(None, height, width), SamplingSpec(sparse_fps, height, width)
    rates: dict[str, list[float]] = {"raw": [], "every": [], "sparse": []}  # frames (of video) per second
    cpu_ms: dict[str, list[float]] = {"raw": [], "every": [], "sparse": []}  # CPU ms per frame, all threads
    fs = None
    for _ in range(repeat):
        n_raw, wall, cpu = timed(lambda: raw_decode(path, seconds))
        rates["raw"].append(n_raw / wall)
        cpu_ms["raw"].append(1000 * cpu / n_raw)
        fs, wall, cpu = timed(lambda: extract_frames(path, every, end_s=seconds))
        rates["every"].append(len(fs) / wall)
        cpu_ms["every"].append(1000 * cpu / len(fs))
        # The sparse rate counts frames of video time (those of the every-frame pass) per second.
        _, wall, cpu = timed(lambda: extract_frames(path, sparse, end_s=seconds))
        rates["sparse"].append(len(fs) / wall)
        cpu_ms["sparse"].append(1000 * cpu / len(fs))

    def ratio(name: str) -> str:
        paired = np.median(np.asarray(rates[name]) / np.asarray(rates["raw"]))
        return f"{paired:.2f}x raw; {min(cpu_ms[name]):.1f} CPU ms/frame"

    rows = [
        Row("OpenCV raw decode (read, no resize)", max(rates["raw"]), "frames/s", "",
            f"{min(cpu_ms['raw']):.1f} CPU ms/frame"),
        Row(f"extract_frames every frame -> {height}x{width}", max(rates["every"]), "frames/s", ">= 0.8x raw",
            ratio("every")),
        Row(f"extract_frames at {sparse_fps:g} fps", max(rates["sparse"]), "video frames/s", "> raw",
            ratio("sparse")),
    ]  # fmt: skip
    return rows, fs


def model_rows(fs, video: Path, epochs: int, device_name: str) -> list[Row]:
    try:
        import torch

        from scoring.colour import reference_subset
        from scoring.device import choose_device, describe
        from scoring.pipeline import default_model_config
        from scoring.scorer import error_maps, frame_errors
        from scoring.training import TrainConfig, train_vae
    except ImportError as exc:
        return [Row("model figures", float("nan"), "", "", f"skipped: {exc}")]
    torch.set_num_threads(os.cpu_count() or 1)  # benchmarks only: use the whole machine
    device = choose_device(None if device_name == "auto" else device_name)
    frames, times = np.asarray(fs.frames), fs.timestamps_s
    steps = [0]

    def count(epoch, step, metrics):
        steps[0] = step

    cfg = TrainConfig(epochs=epochs, patience=epochs + 1)
    model_cfg = default_model_config()
    result, wall, _ = timed(
        lambda: train_vae(frames, np.zeros(len(frames), np.int64), times, model_cfg, cfg, device, count)
    )
    model, on = result.model, describe(device)
    # scoring as the defaults do it: quantile of normalised pixel errors, plus the colour term
    reference = reference_subset(model_cfg.colour_descriptors(frames), model_cfg.colour_references)
    model.set_colour_reference(torch.from_numpy(reference))
    trained = steps[0] * cfg.batch_size  # optimiser samples, to within one partial batch per epoch
    rows = [Row(f"training on {on} ({epochs} epochs, batch {cfg.batch_size})", trained / wall, "frames/s",
                "", f"{trained} samples in {wall:.1f} s incl. validation")]  # fmt: skip
    frame_errors(model, frames[:64])  # warm-up
    _, wall, _ = timed(lambda: frame_errors(model, frames))
    rows.append(Row(f"scoring on {on} (frame_errors, z = mu, colour term)", len(frames) / wall, "frames/s",
                    ">= 1000"))  # fmt: skip
    full = read_frame_at(video, float(times[len(times) // 2]))
    small = frames[len(frames) // 2]
    reps = 5
    _, wall, _ = timed(
        lambda: [error_heatmap_png(full, error_maps(model, small[None])[0]) for _ in range(reps)]
    )
    rows.append(Row(f"error-map heatmap PNG on {on}", wall / reps, "s/frame", "",
                    f"{full.shape[1]}x{full.shape[0]} overlay"))  # fmt: skip
    _, wall, _ = timed(lambda: occlusion_heatmap_png(full, small, lambda b: frame_errors(model, b)))
    rows.append(Row(f"occlusion heatmap PNG on {on} (patch 8, stride 4)", wall, "s/frame", "about 1 s"))
    return rows


def machine() -> str:
    cpu = "unknown CPU"
    try:
        match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, OpenCV {cv2.__version__}, "
            f"torch {torch_version}")  # fmt: skip


def render(rows: list[Row], video: Path, seconds: float, load_before, load_after) -> str:
    def fmt(v: float) -> str:
        return "n/a" if v != v else (f"{v:.3f}" if v < 10 else f"{v:.0f}")

    lines = [
        "## Throughput",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Command: `python -m benchmarks.throughput {shlex.join(sys.argv[1:])}`",
        f"- Video: `{video.name}`, first {seconds:g} s",
        f"- Load average (1 min) before / after: {load_before:.2f} / {load_after:.2f}",
        "",
        "| measure | value | unit | target | notes |",
        "| --- | ---: | --- | --- | --- |",
    ]
    lines += [f"| {r.what} | {fmt(r.value)} | {r.unit} | {r.target} | {r.note} |" for r in rows]
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace only the text between the throughput markers (other sections belong to other benchmarks)."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    block = f"{START}\n{section}{END}"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = doc.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--seconds", type=float, default=30.0, help="how much of the video to decode")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of interleaved decode passes")
    parser.add_argument("--sparse-fps", type=float, default=5.0)
    parser.add_argument("--epochs", type=int, default=2, help="training epochs to time")
    parser.add_argument("--device", default="cpu", help="torch device for the model figures, or 'auto'")
    parser.add_argument("--write", type=Path, help="update the Throughput section of this markdown file")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        parser.error(f"{args.video}: no such file")
    load_before = os.getloadavg()[0]
    rows, fs = decode_rows(args.video, args.seconds, args.repeat, args.sparse_fps)
    rows += model_rows(fs, args.video, args.epochs, args.device)
    section = render(rows, args.video, args.seconds, load_before, os.getloadavg()[0])
    print(section)
    if args.write:
        write_section(args.write, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
