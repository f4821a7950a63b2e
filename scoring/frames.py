"""Decoding, frame-accurate reads and uniform-in-time sampling of videos through PyAV (FFmpeg); frames come
out RGB uint8.

Real files lie: frame counts and durations in headers are wrong, frame rates vary, TS recordings joined with
``cat`` restart their timestamps, broadcasts are interlaced, copy-cut MP4s hide pre-roll behind an edit list.
So every time here is a presentation time (PTS) in seconds from the first displayed frame, on a timeline
that bridges timestamp discontinuities; frames are counted by decoding them; interlaced streams are
deinterlaced (bwdif); single reads seek to the key frame at or before t and decode forward to the last frame
whose PTS <= t.

The machinery lives in ``scoring.decoding``; this module is the public API.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scoring.decoding import (
    DEFAULT_LIMITS,
    DecodeLimits,
    NoFrameDecodedError,
    NoVideoStreamError,
    Progress,
    Sampler,
    UnsupportedCodecError,
    VideoDecodeError,
    VideoLimitError,
    estimate_capacity,
    open_video,
)
from scoring.files import replacing, write_atomic
from scoring.probing import VideoInfo, probe_video
from scoring.reading import TimedFrame, frames_at, read_frame_at, thumbnail_strip, timed_frames
from scoring.resizing import FrameSink
from scoring.shotcuts import detect_shot_cuts, shot_cut_scores

# on_frames(frames (n, H, W, 3) uint8, times (n,) seconds) of ``extract_frames``
FramesCallback = Callable[[np.ndarray, np.ndarray], None]
FIELD_READ_FACTOR = 4  # frame height / output height from which interlaced frames are read by field

__all__ = [
    "DecodeLimits",
    "FrameSet",
    "NoFrameDecodedError",
    "NoVideoStreamError",
    "frames_at",
    "timed_frames",
    "SamplingSpec",
    "VideoDecodeError",
    "VideoInfo",
    "detect_shot_cuts",
    "extract_frames",
    "ExtractionStopped",
    "FrameStream",
    "load_frameset",
    "probe_video",
    "read_frame_at",
    "save_frameset",
    "shot_cut_scores",
    "thumbnail_strip",
    "UnsupportedCodecError",
    "VideoLimitError",
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
class FrameSet:
    frames: np.ndarray  # (N, H, W, 3) uint8 RGB
    timestamps_s: np.ndarray  # (N,) float64, increasing, presentation time of each frame
    corrupt_frames: int  # frames the decoder skipped or could not convert
    source: str
    end_s: float | None = None  # when the last frame of the range stops showing (None: unknown, old files)

    def __len__(self) -> int:
        return len(self.frames)


def count_skipped_frames(timestamps_s: np.ndarray) -> int:
    """Frames missing from isolated gaps: an interval k times its local median hides k - 1 frames.

    The decoder drops a damaged frame without telling us; its trace is a doubled interval. A local (not
    global) median keeps genuine frame-rate changes of variable-frame-rate video from counting.
    """
    if len(timestamps_s) < 4:
        return 0
    dt = np.diff(timestamps_s)  # (N - 1,)
    half = 4
    padded = np.pad(dt, half, mode="edge")
    local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)
    ratio = dt / np.maximum(local, 1e-9)
    return int(np.sum(np.where(ratio > 1.5, np.rint(ratio) - 1, 0)))


def extract_frames(
    path: str | os.PathLike,
    spec: SamplingSpec,
    start_s: float | None = None,
    end_s: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    limits: DecodeLimits = DEFAULT_LIMITS,
    on_frames: FramesCallback | None = None,
    stop: threading.Event | None = None,
) -> FrameSet:
    """Sample ``path`` uniformly in time at ``spec.fps`` (every frame when None) within [start_s, end_s).

    Frames of an interlaced stream are deinterlaced (bwdif), or read one field at a time when the frame is at
    least ``FIELD_READ_FACTOR`` times the output height; they are turned upright, and resized to (spec.height,
    spec.width) with area averaging (a portrait video is squeezed to the same landscape size, so training and
    scoring see the same transform). Timestamps are presentation times on the continuous timeline (seconds
    from the first displayed frame). ``on_progress`` gets fractions in [0, 1]; an exception raised from it
    (e.g. a cancellation) propagates after the file is closed. ``on_frames(frames (n, H, W, 3), times (n,))``
    gets the frames as they are decoded, in order, ``STREAM_CHUNK`` at a time and the rest at the end (copies,
    for a consumer in another thread: ``FrameStream``); an exception raised from it propagates like one from
    ``on_progress``. Setting ``stop`` ends the extraction at the next decoded frame (kept or not) with
    ``ExtractionStopped``. Raises VideoDecodeError when no frame decodes.
    """
    name = os.fspath(path)
    begin_s = max(start_s or 0.0, 0.0)
    if end_s is not None and end_s <= begin_s:
        raise ValueError(f"end_s ({end_s}) must be after start_s ({begin_s})")
    with open_video(name, limits) as source:
        capacity = estimate_capacity(source, spec.fps, begin_s, end_s)
        interval_s, header_end_s = source.frame_interval_s, source.header_duration_s
        # An interlaced frame at least 4x the output height is read one field at a time: the output rows
        # average several rows of the first field, which a deinterlacer (bwdif) keeps unchanged, so bwdif
        # would cost as much as decoding and change nothing the model sees (docs/BENCHMARKS.md, ingest).
        one_field = (source.stream.codec_context.height or 0) >= FIELD_READ_FACTOR * spec.height
        codec = source.codec_name
    if on_frames is None:
        sink = FrameSink(capacity, spec.height, spec.width)
    else:
        sink = _StreamingSink(capacity, spec, on_frames)
    progress = Progress(on_progress, begin_s, end_s if end_s is not None else header_end_s)
    failed = [0]
    frames_in = timed_frames(name, begin_s, limits, on_error=lambda: _bump(failed), deinterlace=not one_field)
    sampler = Sampler(spec.fps, begin_s, interval_s)
    seen = _sample_into(sink, progress, frames_in, sampler, begin_s, end_s, interval_s, failed, stop)
    frames, times = sink.finish()
    if len(times) == 0:
        raise NoFrameDecodedError(f"{name}: no frame could be decoded{_range_text(begin_s, end_s)}", codec)
    progress.done()
    # A frame the decoder skipped shows as a failed packet, a gap in the timestamps, or both: count it once.
    corrupt = max(failed[0], count_skipped_frames(np.asarray(seen)))
    return FrameSet(frames=frames, timestamps_s=times, corrupt_frames=corrupt, source=name,
                    end_s=_end_of(seen, end_s))  # fmt: skip


STREAM_CHUNK = 256  # frames per ``on_frames`` call: the scorer's batch (scoring.scorer.DEFAULT_BATCH)


class _StreamingSink(FrameSink):
    """A ``FrameSink`` that also hands each ``STREAM_CHUNK`` of new frames to ``on_frames``."""

    def __init__(self, capacity: int, spec: SamplingSpec, on_frames: FramesCallback) -> None:
        super().__init__(capacity, spec.height, spec.width)
        self.on_frames, self.handed = on_frames, 0

    def add(self, frame, t_s: float, field: int | None = None) -> None:
        super().add(frame, t_s, field)
        if len(self.times) - self.handed >= STREAM_CHUNK:
            self.hand_over(len(self.times))

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        self.hand_over(len(self.times))  # the last, short chunk
        return super().finish()

    def hand_over(self, end: int) -> None:
        if end > self.handed:
            frames = self.buf[self.handed : end].copy()  # the buffer may grow (and move) while they are used
            self.on_frames(frames, np.asarray(self.times[self.handed : end], dtype=np.float64))
            self.handed = end


class FrameStream:
    """``extract_frames`` on a background thread, its frames handed over in order as they decode.

    For a consumer that works on early frames while later ones decode: ``python -m scoring score`` loads
    torch and runs the VAE while FFmpeg decodes, so the two use both cores instead of one after the other
    (docs/BENCHMARKS.md, "Scoring throughput"). Iterating yields ``(frames (n, H, W, 3) uint8, times (n,)
    seconds)`` chunks; ``result()`` is the whole ``FrameSet``, as ``extract_frames`` returns it. An error of
    the extraction (e.g. ``VideoDecodeError``) is raised by the iteration and by ``result()``. At most
    ``max_pending`` chunks wait for the consumer, which bounds the memory held when it is the slower one.
    ``close()`` (or leaving the ``with`` block) stops the extraction at its next decoded frame.
    """

    _END = object()

    def __init__(
        self,
        path: str | os.PathLike,
        spec: SamplingSpec,
        start_s: float | None = None,
        end_s: float | None = None,
        on_progress: Callable[[float], None] | None = None,
        limits: DecodeLimits = DEFAULT_LIMITS,
        max_pending: int = 8,
    ) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._stop = threading.Event()
        self._frameset: FrameSet | None = None
        self._error: BaseException | None = None
        self._ended = False
        args = (path, spec, start_s, end_s, on_progress, limits)
        self._thread = threading.Thread(target=self._run, args=args, name="offside-extract", daemon=True)
        self._thread.start()

    def _run(self, path, spec, start_s, end_s, on_progress, limits) -> None:
        try:
            self._frameset = extract_frames(
                path, spec, start_s, end_s, on_progress, limits, self._put, self._stop
            )
        except ExtractionStopped:
            pass
        except BaseException as exc:  # handed to the consumer's thread, raised there
            self._error = exc
        finally:
            self._put(self._END)

    def _put(self, item, times=None) -> None:
        chunk = item if times is None else (item, times)
        while True:  # blocks while the consumer is behind, but gives up as soon as it stops listening
            if self._stop.is_set():
                if chunk is self._END:
                    return
                raise ExtractionStopped
            try:
                self._queue.put(chunk, timeout=0.2)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while not self._ended:
            chunk = self._queue.get()
            if chunk is self._END:
                self._ended = True
                break
            yield chunk
        self._thread.join()
        if self._error is not None:
            raise self._error

    def result(self) -> FrameSet:
        """The whole frame set, once the iteration has ended (waits for the extraction otherwise)."""
        for _ in self:  # consumes what is left, if anything
            pass
        return self._frameset

    def close(self) -> None:
        """Stop the extraction (at its next decoded frame) and wait for its thread; the stream then ends,
        and reading it further raises ``ExtractionStopped`` unless it had already ended."""
        self._stop.set()
        self._thread.join()
        if not self._ended and self._frameset is None and self._error is None:
            self._error = ExtractionStopped("the frame stream was closed before its extraction ended")
        self._ended = True

    def __enter__(self) -> FrameStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ExtractionStopped(Exception):
    """``extract_frames`` was told to stop (its ``stop`` event), e.g. a ``FrameStream`` closed early."""


def _end_of(seen: list[float], range_end_s: float | None) -> float:
    """The time the last decoded frame stops showing: its time plus the typical recent frame interval."""
    recent = np.diff(np.asarray(seen[-32:]))
    recent = recent[recent > 0]
    end_s = seen[-1] + (float(np.median(recent)) if len(recent) else 0.0)
    return end_s if range_end_s is None else min(end_s, range_end_s)


def _bump(counter: list[int]) -> None:
    counter[0] += 1


def _sample_into(
    sink: FrameSink,
    progress: Progress,
    frames: Iterator[TimedFrame],
    sampler: Sampler,
    begin_s: float,
    end_s: float | None,
    interval_s: float,
    failed: list[int],
    stop: threading.Event | None = None,
) -> list[float]:
    """The hot loop: every frame is decoded, only kept ones are converted and resized. Returns the times of
    all frames seen in the range (for counting skipped frames)."""
    tol = 0.5 * interval_s
    seen: list[float] = []
    try:
        for timed in frames:
            if stop is not None and stop.is_set():
                raise ExtractionStopped
            t = timed.t_s
            if end_s is not None and t >= end_s - 1e-9:
                break
            if t < begin_s - tol:
                continue  # the key frame before the range, decoded only to reach it
            seen.append(t)
            if not sampler.keep(t):
                continue
            if timed.frame.is_corrupt:
                failed[0] += 1
            sink.add(timed.frame, t, timed.field)
            progress.update(t)
    finally:
        frames.close()
    return seen


def _range_text(begin_s: float, end_s: float | None) -> str:
    if end_s is not None:
        return f" between {begin_s:g} s and {end_s:g} s"
    return f" after {begin_s:g} s" if begin_s else ""


# --- frame-set files ----------------------------------------------------------------------------------------


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


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
        "end_s": fs.end_s,
        "timestamps_s": np.asarray(fs.timestamps_s, dtype=np.float64).tolist(),  # repr round-trips exactly
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _sidecar(path).unlink(missing_ok=True)
    with replacing(path) as tmp, tmp.open("wb") as handle:  # a handle: np.save would append ".npy" to a name
        np.save(handle, frames, allow_pickle=False)
    write_atomic(_sidecar(path), json.dumps(meta).encode())


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
        frames=frames,
        timestamps_s=times,
        corrupt_frames=meta["corrupt_frames"],
        source=meta["source"],
        end_s=meta.get("end_s"),
    )
