"""Decoding internals behind ``scoring.frames``: opening, timestamps, seeking, resizing, buffering, progress.

Private to the package (use ``scoring.frames``). Speed notes: decoding one 720p frame keeps one core busy
for about 4 ms. Frames we do not keep are only ``grab()``-ed (decoded, not colour-converted); kept frames are
resized on a helper thread (OpenCV releases the GIL) so the resize overlaps with decoding the next frame.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

_FALLBACK_FPS = 25.0  # used only when the container reports no usable frame rate
SEEK_MIN_S = 2.0  # below this, decoding forward is cheaper and exact; above it, let the demuxer seek
_MAX_GRAB_RETRIES = 5  # grab() also fails on a damaged frame mid-stream; the next grab() goes on after it
_MAX_IN_FLIGHT = 6  # full-size frames queued for the resize thread (each 2.7 MB at 720p)
_PROGRESS_STEP = 0.01
ROTATE_CODES = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


class VideoDecodeError(ValueError):
    """The file is missing, empty, not a video, truncated beyond repair, or no frame of it decodes."""


# --- opening and stream metadata ----------------------------------------------------------------------------


@contextmanager
def open_video(path: str | os.PathLike) -> Iterator[cv2.VideoCapture]:
    """Open with the FFmpeg backend (predictable across formats) and always release."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise VideoDecodeError(f"{name}: no such file")
    if os.path.getsize(name) == 0:
        raise VideoDecodeError(f"{name}: file is empty")
    backend = cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY
    cap = cv2.VideoCapture(name, backend)
    try:
        if not cap.isOpened():
            raise VideoDecodeError(f"{name}: not a video, or truncated (the container cannot be read)")
        yield cap
    finally:
        cap.release()


@dataclass(frozen=True)
class StreamInfo:
    """What the container claims; every field may be wrong, so only used for estimates and fallbacks."""

    fps: float
    frame_count: int  # 0 when unknown
    rotation_deg: int
    rotate_manually: bool  # the backend reports rotation but does not apply it

    @property
    def frame_interval_s(self) -> float:
        return 1.0 / self.fps

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps

    @classmethod
    def of(cls, cap: cv2.VideoCapture) -> StreamInfo:
        fps = cap.get(cv2.CAP_PROP_FPS)
        fps = fps if math.isfinite(fps) and 0.1 < fps < 1000 else _FALLBACK_FPS
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        count = int(count) if math.isfinite(count) and count > 0 else 0
        rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        auto = cap.get(cv2.CAP_PROP_ORIENTATION_AUTO) > 0
        return cls(fps, count, rotation, rotate_manually=rotation in (90, 180, 270) and not auto)


class Clock:
    """Turns ``CAP_PROP_POS_MSEC`` readings into strictly increasing timestamps in seconds."""

    def __init__(self, frame_interval_s: float, first_s: float = 0.0) -> None:
        self.dt = frame_interval_s
        self.first_s = first_s
        self.last: float | None = None

    def stamp(self, pos_ms: float) -> float:
        t = pos_ms / 1000.0
        if self.last is None:
            t = t if t > 0 else self.first_s
        elif t <= 0.0:
            t = self.last + self.dt  # no timestamps in this container: fall back to index / fps
        elif t <= self.last:
            t = self.last + 1e-6  # duplicate stamp: keep order without drifting away from the real clock
        self.last = t
        return t


def grab_frame(cap: cv2.VideoCapture) -> tuple[bool, int]:
    """grab() with a few retries; returns (got a frame, failed attempts before it)."""
    for attempt in range(_MAX_GRAB_RETRIES + 1):
        if cap.grab():
            return True, attempt
    return False, 0


def seek(cap: cv2.VideoCapture, t_s: float) -> bool:
    """Let the demuxer jump near ``t_s``; False when it cannot (then decode forward from where we are)."""
    return t_s >= SEEK_MIN_S and bool(cap.set(cv2.CAP_PROP_POS_MSEC, t_s * 1000.0))


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


# --- resizing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResizePlan:
    """Area-average a (src_h, src_w) frame down to (height, width) cheaply.

    OpenCV's INTER_AREA takes ~3.5 ms for 720p -> 96x54 on its general path, almost as long as decoding the
    frame, but halving (2x2 averaging) has a vectorised fast path. So: halve while the result stays >= 1.5x
    the target, then one small general area resize. When the frame is >= 8x taller than the target, the first
    step reads every other row instead of averaging pairs (each output pixel still averages dozens of source
    pixels; a line 2 px thick is never missed). 720p -> 96x54 then costs ~0.6 ms and differs from one-step
    INTER_AREA by about one grey level on average. Sizes are centre-cropped by < 2**halvings pixels so every
    halving is exact (the fast path needs even sizes).
    """

    crop: tuple[int, int, int, int]  # y0, y1, x0, x1 of the source
    row_step: int  # 1, or 2 to read every other source row
    halvings: int  # 2x2 averaging steps
    size: tuple[int, int]  # (w, h) of the final resize (swapped for 90/270 manual rotation)
    rotate: int | None  # cv2.ROTATE_* code when the backend leaves rotation to us

    @classmethod
    def make(cls, src_h: int, src_w: int, height: int, width: int, rotation_deg: int = 0) -> ResizePlan:
        quarter = rotation_deg in (90, 270)
        out_h, out_w = (width, height) if quarter else (height, width)
        row_step = 2 if src_h >= 8 * out_h else 1
        rows = src_h // row_step
        halvings = 0
        while rows >> (halvings + 1) >= 1.5 * out_h and src_w >> (halvings + 1) >= 1.5 * out_w:
            halvings += 1
        unit = 1 << halvings
        crop_h, crop_w = (rows - rows % unit) * row_step, src_w - src_w % unit
        y0, x0 = (src_h - crop_h) // 2, (src_w - crop_w) // 2
        crop = (y0, y0 + crop_h, x0, x0 + crop_w)
        return cls(crop, row_step, halvings, (out_w, out_h), ROTATE_CODES.get(rotation_deg))

    def apply(self, frame_bgr: np.ndarray, dst: np.ndarray) -> None:
        """Write the resized RGB frame into ``dst`` (height, width, 3)."""
        y0, y1, x0, x1 = self.crop
        img = frame_bgr[y0 : y1 : self.row_step, x0:x1]  # a view: rows stay contiguous, so no copy
        for _ in range(self.halvings):
            img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
        img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
        if self.rotate is not None:
            img = cv2.rotate(img, self.rotate)
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=dst)


