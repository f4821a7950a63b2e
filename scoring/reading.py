"""Frames on the presentation timeline: decoding forward from a time, and frame-accurate single reads.

``timed_frames`` is the one loop every read goes through (sampling, probe, poster, strip, report frames,
heatmaps, render input): it positions the decoder at the key frame at or before the asked time (a seek when
the file's timeline is continuous, decoding from the start when its timestamps jump), deinterlaces, and
stamps each frame with its time in seconds from the first displayed frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import av
import cv2
import numpy as np

from scoring.decoding import (
    DEFAULT_LIMITS,
    DecodeLimits,
    NoFrameDecodedError,
    Source,
    Timeline,
    VideoDecodeError,
    decoded_frames,
    open_video,
    progressive_frames,
    sample_aspect_ratio,
    to_display,
)

SEEK_MIN_S = 2.0  # closer than this, decoding forward is cheaper than a seek (and exact anyway)


@dataclass
class TimedFrame:
    t_s: float  # presentation time in seconds from the first displayed frame
    frame: av.VideoFrame
    source: Source
    deinterlaced: bool  # went through bwdif
    field: int | None  # interlaced but not deinterlaced: row parity of the first field (read its rows only)
    discontinuities: int  # timestamp jumps bridged so far on this pass


@lru_cache(maxsize=64)
def _timestamp_jumps(path: str, mtime_ns: int, size: int) -> int:
    """Discontinuities of the video stream's DTS, read by demuxing only (no decoding): cheap even for long
    recordings. Only called for formats whose timestamps may jump (MPEG-TS/PS)."""
    with av.open(path, metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or 25
        timeline = Timeline(1.0 / float(rate), bridge_forward_jumps=True)
        tb = float(stream.time_base)
        try:
            for packet in container.demux(stream):
                if packet.dts is not None:
                    timeline.seconds(packet.dts * tb)
        except av.error.FFmpegError:
            pass  # a damaged tail: the jumps before it are what matters
    return timeline.discontinuities


def has_timestamp_jumps(source: Source) -> bool:
    if not source.ts_discont:
        return False
    stat = os.stat(source.path)
    return _timestamp_jumps(source.path, stat.st_mtime_ns, stat.st_size) > 0


def _stamped(
    source: Source,
    frames: Iterator[av.VideoFrame],
    timeline: Timeline,
    limits: DecodeLimits,
    deinterlace: bool = True,
) -> Iterator[TimedFrame]:
    checked = False
    for frame, deinterlaced, field in progressive_frames(source, frames, deinterlace):
        if not checked:  # the header may understate the picture
            limits.check_size(frame.width, frame.height, source.path)
            checked = True
        t_s = timeline.seconds(frame.time)  # PTS x the frame's time base (bwdif's differs from the stream's)
        if t_s > limits.max_duration_s:
            limits.check_duration(t_s, source.path)
        yield TimedFrame(t_s, frame, source, deinterlaced, field, timeline.discontinuities)


def _first_pts(source: Source) -> int | None:
    for frame in decoded_frames(source):
        return frame.pts
    return None


def _seek_frames(
    source: Source,
    begin_s: float,
    limits: DecodeLimits,
    on_error: Callable[[], None] | None,
    deinterlace: bool,
) -> Iterator[TimedFrame] | None:
    """Frames from the key frame at or before ``begin_s`` via seeks, stepping back while a seek lands late;
    None when seeking cannot get there (then decode from the start)."""
    origin = _first_pts(source)
    if origin is None:
        return None
    tb = float(source.stream.time_base)
    back_s = 0.5
    while begin_s - back_s > 0:
        source.container.seek(origin + int((begin_s - back_s) / tb), stream=source.stream, backward=True)
        frames = decoded_frames(source, on_error)
        first = next(frames, None)
        if first is None or first.pts is None:
            return None
        if (first.pts - origin) * tb <= begin_s:
            timeline = Timeline(source.frame_interval_s, bridge_forward_jumps=False)
            timeline.seconds(origin * tb)  # anchor t = 0 at the first displayed frame
            return _stamped(source, _chain(first, frames), timeline, limits, deinterlace)
        back_s *= 2
    return None


def _chain(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    yield first
    yield from rest


def timed_frames(
    path: str | os.PathLike,
    begin_s: float = 0.0,
    limits: DecodeLimits = DEFAULT_LIMITS,
    on_error: Callable[[], None] | None = None,
    deinterlace: bool = True,
) -> Iterator[TimedFrame]:
    """Frames in presentation order from the key frame at or before ``begin_s`` (so the first ones may be
    earlier than ``begin_s``) to the end. Opens and closes its own container. Interlaced frames go through
    bwdif, or with ``deinterlace=False`` come as decoded with ``TimedFrame.field`` set (for readers that take
    one field's rows, see ``scoring.resizing``).

    Raises VideoDecodeError (or a subclass: no video stream, codec, limit) before the first frame.
    """
    name = os.fspath(path)
    with open_video(name, limits) as source:
        if begin_s > SEEK_MIN_S and not has_timestamp_jumps(source):
            frames = _seek_frames(source, begin_s, limits, on_error, deinterlace)
            if frames is not None:
                yield from frames
                return
    with open_video(name, limits) as source:  # from the start: no seek, or the seeks could not get there
        timeline = Timeline(source.frame_interval_s, source.ts_discont)
        yield from _stamped(source, decoded_frames(source, on_error), timeline, limits, deinterlace)


# --- single frames ------------------------------------------------------------------------------------------


class _Cursor:
    """A forward reader over ``timed_frames`` that answers "the frame on screen at t" for increasing t,
    re-positioning (a seek) only when the next time is far ahead."""

    def __init__(self, path: str, limits: DecodeLimits) -> None:
        self.path, self.limits = path, limits
        self.frames: Iterator[TimedFrame] | None = None
        self.current: TimedFrame | None = None  # last frame with time <= the last asked t
        self.ahead: TimedFrame | None = None  # the frame after it, already decoded
        self.ended = False

    def _restart(self, t_s: float) -> None:
        if self.frames is not None:
            self.frames.close()
        self.frames = timed_frames(self.path, t_s, self.limits)
        self.current = self.ahead = None
        self.ended = False

    def _next(self) -> TimedFrame | None:
        if self.ahead is not None:
            nxt, self.ahead = self.ahead, None
            return nxt
        nxt = next(self.frames, None)
        self.ended = nxt is None
        return nxt

    def at(self, t_s: float) -> TimedFrame | None:
        """The last frame whose time is <= t_s; past the end, the last frame; None when nothing decodes."""
        if (
            self.frames is None
            or (self.current is not None and t_s < self.current.t_s)
            or self.current is not None
            and t_s - self.current.t_s > SEEK_MIN_S
            and not self.ended
        ):
            self._restart(t_s)
        while True:
            nxt = self._next()
            if nxt is None:
                return self.current
            if nxt.t_s > t_s + 1e-6:
                self.ahead = nxt
                return self.current if self.current is not None else nxt
            self.current = nxt

    def close(self) -> None:
        if self.frames is not None:
            self.frames.close()


def frames_at(
    path: str | os.PathLike,
    times_s: Sequence[float],
    past_end: str = "error",
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> list[np.ndarray]:
    """The frames on screen at each time, (H, W, 3) uint8 RGB at display size, in the order of ``times_s``.

    The frame on screen at t is the last frame whose PTS <= t. All times are read in one forward pass, with a
    seek only to jump far ahead. A time past the end gives the last frame when ``past_end="last"``, and
    raises VideoDecodeError naming the duration when ``past_end="error"``; negative times read as 0.
    """
    name = os.fspath(path)
    order = sorted(range(len(times_s)), key=lambda i: times_s[i])
    out: list[np.ndarray | None] = [None] * len(times_s)
    cursor = _Cursor(name, limits)
    try:
        for i in order:
            t_s = max(float(times_s[i]), 0.0)
            found = cursor.at(t_s)
            if found is None:
                raise NoFrameDecodedError(f"{name}: no frame could be decoded at {t_s:.3f} s")
            if (
                cursor.ended
                and past_end == "error"
                and t_s >= found.t_s + 1.5 * found.source.frame_interval_s
            ):
                end_s = found.t_s + found.source.frame_interval_s
                raise VideoDecodeError(f"{name}: {t_s:.3f} s is past the end of the video ({end_s:.3f} s)")
            out[i] = to_display(found.frame, sample_aspect_ratio(found.source))
    finally:
        cursor.close()
    return out  # type: ignore[return-value]


def fit_width(frame: np.ndarray, max_width: int | None) -> np.ndarray:
    h, w = frame.shape[:2]
    if max_width is None or w <= max_width:
        return frame
    return cv2.resize(frame, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)


def read_frame_at(
    path: str | os.PathLike,
    t_s: float,
    max_width: int | None = None,
    past_end: str = "error",
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> np.ndarray:
    """The RGB frame on screen at ``t_s`` (H, W, 3) uint8 at display size, or at most ``max_width`` wide.
    Past the end: VideoDecodeError, or the last frame with ``past_end="last"``."""
    return fit_width(frames_at(path, [t_s], past_end, limits)[0], max_width)


def thumbnail_strip(
    path: str | os.PathLike, count: int, height: int, duration_s: float | None = None,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> np.ndarray:  # fmt: skip
    """``count`` frames evenly spread over the video, ``height`` tall, side by side: (height, W, 3) RGB.

    ``duration_s`` should be the probed duration; without it the header's estimate is used (a time past the
    real end shows the last frame).
    """
    if count < 1 or height < 1:
        raise ValueError("count and height must be positive")
    if duration_s is None:
        with open_video(path, limits) as source:
            duration_s = source.header_duration_s
    times = [(i + 0.5) * max(duration_s, 0.0) / count for i in range(count)]
    tiles = []
    for frame in frames_at(path, times, past_end="last", limits=limits):
        h, w = frame.shape[:2]
        tiles.append(cv2.resize(frame, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA))
    return np.hstack(tiles)
