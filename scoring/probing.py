"""Stream facts of a video file, from decoding it: what ``python -m scoring probe`` prints."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from scoring.decoding import (
    DEFAULT_LIMITS,
    DecodeLimits,
    NoFrameDecodedError,
    display_size,
    is_interlaced,
    open_video,
    rotation_of,
    sample_aspect_ratio,
    start_timecode,
)
from scoring.reading import TimedFrame, timed_frames

# Frame intervals spread wider than this (95th over 5th percentile) mean a variable frame rate.
VFR_SPREAD = 1.5
# A file "ends early" when what decodes falls short of the header's promise by more than both of these: an
# edit list, B-frame delay or a last frame's display time account for a few frames, a cut file for far more.
SHORTFALL_MIN_S = 0.5
SHORTFALL_MIN_FRACTION = 0.05


@dataclass
class VideoInfo:
    """Facts of the video stream. Counts and times come from decoding every frame, never from headers."""

    duration_s: float  # first displayed frame to the end of the last one (audio does not lengthen it)
    fps: float  # average over the decoded frames
    frame_count: int  # frames that decode
    width: int  # display size: stretched by the sample aspect ratio, rotated upright
    height: int
    codec: str  # FFmpeg's codec name: h264, hevc, av1, mpeg2video, vp9, ...
    rotation_deg: (
        int  # the display matrix's rotation as FFmpeg reports it (ffprobe's "rotation"): 0, 90, 180, 270
    )
    pix_fmt: str = ""  # e.g. yuv420p, yuv420p10le
    sar: str = "1:1"  # sample (pixel) aspect ratio, "16:15" for 4:3 PAL 720x576
    interlaced: bool = False  # fields flagged by the decoder or the stream: frames are deinterlaced (bwdif)
    variable_frame_rate: bool = False
    has_audio: bool = False
    discontinuities: int = 0  # timestamp restarts, jumps or wraps the timeline bridged
    start_timecode: str | None = None  # SMPTE "HH:MM:SS:FF" (";" before FF when drop-frame) or None
    header_duration_s: float = 0.0  # what the video stream's own header promises; 0 when it says nothing
    decode_errors: int = 0  # packets that failed to decode (and the container's end cut mid-packet)
    warning: str = ""  # "file ends early: header says 8.0 s, decoded 4.0 s", or "" for a sound file

    def as_json(self) -> dict:
        """The ``probe`` command's object (field names of DESIGN.md)."""
        data = asdict(self)
        data["rotation"] = data.pop("rotation_deg")
        data["duration_s"] = round(self.duration_s, 6)
        data["fps"] = round(self.fps, 6)
        return data


def _is_vfr(times_s: np.ndarray) -> bool:
    if len(times_s) < 8:
        return False
    dt = np.diff(times_s)
    dt = dt[dt > 0]
    low, high = np.percentile(dt, [5, 95])
    return bool(high > VFR_SPREAD * low)


def _frame_rate(stamps: np.ndarray, count: int, span_s: float, typical_interval_s: float) -> float:
    """Frames per second: the average over the decoded frames for variable frame rates, else the rate of
    the typical interval (a frame dropped by a cut or a damaged packet must not make 30 fps read 29.8)."""
    if count < 2 or span_s <= 0:
        return _exact_rate(1.0 / typical_interval_s)
    if _is_vfr(stamps):
        return round((count - 1) / span_s, 6)
    dt = np.diff(stamps)
    dt = dt[dt > 0]
    median = float(np.median(dt))
    typical = dt[np.abs(dt - median) <= 0.05 * median]
    if float(np.ptp(typical)) <= 1e-6 * median:  # one interval: the time base represents it exactly
        return _exact_rate(1.0 / median)
    # Intervals rounded to a coarse time base (WebM and Matroska count milliseconds: 29.97 fps is 33, 34 ms):
    # their mean is the rate, and the standard rate the file was made at is the one within that rounding.
    return _standard_rate(1.0 / float(typical.mean()), tolerance=1e-3)


