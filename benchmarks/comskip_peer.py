"""The peer row: Comskip (the commercial detector behind DVR ad skipping) on the same broadcasts.

Each composed broadcast is rendered to a real file (640x360, 25 fps, H.264, from the original clips with
FFmpeg) because Comskip reads files; its EDL is turned into out-intervals and scored with the same metric
code.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from benchmarks.protocol import BROADCAST_FPS, Broadcast
from benchmarks.quality_metrics import Interval

INI = "output_edl=1\noutput_default=0\nverbose=0\n"


def available() -> bool:
    return shutil.which("comskip") is not None and shutil.which("ffmpeg") is not None


def render(
    broadcast: Broadcast, source_files: dict[str, Path], source_times: dict[str, np.ndarray], path: Path
) -> Path:
    """Write the broadcast's pieces, cut from their original files, to ``path`` (cached)."""
    if path.exists():
        return path
    inputs, filters = [], []
    for k, p in enumerate(broadcast.pieces):
        times = source_times[p.source]
        start_s = float(times[p.first])
        duration_s = (p.stop - p.first) / BROADCAST_FPS
        inputs += ["-ss", f"{start_s:.3f}", "-t", f"{duration_s:.3f}", "-i", str(source_files[p.source])]
        # timestamps from 0, the broadcast rate, then exactly the piece's frame count (padded by repeating the
        # last frame if the file ends early), so the render lines up frame for frame with the ground truth
        filters.append(
            f"[{k}:v]setpts=PTS-STARTPTS,fps={BROADCAST_FPS:g},scale=640:360,setsar=1,format=yuv420p,"
            f"tpad=stop_mode=clone:stop_duration=2,trim=end_frame={p.stop - p.first},"
            f"setpts=PTS-STARTPTS[v{k}]"
        )
    graph = ";".join(filters) + ";" + "".join(f"[v{k}]" for k in range(len(filters)))
    graph += f"concat=n={len(filters)}:v=1:a=0[out]"
    tmp = path.with_suffix(".tmp.mp4")
    command = [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        *inputs,
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "23",
        "-r",
        f"{BROADCAST_FPS:g}",
        str(tmp),
    ]
    subprocess.run(command, check=True, capture_output=True)
    tmp.rename(path)
    return path


def read_edl(path: Path) -> list[Interval]:
    """Comskip's EDL: one "start end action" line (seconds) per commercial block."""
    if not path.exists():
        return []
    intervals = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            intervals.append(Interval(float(parts[0]), float(parts[1])))
    return intervals


def run_comskip(video: Path) -> list[Interval]:
    """Comskip's commercial blocks in ``video`` (cached next to it as .edl)."""
    edl = video.with_suffix(".edl")
    if not edl.exists():
        ini = video.with_suffix(".ini")
        ini.write_text(INI)
        done = subprocess.run(
            ["comskip", f"--ini={ini}", f"--output={video.parent}", str(video)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if not edl.exists():  # no commercial found: Comskip may write nothing at all
            edl.write_text("")
        (video.with_suffix(".log")).write_text(done.stdout[-4000:] + done.stderr[-4000:])
    return read_edl(edl)


def decisions(intervals: list[Interval], times_s: np.ndarray) -> np.ndarray:
    """(N,) bool: frame inside one of the intervals."""
    out = np.zeros(len(times_s), dtype=bool)
    for i in intervals:
        out[(times_s >= i.start_s) & (times_s < i.end_s)] = True
    return out
