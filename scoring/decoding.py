"""Decoding internals behind ``scoring.frames``, on PyAV (FFmpeg's libraries): opening with limits, the
presentation timeline, deinterlacing, display geometry, start timecode, resizing and progress.

Private to the package (use ``scoring.frames``). Why PyAV: real recordings need what only FFmpeg's API
exposes: presentation timestamps (PTS) of every frame, seeks to a key frame with decoding forward from it, the
interlaced flag and field order, the display matrix and sample aspect ratio, and timecode side data.
Frames are decoded with FFmpeg's own frame and slice threads (``thread_type="AUTO"``, as ``ffmpeg`` does).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np

_FALLBACK_FPS = 25.0  # only when the stream reports no usable frame rate
_PROGRESS_STEP = 0.01
ROTATE_CODES = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
# FFmpeg's AVFMT_TS_DISCONT: formats (MPEG-TS, MPEG-PS) whose timestamps may jump, e.g. files joined with cat.
_FMT_TS_DISCONT = 0x0200
# In such formats a forward jump longer than this is a discontinuity, not a still picture.
FORWARD_GAP_S = 5.0
# Field orders that mean interlaced (AVFieldOrder: TT, BB, TB, BT); 0 is unknown, 1 progressive.
_INTERLACED_FIELD_ORDERS = {2, 3, 4, 5}


class VideoDecodeError(ValueError):
    """The file is missing, empty, not a video, truncated beyond repair, or no frame of it decodes.

    ``codec`` is FFmpeg's name of the video stream's codec ("h264", "av1") when it is known, else None: a
    caller that words its own message reads it here, never from the message text.
    """

    def __init__(self, message: str, codec: str | None = None) -> None:
        super().__init__(message)
        self.codec = codec


class NoFrameDecodedError(VideoDecodeError):
    """The file opens and has a video stream, but not one frame of it (or of the asked range) decodes."""


class NoVideoStreamError(VideoDecodeError):
    """The file holds no video stream to decode (audio only, or only a cover picture)."""


class UnsupportedCodecError(VideoDecodeError):
    """The video stream's codec cannot be decoded by this build of FFmpeg; the message names it."""


class VideoLimitError(VideoDecodeError):
    """The header declares a picture or a duration over the configured limits; the message names the limit."""


@dataclass(frozen=True)
class DecodeLimits:
    """Checked from headers before anything is decoded (and again on the decoded frames, headers lie)."""

    max_frame_pixels: int = 7680 * 4320
    max_duration_s: float = 12 * 3600.0

    def check_size(self, width: int, height: int, source: str) -> None:
        if width * height > self.max_frame_pixels:
            raise VideoLimitError(
                f"{source}: the picture is {width}x{height} ({width * height:,} pixels), over the limit of "
                f"{self.max_frame_pixels:,} pixels per frame (setting OFFSIDE_MAX_FRAME_PIXELS)"
            )

    def check_duration(self, duration_s: float, source: str) -> None:
        if duration_s > self.max_duration_s:
            raise VideoLimitError(
                f"{source}: the video lasts {duration_s / 3600:.1f} h, over the limit of "
                f"{self.max_duration_s / 3600:g} h (setting OFFSIDE_MAX_DURATION_S)"
            )


DEFAULT_LIMITS = DecodeLimits()


# --- opening ------------------------------------------------------------------------------------------------


@dataclass
class Source:
    """An open container and its video stream, with what the headers say (estimates only)."""

    path: str
    container: av.container.InputContainer
    stream: av.video.stream.VideoStream
    nominal_fps: float
    header_duration_s: float  # 0 when unknown
    ts_discont: bool  # timestamps of this format may restart or jump (MPEG-TS/PS)

    @property
    def frame_interval_s(self) -> float:
        return 1.0 / self.nominal_fps

    @property
    def codec_name(self) -> str:
        return self.stream.codec_context.name


def _video_stream(container: av.container.InputContainer, name: str) -> av.video.stream.VideoStream:
    """The first video stream that is a moving picture (a cover picture is ``attached_pic``)."""
    for stream in container.streams.video:
        if not int(stream.disposition) & int(av.stream.Disposition.attached_pic):
            return stream
    raise NoVideoStreamError(f"{name}: audio only: no video stream")