class FrameSink:
    """Collects resized frames into one preallocated (N, H, W, 3) array, resizing on a helper thread."""

    def __init__(self, capacity: int, height: int, width: int, rotation_deg: int, pool: ThreadPoolExecutor):
        self.buf = np.empty((max(capacity, 16), height, width, 3), dtype=np.uint8)
        self.times: list[float] = []
        self.rotation_deg = rotation_deg
        self.plan: ResizePlan | None = None
        self.pool = pool
        self.pending: deque[Future] = deque()

    def add(self, frame_bgr: np.ndarray, t_s: float) -> None:
        n = len(self.times)
        if n == len(self.buf):
            self._grow()
        if self.plan is None:  # decided on the first frame: the real size can differ from the header's
            h, w = frame_bgr.shape[:2]
            self.plan = ResizePlan.make(h, w, self.buf.shape[1], self.buf.shape[2], self.rotation_deg)
        self.pending.append(self.pool.submit(self.plan.apply, frame_bgr, self.buf[n]))
        self.times.append(t_s)
        if len(self.pending) > _MAX_IN_FLIGHT:
            self.pending.popleft().result()

    def _drain(self) -> None:
        while self.pending:
            self.pending.popleft().result()

    def _grow(self) -> None:
        self._drain()  # pending resizes write into the old buffer
        bigger = np.empty((2 * len(self.buf), *self.buf.shape[1:]), dtype=np.uint8)
        bigger[: len(self.buf)] = self.buf
        self.buf = bigger

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        self._drain()
        n = len(self.times)
        # A view is fine when the estimate was close; copy when a lying header made us over-allocate a lot.
        frames = self.buf[:n] if n >= len(self.buf) // 2 else self.buf[:n].copy()
        return frames, np.asarray(self.times, dtype=np.float64)


class Progress:
    """Calls ``on_progress(fraction)`` in steps of at least 1 %, driven by the timestamp reached."""

    def __init__(self, callback: Callable[[float], None] | None, begin_s: float, end_s: float) -> None:
        self.callback = callback
        self.begin_s = begin_s
        self.span_s = max(end_s - begin_s, 1e-6)
        self.last = 0.0

    def update(self, t_s: float) -> None:
        if self.callback is None:
            return
        fraction = min(max((t_s - self.begin_s) / self.span_s, 0.0), 0.99)  # 1.0 only once really done
        if fraction - self.last >= _PROGRESS_STEP:
            self.last = fraction
            self.callback(fraction)

    def done(self) -> None:
        if self.callback is not None:
            self.callback(1.0)


# --- extraction ---------------------------------------------------------------------------------------------


class Sampler:
    """Keeps, for each target time t0 + k / fps, the first frame less than half a frame interval before it,
    i.e. the frame nearest the target. The interval is the one just observed, so it follows variable rates."""

    def __init__(self, fps: float | None, t0_s: float, frame_interval_s: float) -> None:
        self.period = None if fps is None else 1.0 / fps
        self.t0 = t0_s
        self.interval = frame_interval_s
        self.prev_s: float | None = None
        self.next_s = t0_s

    def keep(self, t_s: float) -> bool:
        if self.period is None:
            return True
        if self.prev_s is not None:
            self.interval = t_s - self.prev_s
        self.prev_s = t_s
        tol = 0.5 * self.interval
        if t_s < self.next_s - tol:
            return False
        # Next target strictly after this frame; targets are t0 + k * period so rounding never drifts.
        self.next_s = self.t0 + (math.floor((t_s + tol - self.t0) / self.period) + 1) * self.period
        return True


def estimate_capacity(stream: StreamInfo, fps: float | None, start_s: float, end_s: float | None) -> int:
    """Frames to preallocate for: exact when the header is honest, doubled by FrameSink when it is not."""
    span_s = (end_s if end_s is not None else stream.duration_s) - start_s
    if span_s <= 0:
        return 256  # unknown length: start small, the sink doubles as needed
    rate = stream.fps if fps is None else min(fps, stream.fps)
    return int(math.ceil(span_s * rate)) + 2
