"""Cut a video to time ranges of its presentation timeline: decoded here (so joined, interlaced, rotated or
odd-sized sources are read exactly as they were scored), encoded by the ``ffmpeg`` command (H.264 + AAC MP4).

Video frames go to ffmpeg's stdin as raw RGB at the display size padded to even dimensions (H.264 4:2:0
needs them); the audio of the kept ranges, on the same timeline, goes through a temporary WAV file.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

import av
import numpy as np

from scoring.decoding import (
    DEFAULT_LIMITS,
    DecodeLimits,
    Timeline,
    sample_aspect_ratio,
    timestamps_may_jump,
    to_display,
)
from scoring.reading import timed_frames

AUDIO_RATE = 48000


def _inside(t_s: float, ranges: Sequence[tuple[float, float]]) -> bool:
    return any(a <= t_s < b for a, b in ranges)


def even_padded(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) padded with black to even H and W (bottom and right)."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)))


def kept_audio(path: str, ranges: Sequence[tuple[float, float]], wav_path: Path) -> bool:
    """Write the first audio stream's samples inside ``ranges`` (its own PTS timeline, bridged like the
    video's) as 48 kHz stereo 16-bit WAV. False when the file has no decodable audio."""
    with av.open(path, metadata_errors="ignore") as container:
        if not container.streams.audio:
            return False
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
        timeline = Timeline(0.02, bridge_forward_jumps=timestamps_may_jump(container))
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                t_s = timeline.seconds(frame.time)
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1, 2)  # (n, 2) int16, interleaved
                    times = t_s + np.arange(len(samples)) / AUDIO_RATE
                    keep = np.zeros(len(samples), dtype=bool)
                    for a, b in ranges:
                        keep |= (times >= a) & (times < b)
                    chunks.append(samples[keep])
        except av.error.FFmpegError:
            pass  # a damaged tail: keep the audio before it
    if not chunks:
        return False
    with wave.open(str(wav_path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(AUDIO_RATE)
        out.writeframes(np.concatenate(chunks).tobytes())
    return True


def render_ranges(
    source: str | os.PathLike,
    target: str | os.PathLike,
    ranges: Sequence[tuple[float, float]],
    fps: float,
    ffmpeg: str = "ffmpeg",
    on_progress: Callable[[float], None] | None = None,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> int:
    """Write ``target`` (MP4) with the frames and audio of ``source`` inside ``ranges`` (seconds on the
    timeline), played back to back at ``fps``. Returns the number of frames written.

    Raises RuntimeError with ffmpeg's last words when encoding fails, VideoDecodeError when decoding does.
    """
    name = os.fspath(source)
    total_s = max(sum(b - a for a, b in ranges), 1e-6)
    with tempfile.TemporaryDirectory(prefix="offside-render-") as tmp:
        wav = Path(tmp) / "audio.wav"
        has_audio = kept_audio(name, ranges, wav)
        process, written = None, 0
        try:
            for timed in timed_frames(name, 0.0, limits):
                if timed.t_s >= ranges[-1][1]:
                    break
                if not _inside(timed.t_s, ranges):
                    continue
                picture = even_padded(to_display(timed.frame, sample_aspect_ratio(timed.source)))
                if process is None:
                    process = _start_ffmpeg(ffmpeg, picture.shape, fps, wav if has_audio else None, target)
                process.stdin.write(picture.tobytes())
                written += 1
                if on_progress is not None and written % 25 == 0:
                    on_progress(min(written / fps / total_s, 0.99))
        finally:
            if process is not None:
                process.stdin.close()
                stderr = process.stderr.read().decode(errors="replace")
                if process.wait() != 0:
                    raise RuntimeError(f"ffmpeg failed: {stderr[-1500:]}")
    if process is None:
        raise RuntimeError("no frame of the video lies inside the ranges to keep")
    return written


def _start_ffmpeg(
    ffmpeg: str, shape: tuple[int, ...], fps: float, wav: Path | None, target
) -> subprocess.Popen:
    h, w = shape[:2]
    command = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:.6f}", "-i", "pipe:0"]  # fmt: skip
    if wav is not None:
        command += ["-i", str(wav), "-c:a", "aac"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                "-f", "mp4", os.fspath(target)]  # fmt: skip
    return subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
