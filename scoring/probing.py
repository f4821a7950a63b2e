"""Stream facts of a video file, from decoding it: what ``python -m scoring probe`` prints."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from scoring.decoding import (
    DEFAULT_LIMITS,
    DecodeLimits,
    VideoDecodeError,
    display_size,
    is_interlaced,
    open_video,
    rotation_of,
    sample_aspect_ratio,
    start_timecode,
)
from scoring.reading import timed_frames

# Frame intervals spread wider than this (95th over 5th percentile) mean a variable frame rate.
VFR_SPREAD = 1.5


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


def _header_facts(path: str, limits: DecodeLimits) -> dict:
    with open_video(path, limits) as source:
        ctx = source.stream.codec_context
        return {
            "codec": ctx.codec.canonical_name if ctx.codec is not None else source.codec_name,
            "pix_fmt": ctx.pix_fmt or "",
            "has_audio": len(source.container.streams.audio) > 0,
            "nominal_interval_s": source.frame_interval_s,
        }


def probe_video(path: str | os.PathLike, limits: DecodeLimits = DEFAULT_LIMITS) -> VideoInfo:
    """Decode every frame of ``path`` and describe its video stream.

    Raises VideoDecodeError when nothing decodes, NoVideoStreamError for audio-only files,
    UnsupportedCodecError naming a codec this build cannot decode, VideoLimitError over ``limits``.
    """
    name = os.fspath(path)
    facts = _header_facts(name, limits)
    times: list[float] = []
    first = None
    interlaced = False
    for timed in timed_frames(name, 0.0, limits):
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
        raise VideoDecodeError(f"{name}: no frame could be decoded (video codec {facts['codec']!r})")
    stamps = np.asarray(times)
    recent = np.diff(stamps[-32:])
    recent = recent[recent > 0]
    # The last frame shows for the typical recent interval (the last gap can be a frame a cut dropped).
    last_interval_s = float(np.median(recent)) if len(recent) else facts["nominal_interval_s"]
    width, height = display_size(stored_w, stored_h, sar, rotation)
    count = len(stamps)
    span_s = float(stamps[-1] - stamps[0])
    return VideoInfo(
        duration_s=span_s + last_interval_s,
        fps=(count - 1) / span_s if count > 1 and span_s > 0 else 1.0 / last_interval_s,
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
    )