# Frame rates of broadcast, film and web video (SMPTE ST 12-1 and the NTSC 1000/1001 family).
STANDARD_RATES = tuple(
    float(Fraction(n, d))
    for n, d in [(24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (48, 1), (50, 1), (60000, 1001),
                 (60, 1), (100, 1), (120000, 1001), (120, 1), (12, 1), (25, 2), (15, 1)]
)  # fmt: skip


def _standard_rate(fps: float, tolerance: float) -> float:
    """The standard rate within ``tolerance`` (relative) of ``fps``, else ``fps`` to the thousandth."""
    nearest = min(STANDARD_RATES, key=lambda rate: abs(rate - fps))
    return nearest if abs(nearest - fps) <= tolerance * fps else round(fps, 3)


def _exact_rate(fps: float) -> float:
    """The rate as the ratio of small integers it stands for (30000/1001, 25/1) when it is within a millionth
    of one: intervals are PTS x time base in floating point, so 1 / interval reads 30.000000000000107, which
    would reach the API, the exports and timecodes."""
    exact = Fraction(fps).limit_denominator(1001)
    return float(exact) if abs(float(exact) - fps) <= 1e-6 * fps else round(fps, 6)


def _header_facts(path: str, limits: DecodeLimits) -> dict:
    with open_video(path, limits) as source:
        ctx = source.stream.codec_context
        return {
            "codec": ctx.codec.canonical_name if ctx.codec is not None else source.codec_name,
            "pix_fmt": ctx.pix_fmt or "",
            "has_audio": len(source.container.streams.audio) > 0,
            "nominal_interval_s": source.frame_interval_s,
            "promised_s": _promised_duration_s(source),
        }


def _promised_duration_s(source) -> float:
    """Seconds of video the stream's own header promises (MP4/QuickTime sample tables, AVI index), or 0.

    Only the video stream's figures count: a container's duration includes a longer audio track, and formats
    whose timestamps may restart (MPEG-TS/PS) carry no trustworthy length at all.
    """
    stream = source.stream
    if source.ts_discont:
        return 0.0
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if stream.frames:
        return stream.frames * source.frame_interval_s
    return 0.0


def ends_early_warning(promised_s: float, decoded_s: float, decode_errors: int) -> str:
    """The warning of a file that decodes clearly shorter than its header says (a cut or interrupted copy
    whose index survived), or "" when the two agree (or the header says nothing)."""
    shortfall_s = promised_s - decoded_s
    if promised_s <= 0 or shortfall_s <= max(SHORTFALL_MIN_S, SHORTFALL_MIN_FRACTION * promised_s):
        return ""
    plural = "s" if decode_errors != 1 else ""
    errors = f"; {decode_errors} packet{plural} failed to decode" if decode_errors else ""
    return (
        f"file ends early: header says {promised_s:.1f} s, decoded {decoded_s:.1f} s{errors} "
        "(a cut or interrupted copy?); only the decoded part is used"
    )


def probe_video(
    path: str | os.PathLike,
    limits: DecodeLimits = DEFAULT_LIMITS,
    on_frame: Callable[[TimedFrame], None] | None = None,
) -> VideoInfo:
    """Decode every frame of ``path`` and describe its video stream.

    ``on_frame`` sees every decoded frame of this one pass (the worker's preview store samples it, so the
    file is not decoded a second time for it). Raises NoFrameDecodedError (a VideoDecodeError, with the
    codec) when nothing decodes, NoVideoStreamError for audio-only files, UnsupportedCodecError naming a
    codec this build cannot decode, VideoLimitError over ``limits``.
    """
    name = os.fspath(path)
    facts = _header_facts(name, limits)
    times: list[float] = []
    first = None
    interlaced = False
    errors = 0

    def count_error() -> None:
        nonlocal errors
        errors += 1

    for timed in timed_frames(name, 0.0, limits, on_error=count_error):
        if on_frame is not None:
            on_frame(timed)
        if first is None:
            first = timed
            interlaced = timed.deinterlaced or is_interlaced(timed.source, timed.frame)
            rotation = rotation_of(timed.frame)
            sar = sample_aspect_ratio(timed.source)
            stored_w, stored_h = timed.frame.width, timed.frame.height
            timecode = start_timecode(timed.source, timed.frame)
            pix_fmt = timed.frame.format.name
        times.append(timed.t_s)
        discontinuities = timed.discontinuities
    if first is None:
        raise NoFrameDecodedError(
            f"{name}: no frame could be decoded (video codec {facts['codec']!r})", codec=facts["codec"]
        )
    stamps = np.asarray(times)
    recent = np.diff(stamps[-32:])
    recent = recent[recent > 0]
    # The last frame shows for the typical recent interval (the last gap can be a frame a cut dropped).
    last_interval_s = float(np.median(recent)) if len(recent) else facts["nominal_interval_s"]
    width, height = display_size(stored_w, stored_h, sar, rotation)
    count = len(stamps)
    span_s = float(stamps[-1] - stamps[0])
    duration_s = round(span_s + last_interval_s, 6)  # microseconds: no 15.015000000000004 in the API
    return VideoInfo(
        duration_s=duration_s,
        fps=_frame_rate(stamps, count, span_s, last_interval_s),
        frame_count=count,
        width=width,
        height=height,
        codec=facts["codec"],
        rotation_deg=(360 - rotation) % 360,  # we turn clockwise by ``rotation`` to undo it
        pix_fmt=pix_fmt or facts["pix_fmt"],
        sar=f"{sar.numerator}:{sar.denominator}",
        interlaced=interlaced,
        variable_frame_rate=_is_vfr(stamps),
        has_audio=facts["has_audio"],
        discontinuities=discontinuities,
        start_timecode=timecode,
        header_duration_s=facts["promised_s"],
        decode_errors=errors,
        warning=ends_early_warning(facts["promised_s"], duration_s, errors),
    )
