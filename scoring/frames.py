"""Decoding and uniform-in-time sampling of videos with OpenCV; frames come out RGB uint8.

Real files lie: frame counts in headers are wrong, frame rates vary, a damaged packet is skipped silently by
the decoder. So sampling follows the presentation timestamps the decoder reports (``CAP_PROP_POS_MSEC``),
counts frames by decoding them, and infers skipped (corrupt) frames from isolated gaps in those timestamps.

The machinery (and why it is fast) lives in ``scoring.decoding``; this module is the public API.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from scoring.decoding import (
    ROTATE_CODES,
    SEEK_MIN_S,
    Clock,
    FrameSink,
    Progress,
    Sampler,
    StreamInfo,
    VideoDecodeError,
    count_skipped_frames,
    estimate_capacity,
    grab_frame,
    open_video,
    seek,
)
from scoring.shotcuts import detect_shot_cuts, shot_cut_scores

__all__ = [
    "FrameSet",
    "SamplingSpec",
    "VideoDecodeError",
    "VideoInfo",
    "detect_shot_cuts",
    "extract_frames",
    "load_frameset",
    "probe_video",
    "read_frame_at",
    "save_frameset",
    "shot_cut_scores",
    "thumbnail_strip",
]

_FRAMESET_FORMAT = "offside-frameset/1"


@dataclass(frozen=True)
class SamplingSpec:
    """Sample ``fps`` frames per second of video time (None = every frame), resized to height x width."""

    fps: float | None
    height: int
    width: int

    def __post_init__(self) -> None:
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"fps must be positive or None, got {self.fps}")
        if self.height < 1 or self.width < 1:
            raise ValueError(f"frame size must be positive, got {self.height}x{self.width}")

    @property
    def slug(self) -> str:
        """A file-name-safe id, e.g. ``fps5_h60_w96``, ``fps2p5_h60_w96`` or ``all_h60_w96``."""
        rate = "all" if self.fps is None else "fps" + f"{self.fps:g}".replace(".", "p")
        return f"{rate}_h{self.height}_w{self.width}"


@dataclass
class VideoInfo:
    duration_s: float
    fps: float  # average over the decoded frames when counted, else the container's nominal rate
    frame_count: int  # frames that actually decode when counted, else the container's claim
    width: int  # as displayed, i.e. after rotation metadata is applied
    height: int
    codec: str  # FourCC, e.g. "avc1", "mp4v", "MJPG"
    rotation_deg: int  # rotation metadata of the stream (0, 90, 180, 270)
    pix_fmt: str = ""
    sar: str = "1:1"
    interlaced: bool = False
    variable_frame_rate: bool = False
    has_audio: bool = False
    discontinuities: int = 0
    start_timecode: str | None = None


@dataclass
class FrameSet:
    frames: np.ndarray  # (N, H, W, 3) uint8 RGB
    timestamps_s: np.ndarray  # (N,) float64, increasing, presentation time of each frame
    corrupt_frames: int  # frames the decoder skipped or could not convert
    source: str

    def __len__(self) -> int:
        return len(self.frames)


def _open_at(path: str, start_s: float) -> Iterator[tuple[cv2.VideoCapture, StreamInfo, Clock]]:
    """Yield a capture positioned at or before ``start_s``; reopen from the beginning if a seek overshot."""
    for attempt_seek in (True, False):
        with open_video(path) as cap:
            stream = StreamInfo.of(cap)
            sought = attempt_seek and seek(cap, start_s)
            clock = Clock(stream.frame_interval_s, first_s=start_s if sought else 0.0)
            if not sought:
                yield cap, stream, clock
                return
            pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            # After a seek the position is that of the frame to come; if it is already past start, frames
            # we need were skipped: decode from the beginning instead.
            if pos_ms / 1000.0 <= start_s + stream.frame_interval_s:
                yield cap, stream, clock
                return


def extract_frames(
    path: str | os.PathLike,
    spec: SamplingSpec,
    start_s: float | None = None,
    end_s: float | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> FrameSet:
    """Sample ``path`` uniformly in time at ``spec.fps`` (every frame when None) within [start_s, end_s).

    Frames are resized to (spec.height, spec.width) with area averaging (a portrait video is squeezed to the
    same landscape size, so training and scoring see the same transform). Timestamps are the real presentation
    times of the frames kept. ``on_progress`` gets fractions in [0, 1]; an exception raised from it (e.g. a
    cancellation) propagates after the file is closed. Raises VideoDecodeError when no frame decodes.
    """
    name = os.fspath(path)
    begin_s = max(start_s or 0.0, 0.0)
    if end_s is not None and end_s <= begin_s:
        raise ValueError(f"end_s ({end_s}) must be after start_s ({begin_s})")
    gen = _open_at(name, begin_s)
    cap, stream, clock = next(gen)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="offside-resize") as pool:
            sink = FrameSink(
                estimate_capacity(stream, spec.fps, begin_s, end_s),
                spec.height,
                spec.width,
                stream.rotation_deg if stream.rotate_manually else 0,
                pool,
            )
            progress = Progress(on_progress, begin_s, end_s if end_s is not None else stream.duration_s)
            seen, failed = _decode_loop(cap, stream, clock, sink, progress, spec.fps, begin_s, end_s)
            frames, times = sink.finish()
    finally:
        gen.close()
    if len(times) == 0:
        raise VideoDecodeError(f"{name}: no frame could be decoded{_range_text(begin_s, end_s)}")
    progress.done()
    # A frame the decoder skipped shows as a failed grab, a gap in the timestamps, or both: count it once.
    corrupt = max(failed, count_skipped_frames(np.asarray(seen)))
    return FrameSet(frames=frames, timestamps_s=times, corrupt_frames=corrupt, source=name)


def _range_text(begin_s: float, end_s: float | None) -> str:
    if end_s is not None:
        return f" between {begin_s:g} s and {end_s:g} s"
    return f" after {begin_s:g} s" if begin_s else ""


def _decode_loop(
    cap: cv2.VideoCapture,
    stream: StreamInfo,
    clock: Clock,
    sink: FrameSink,
    progress: Progress,
    fps: float | None,
    begin_s: float,
    end_s: float | None,
) -> tuple[list[float], int]:
    """The hot loop: grab every frame, retrieve only kept ones. Returns (all timestamps seen, failures)."""
    tol = 0.5 * stream.frame_interval_s
    sampler = Sampler(fps, begin_s, stream.frame_interval_s)
    seen: list[float] = []
    failed = 0
    while True:
        ok, retries = grab_frame(cap)
        if not ok:
            break
        failed += retries
        t = clock.stamp(cap.get(cv2.CAP_PROP_POS_MSEC))
        if end_s is not None and t >= end_s - 1e-9:
            break
        if t < begin_s - tol:
            continue  # before the range (no seek, or the seek landed early)
        seen.append(t)
        if not sampler.keep(t):
            continue
        ok, frame = cap.retrieve()
        if not ok or frame is None:
            failed += 1
            continue
        sink.add(frame, t)
        progress.update(t)
    return seen, failed


# --- single frames ------------------------------------------------------------------------------------------


def _frames_at(path: str, times_s: list[float]) -> Iterator[np.ndarray]:
    """Full-size RGB frames at (or just after) each time, in increasing order; the last frame past the end."""
    with open_video(path) as cap:
        stream = StreamInfo.of(cap)
        tol = 0.5 * stream.frame_interval_s
        if stream.frame_count:  # seeking past the end lands nowhere: clamp to the last frame's time
            times_s = [min(t, stream.duration_s - stream.frame_interval_s) for t in times_s]
        clock = Clock(stream.frame_interval_s)
        for t_s in sorted(max(t, 0.0) for t in times_s):
            if (clock.last is None or t_s - clock.last > SEEK_MIN_S) and seek(cap, t_s):
                clock = Clock(stream.frame_interval_s, first_s=t_s)
            while clock.last is None or clock.last < t_s - tol:
                if not cap.grab():
                    break
                clock.stamp(cap.get(cv2.CAP_PROP_POS_MSEC))
            ok, frame = cap.retrieve()
            if not ok or frame is None:
                raise VideoDecodeError(f"{path}: no frame could be decoded at {t_s:.3f} s")
            if stream.rotate_manually:
                frame = cv2.rotate(frame, ROTATE_CODES[stream.rotation_deg])
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def _fit_width(frame: np.ndarray, max_width: int | None) -> np.ndarray:
    h, w = frame.shape[:2]
    if max_width is None or w <= max_width:
        return frame
    return cv2.resize(frame, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)


def read_frame_at(path: str | os.PathLike, t_s: float, max_width: int | None = None) -> np.ndarray:
    """The RGB frame shown at ``t_s`` (H, W, 3) uint8, full resolution or at most ``max_width`` wide."""
    return _fit_width(next(_frames_at(os.fspath(path), [t_s])), max_width)


def thumbnail_strip(path: str | os.PathLike, count: int, height: int) -> np.ndarray:
    """``count`` frames evenly spread over the video, ``height`` tall, side by side: (height, W, 3) RGB."""
    if count < 1 or height < 1:
        raise ValueError("count and height must be positive")
    name = os.fspath(path)
    with open_video(name) as cap:
        duration_s = StreamInfo.of(cap).duration_s
    if duration_s <= 0:  # the header does not say: count
        duration_s = probe_video(name).duration_s
    times = [(i + 0.5) * duration_s / count for i in range(count)]
    tiles = []
    for frame in _frames_at(name, times):
        h, w = frame.shape[:2]
        tiles.append(cv2.resize(frame, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA))
    return np.hstack(tiles)


# --- probing ------------------------------------------------------------------------------------------------


def _fourcc(value: float) -> str:
    code = int(value)
    chars = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return chars if chars.isprintable() and chars.strip() else "unknown"


def probe_video(path: str | os.PathLike, count_frames: bool = True) -> VideoInfo:
    """Stream facts. With ``count_frames`` (or when the header has no count) every frame is decoded and
    counted, so frame_count, fps and duration_s describe what really decodes. Raises VideoDecodeError if
    nothing does."""
    name = os.fspath(path)
    with open_video(name) as cap:
        stream = StreamInfo.of(cap)
        codec = _fourcc(cap.get(cv2.CAP_PROP_FOURCC))
        ok, first = cap.read()
        if not ok or first is None:
            raise VideoDecodeError(f"{name}: no frame could be decoded")
        height, width = first.shape[:2]
        if stream.rotate_manually and stream.rotation_deg in (90, 270):
            height, width = width, height
        count, fps, duration_s = stream.frame_count, stream.fps, stream.duration_s
        if count_frames or count == 0:
            clock = Clock(stream.frame_interval_s)
            first_s = clock.stamp(cap.get(cv2.CAP_PROP_POS_MSEC))
            count, last_s, interval_s = 1, first_s, stream.frame_interval_s
            while grab_frame(cap)[0]:
                count += 1
                t_s = clock.stamp(cap.get(cv2.CAP_PROP_POS_MSEC))
                last_s, interval_s = t_s, t_s - last_s
            fps = (count - 1) / (last_s - first_s) if count > 1 and last_s > first_s else stream.fps
            duration_s = last_s - first_s + interval_s  # the last frame is shown for about one interval
    return VideoInfo(duration_s, fps, count, width, height, codec, stream.rotation_deg)


# --- frame-set files ----------------------------------------------------------------------------------------


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _atomic_write(path: Path, write: Callable[[object], None]) -> None:
    """Write through a temporary file in the same folder, fsync, then rename over ``path``: readers see the
    old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")  # concurrent writers never share one
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_frameset(fs: FrameSet, path: str | os.PathLike) -> None:
    """Frames to ``path`` (.npy, memory-mappable), timestamps and metadata to the .json beside it.

    The sidecar is removed first and written last, so a crash at any point leaves a pair that either loads
    consistently or does not load at all.
    """
    path = Path(path)
    frames = np.ascontiguousarray(fs.frames, dtype=np.uint8)
    if frames.ndim != 4 or frames.shape[3] != 3 or len(fs.timestamps_s) != len(frames):
        raise ValueError(
            f"expected (N, H, W, 3) frames and N timestamps, got {frames.shape}, {len(fs.timestamps_s)}"
        )
    meta = {
        "format": _FRAMESET_FORMAT,
        "shape": list(frames.shape),
        "source": fs.source,
        "corrupt_frames": int(fs.corrupt_frames),
        "timestamps_s": np.asarray(fs.timestamps_s, dtype=np.float64).tolist(),  # repr round-trips exactly
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _sidecar(path).unlink(missing_ok=True)
    _atomic_write(path, lambda f: np.save(f, frames, allow_pickle=False))
    _atomic_write(_sidecar(path), lambda f: f.write(json.dumps(meta).encode()))


def load_frameset(path: str | os.PathLike, mmap: bool = True) -> FrameSet:
    """Load a frame set saved by ``save_frameset``; with ``mmap`` the frames are a read-only memory map."""
    path = Path(path)
    try:
        meta = json.loads(_sidecar(path).read_text())
        frames = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{path}: frame set missing or incomplete ({exc.filename} not found)"
        ) from exc
    if meta.get("format") != _FRAMESET_FORMAT or list(frames.shape) != meta["shape"]:
        raise ValueError(f"{path}: frames and metadata do not match; extract the frames again")
    times = np.asarray(meta["timestamps_s"], dtype=np.float64)
    return FrameSet(
        frames=frames, timestamps_s=times, corrupt_frames=meta["corrupt_frames"], source=meta["source"]
    )
