"""Segment exports: CSV, JSON and a CMX3600 edit decision list (EDL) a video editor can import.

Pure functions over anything with ``start_s``, ``end_s``, ``label`` and ``mean_score`` (``scoring.segments``
``Segment`` or the database rows), so views, the command line and tests share them.

EDL timecodes count frames at the video's real rate and label them with the nominal rate: 29.97 and 59.94 fps
use SMPTE drop-frame timecode (``HH:MM:SS;FF``, header ``FCM: DROP FRAME``); every other rate is non-drop
(``HH:MM:SS:FF``), and 23.976 fps is written as 24 fps non-drop, as editors expect, with a note in the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from scoring.segments import format_timecode

CSV_COLUMNS = ("start_s", "end_s", "start_tc", "end_tc", "duration_s", "label", "mean_score")
_DROP_FRAME_RATES = {30: 2, 60: 4}  # nominal rate -> frame numbers skipped each minute (except every tenth)


class SegmentLike(Protocol):
    start_s: float
    end_s: float
    label: str
    mean_score: float


@dataclass(frozen=True)
class ExportedSegment:
    """A segment as read back from an export."""

    start_s: float
    end_s: float
    label: str
    mean_score: float


def segment_row(segment: SegmentLike) -> dict:
    start_s, end_s = float(segment.start_s), float(segment.end_s)
    return {
        "start_s": start_s,
        "end_s": end_s,
        "start_tc": format_timecode(start_s),
        "end_tc": format_timecode(end_s),
        "duration_s": end_s - start_s,
        "label": str(segment.label),
        "mean_score": float(segment.mean_score),
    }


def segments_csv(segments: Iterable[SegmentLike]) -> str:
    """One row per segment; floats in ``repr`` form, so reading them back gives the same numbers."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for segment in segments:
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in segment_row(segment).items()})
    return buffer.getvalue()


def read_segments_csv(text: str) -> list[ExportedSegment]:
    return [
        ExportedSegment(float(r["start_s"]), float(r["end_s"]), r["label"], float(r["mean_score"]))
        for r in csv.DictReader(io.StringIO(text))
    ]


def segments_json(segments: Iterable[SegmentLike], **about) -> str:
    """``{"segments": [...], **about}``; ``about`` carries the video, fps, threshold and parameters."""
    return json.dumps({**about, "segments": [segment_row(s) for s in segments]}, indent=1)


# --- EDL ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimecodeRate:
    """How frames are counted (``fps``) and labelled (``nominal`` frames per timecode second)."""

    fps: float
    nominal: int
    drop_frame: bool

    @classmethod
    def for_fps(cls, fps: float) -> TimecodeRate:
        if not fps or fps <= 0:
            raise ValueError(f"an EDL needs a positive frame rate, got {fps!r}")
        nominal = max(1, round(fps))
        drop = nominal in _DROP_FRAME_RATES and abs(fps - nominal * 1000 / 1001) < 0.01
        return cls(float(fps), nominal, drop)

    def frames(self, seconds: float) -> int:
        return round(seconds * self.fps)

    def timecode(self, frame_number: int) -> str:
        """SMPTE timecode of a frame count from zero; drop-frame skips frame labels 0 and 1 (0-3 at 59.94)
        at the start of every minute except each tenth, so the label tracks wall-clock time."""
        frames = int(frame_number)
        if self.drop_frame:
            skip = _DROP_FRAME_RATES[self.nominal]
            per_minute = self.nominal * 60 - skip
            per_ten_minutes = self.nominal * 600 - 9 * skip
            tens, rest = divmod(frames, per_ten_minutes)
            frames += 9 * skip * tens + (skip * ((rest - skip) // per_minute) if rest > skip else 0)
        ff = frames % self.nominal
        seconds = frames // self.nominal
        separator = ";" if self.drop_frame else ":"
        return f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{separator}{ff:02d}"


def _edl_header(title: str, rate: TimecodeRate) -> list[str]:
    clean = "".join(ch for ch in title if ch.isprintable()).strip()[:70] or "Offside"
    lines = [f"TITLE: {clean}", f"FCM: {'DROP FRAME' if rate.drop_frame else 'NON-DROP FRAME'}", ""]
    if not rate.drop_frame and abs(rate.fps - rate.nominal) > 0.01:
        lines.insert(2, f"* NOTE: {rate.fps:.3f} fps counted as {rate.nominal} fps non-drop timecode")
    return lines


def segments_edl(
    segments: Sequence[SegmentLike],
    fps: float,
    title: str,
    keep: str = "in",
    clip_name: str = "",
    reel: str = "AX",
) -> str:
    """CMX3600 EDL of the segments labelled ``keep`` ("in": the video with its out-segments cut; "out": only
    them), laid end to end on the record side. Source times are the video's own; out points are exclusive."""
    rate = TimecodeRate.for_fps(fps)
    reel = "".join(ch for ch in reel.upper() if ch.isalnum())[:8] or "AX"
    lines = _edl_header(title, rate)
    record = 0
    event = 0
    for segment in segments:
        if segment.label != keep:
            continue
        src_in, src_out = rate.frames(segment.start_s), rate.frames(segment.end_s)
        if src_out <= src_in:
            continue
        event += 1
        rec_in, record = record, record + src_out - src_in
        tcs = " ".join(rate.timecode(f) for f in (src_in, src_out, rec_in, record))
        lines.append(f"{event:03d}  {reel:<8} AA/V  C        {tcs}")
        if clip_name:
            lines.append(f"* FROM CLIP NAME: {clip_name}")
        span = f"{format_timecode(float(segment.start_s))}-{format_timecode(float(segment.end_s))}"
        lines.append(f"* COMMENT: {segment.label} {span} mean score {float(segment.mean_score):.3f}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