def _check_decoder(stream: av.video.stream.VideoStream, name: str) -> None:
    ctx = stream.codec_context
    if ctx is None or not ctx.is_decoder:
        codec = getattr(getattr(ctx, "codec", None), "name", None) or "unknown"
        raise UnsupportedCodecError(
            f"{name}: the video codec {codec!r} cannot be decoded by this server", codec=codec
        )


def _nominal_fps(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0.1 < float(rate) < 1000:
            return float(rate)
    return _FALLBACK_FPS


def _header_duration_s(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def timestamps_may_jump(container: av.container.InputContainer) -> bool:
    """True for formats (MPEG-TS/PS) whose timestamps may restart or leap, e.g. recordings joined with cat."""
    return bool(int(container.format.flags or 0) & _FMT_TS_DISCONT)


@contextmanager
def open_video(path: str | os.PathLike, limits: DecodeLimits = DEFAULT_LIMITS) -> Iterator[Source]:
    """Open ``path``, pick its video stream and check the limits from the headers; always closes.

    Raises VideoDecodeError (missing, empty, unreadable), NoVideoStreamError, UnsupportedCodecError or
    VideoLimitError, each with a message fit for a user.
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise VideoDecodeError(f"{name}: no such file")
    if os.path.getsize(name) == 0:
        raise VideoDecodeError(f"{name}: file is empty")
    try:
        container = av.open(name, metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoDecodeError(
            f"{name}: not a video, or truncated (the container cannot be read: {exc})"
        ) from exc
    try:
        stream = _video_stream(container, name)
        _check_decoder(stream, name)
        ctx = stream.codec_context
        limits.check_size(ctx.width or 0, ctx.height or 0, name)
        header_duration_s = _header_duration_s(container, stream)
        limits.check_duration(header_duration_s, name)
        stream.thread_type = "AUTO"
        yield Source(name, container, stream, _nominal_fps(stream), header_duration_s,
                     ts_discont=timestamps_may_jump(container))  # fmt: skip
    finally:
        container.close()


def decoded_frames(source: Source, on_error: Callable[[], None] | None = None) -> Iterator[av.VideoFrame]:
    """Every frame of the video stream from the current position, in presentation order.

    A packet that fails to decode is skipped (``on_error`` is told); the decoder is flushed at the end.
    Raises UnsupportedCodecError when the codec cannot even be opened.
    """
    try:
        for packet in source.container.demux(source.stream):
            try:
                yield from packet.decode()
            except av.error.DecoderNotFoundError:
                raise
            except av.error.FFmpegError:  # a damaged packet (or one this decoder refuses): go on after it
                if on_error is not None:
                    on_error()
    except av.error.DecoderNotFoundError as exc:
        raise UnsupportedCodecError(
            f"{source.path}: the video codec {source.codec_name!r} cannot be decoded by this server",
            codec=source.codec_name,
        ) from exc
    except (av.error.EOFError, av.error.InvalidDataError):
        if on_error is not None:  # a container truncated mid-packet: keep what decoded before
            on_error()


# --- the timeline -------------------------------------------------------------------------------------------


class Timeline:
    """Turns the PTS of decoded frames into continuous seconds from the first displayed frame.

    A backward jump (TS files joined with ``cat``, a 33-bit PTS wrap that FFmpeg did not correct) or, in
    formats whose timestamps may jump, a forward jump over ``FORWARD_GAP_S`` is a discontinuity: the
    timeline continues one frame interval after the last frame instead of collapsing or leaping, and the
    jump is counted. Frames without a PTS get the previous time plus one interval.
    """

    def __init__(self, nominal_interval_s: float, bridge_forward_jumps: bool) -> None:
        self.interval_s = nominal_interval_s
        self.bridge_forward = bridge_forward_jumps
        self.origin: float | None = None
        self.offset_s = 0.0
        self.last_s: float | None = None
        self.discontinuities = 0

    def seconds(self, pts_s: float | None) -> float:
        """Timeline seconds of a frame whose PTS is ``pts_s`` seconds (None: no PTS)."""
        if self.last_s is None:
            self.origin = 0.0 if pts_s is None else pts_s
            self.last_s = 0.0
            return 0.0
        if pts_s is None:
            t = self.last_s + self.interval_s
        else:
            t = pts_s - self.origin + self.offset_s
            delta = t - self.last_s
            if delta < -0.5 * self.interval_s or (self.bridge_forward and delta > FORWARD_GAP_S):
                self.discontinuities += 1
                self.offset_s += self.last_s + self.interval_s - t
                t = self.last_s + self.interval_s
            elif delta <= 0:
                t = self.last_s + 1e-3  # a repeated PTS: keep the order, do not invent a frame interval
            else:
                self.interval_s = 0.8 * self.interval_s + 0.2 * delta  # follows variable frame rates
        self.last_s = t
        return t


# --- picture: deinterlacing, geometry, conversion -----------------------------------------------------------


def is_interlaced(source: Source, frame: av.VideoFrame) -> bool:
    """Interlaced when the decoder flags the picture or the stream declares an interlaced field order."""
    return bool(frame.interlaced_frame) or int(source.stream.codec_context.field_order or 0) in (
        _INTERLACED_FIELD_ORDERS
    )


class Deinterlacer:
    """FFmpeg's ``bwdif`` through PyAV's filter graph: one progressive frame per interlaced frame (the frame
    rate and the PTS stay those of the stream). It holds one frame back, so ``flush`` at the end."""

    def __init__(self, source: Source) -> None:
        self.graph = av.filter.Graph()
        buffer = self.graph.add_buffer(template=source.stream)
        bwdif = self.graph.add("bwdif", "mode=send_frame:parity=auto:deint=all")
        sink = self.graph.add("buffersink")
        buffer.link_to(bwdif)
        bwdif.link_to(sink)
        self.graph.configure()

    def push(self, frame: av.VideoFrame | None) -> list[av.VideoFrame]:
        self.graph.push(frame)
        out = []
        while True:
            try:
                out.append(self.graph.pull())
            except (BlockingIOError, av.error.EOFError):
                return out


def first_field(source: Source) -> int:
    """Row parity of the field displayed first in an interlaced stream: 0 when the top field (even rows)
    comes first, 1 when the bottom field does; from the field order the decoder sets once it has decoded a
    frame (PyAV does not expose the per-frame flag). Unknown counts as top first, the common case."""
    # AVFieldOrder BB (3, bottom coded and shown first) and TB (4, top coded first, bottom shown first).
    return 1 if int(source.stream.codec_context.field_order or 0) in (3, 4) else 0


def progressive_frames(
    source: Source, frames: Iterator[av.VideoFrame], deinterlace: bool = True
) -> Iterator[tuple[av.VideoFrame, bool, int | None]]:
    """``frames`` with how to read them, decided on the first frame. Yields (frame, deinterlaced, field):
    an interlaced stream goes through bwdif when ``deinterlace`` (deinterlaced True, field None); otherwise
    its frames come as decoded with ``field`` the row parity of the first field (0 or 1, see ``first_field``),
    for a caller that reads that field's rows only: the lines bwdif keeps unchanged. A progressive stream
    gives (frame, False, None)."""
    deinterlacer: Deinterlacer | None = None
    interlaced: bool | None = None
    for frame in frames:
        if interlaced is None:
            interlaced = is_interlaced(source, frame)
            if interlaced and deinterlace:
                deinterlacer = Deinterlacer(source)
        if deinterlacer is None:
            yield frame, False, (first_field(source) if interlaced else None)
            continue
        for out in deinterlacer.push(frame):
            yield out, True, None
    if deinterlacer is not None:
        for out in deinterlacer.push(None):
            yield out, True, None


def rotation_of(frame: av.VideoFrame) -> int:
    """Clockwise degrees (0, 90, 180, 270) to turn the stored picture to show it upright.

    FFmpeg's display matrix gives the counter-clockwise angle that was applied, hence the minus sign.
    """
    angle = float(frame.rotation or 0.0)
    return int(round(-angle / 90.0)) % 4 * 90


def sample_aspect_ratio(source: Source) -> Fraction:
    for sar in (source.stream.sample_aspect_ratio, source.stream.codec_context.sample_aspect_ratio):
        if sar and sar > 0:
            return Fraction(sar)
    return Fraction(1)


def display_size(width: int, height: int, sar: Fraction, rotation_deg: int) -> tuple[int, int]:
    """(width, height) on screen: the width stretched by the sample aspect ratio, then rotated."""
    display_w = max(1, round(width * sar))
    return (height, display_w) if rotation_deg in (90, 270) else (display_w, height)


def to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """(H, W, 3) uint8 RGB at the stored size, any pixel format (10-bit, 4:2:2, ...) through swscale."""
    return frame.to_ndarray(format="rgb24")


def to_display(frame: av.VideoFrame, sar: Fraction) -> np.ndarray:
    """(H, W, 3) RGB as shown on screen: rotated upright and stretched to square pixels."""
    rgb = to_rgb(frame)
    if sar != 1:
        h, w = rgb.shape[:2]
        rgb = cv2.resize(rgb, (max(1, round(w * sar)), h), interpolation=cv2.INTER_AREA)
    rotation = rotation_of(frame)
    if rotation:
        rgb = cv2.rotate(rgb, ROTATE_CODES[rotation])
    return rgb


# --- start timecode -----------------------------------------------------------------------------------------

_TIMECODE_CHARS = set("0123456789:;.")


def _clean_timecode(value: object) -> str | None:
    text = str(value or "").strip()
    if len(text) == 11 and set(text) <= _TIMECODE_CHARS and text[2] == ":" and text[5] == ":":
        return text[:8] + (";" if text[8] in ";." else ":") + text[9:]
    return None


def _gop_timecode(frame: av.VideoFrame, fps: float) -> str | None:
    """MPEG-2 GOP header timecode (side data GOP_TIMECODE, a 25-bit SMPTE field in a 64-bit integer)."""
    for data in frame.side_data:
        if str(getattr(data, "type", "")).upper().endswith("GOP_TIMECODE"):
            # 25 bits (av_timecode_make_mpeg_tc_string): drop | HH(5) | MM(6) | marker | SS(6) | FF(6)
            raw = int.from_bytes(bytes(data)[:8], "little")
            hours, minutes, drop = (raw >> 19) & 0x1F, (raw >> 13) & 0x3F, (raw >> 24) & 1
            seconds, frames = (raw >> 6) & 0x3F, raw & 0x3F
            if hours < 24 and minutes < 60 and seconds < 60 and frames < max(fps, 1) + 1:
                sep = ";" if drop else ":"
                return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{frames:02d}"
    return None


def start_timecode(source: Source, first_frame: av.VideoFrame | None) -> str | None:
    """The embedded SMPTE start timecode "HH:MM:SS:FF" (";" before the frames when drop-frame), or None.

    Sources: the container's or any stream's ``timecode`` tag (QuickTime/MP4 ``tmcd`` track, MXF, Matroska),
    then the first frame's MPEG-2 GOP timecode (MPEG-TS/PS recordings).
    """
    for tags in (
        source.stream.metadata,
        source.container.metadata,
        *(s.metadata for s in source.container.streams),
    ):
        found = _clean_timecode(tags.get("timecode"))
        if found:
            return found
    if first_frame is not None:
        return _gop_timecode(first_frame, source.nominal_fps)
    return None


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
        if self.prev_s is not None and t_s > self.prev_s:
            self.interval = t_s - self.prev_s
        self.prev_s = t_s
        tol = 0.5 * self.interval
        if t_s < self.next_s - tol:
            return False
        # Next target strictly after this frame; targets are t0 + k * period so rounding never drifts.
        self.next_s = self.t0 + (math.floor((t_s + tol - self.t0) / self.period) + 1) * self.period
        return True


def estimate_capacity(source: Source, fps: float | None, start_s: float, end_s: float | None) -> int:
    """Frames to preallocate for: exact when the header is honest, doubled by FrameSink when it is not."""
    span_s = (end_s if end_s is not None else source.header_duration_s) - start_s
    if span_s <= 0:
        return 256  # unknown length: start small, the sink doubles as needed
    rate = source.nominal_fps if fps is None else min(fps, source.nominal_fps)
    return int(math.ceil(min(span_s, 4 * 3600) * rate)) + 2
