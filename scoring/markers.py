"""Markers for players and editors: a run's segments written in the formats the tools people use read.

Pure functions over anything with ``start_s``, ``end_s``, ``label`` ("in" | "out"), ``mean_score`` and,
optionally, ``category`` (``scoring.segments.Segment``, the database rows, reviewed segments), so the web
report, the JSON API and ``python -m scoring score --export FORMAT:PATH`` write the same bytes.

- ``cmx3600``: editors (Premiere, Resolve, Avid; OpenTimelineIO's ``cmx_3600`` adapter); the kept segments
  end to end, source timecodes offset by the file's start timecode.
- ``kodi``: Kodi, MPlayer and Plex front ends; out segments as action 3 (a commercial break, skipped).
- ``ffmetadata``: ``ffmpeg -i in -i chapters -map_metadata 1``; every segment a chapter, out ones titled
  "Out: <label>".
- ``vtt``: browsers and players (WebVTT); one cue per out segment.
- ``otio``: OpenTimelineIO (and editors through its adapters); every segment a clip, out clips with a red
  marker.
- ``csv``, ``json``: scripts; every segment, times rounded to milliseconds.

CMX 3600 timecodes count frames at the video's real rate and label them with the nominal rate: 29.97 and
59.94 fps use SMPTE drop-frame timecode (``HH:MM:SS;FF``, header ``FCM: DROP FRAME``) unless the file's own
start timecode says otherwise; every other rate is non-drop, and 23.976 fps is written as 24 fps non-drop, as
editors expect, with a note in the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Protocol

from scoring.segments import format_timecode

CSV_COLUMNS = ("start_s", "end_s", "start_tc", "end_tc", "duration_s", "label", "category", "mean_score")
_DROP_FRAME_RATES = {30: 2, 60: 4}  # nominal rate -> frame labels skipped each minute (except every tenth)
_FFMETADATA_SPECIAL = "\\=;#\n"  # characters ffmpeg's metadata reader wants escaped with a backslash


class SegmentLike(Protocol):
    start_s: float
    end_s: float
    label: str
    mean_score: float


@dataclass(frozen=True)
class MarkerSource:
    """What a marker file says about the video beside its segments.

    ``fps`` is the video's real frame rate (frames per second, > 0); ``start_timecode`` the container's SMPTE
    start timecode ("HH:MM:SS:FF", ";" before the frames when drop-frame) or None/"" when it has none;
    ``clip_name`` the video's file name, which editors use to relink the media.
    """

    fps: float
    title: str = "Offside"
    clip_name: str = ""
    start_timecode: str | None = None
    duration_s: float | None = None
    about: Mapping[str, Any] = field(default_factory=dict)  # more facts for the JSON export (run, params)

    @property
    def stem(self) -> str:
        return PurePath(self.clip_name).stem or "segments"


def segment_title(segment: SegmentLike) -> str:
    """ "Out: <label>" for an out segment (its dominant frame label, "unknown" when it matched no category),
    the category (or "In") for an in segment."""
    category = str(getattr(segment, "category", "") or "")
    if segment.label == "out":
        return f"Out: {category or 'unknown'}"
    return category or "In"


def _ms(seconds: float) -> float:
    return round(float(seconds), 3)


# --- timecode -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimecodeRate:
    """How frames are counted (``fps``) and labelled (``nominal`` frames per timecode second)."""

    fps: float
    nominal: int
    drop_frame: bool

    @classmethod
    def for_fps(cls, fps: float, drop_frame: bool | None = None) -> TimecodeRate:
        """``drop_frame`` None: drop-frame exactly at 29.97 and 59.94 fps."""
        if not fps or fps <= 0:
            raise ValueError(f"an EDL needs a positive frame rate, got {fps!r}")
        nominal = max(1, round(fps))
        if drop_frame is None:
            drop_frame = abs(fps - nominal * 1000 / 1001) < 0.01
        return cls(float(fps), nominal, bool(drop_frame) and nominal in _DROP_FRAME_RATES)

    @classmethod
    def for_source(cls, source: MarkerSource) -> TimecodeRate:
        """The file's own start timecode decides drop-frame when it has one."""
        drop = ";" in source.start_timecode if source.start_timecode else None
        return cls.for_fps(source.fps, drop)

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

    def frame_number(self, timecode: str) -> int:
        """The frame count from zero that ``timecode`` labels (the inverse of ``timecode``).

        Raises ValueError for anything but "HH:MM:SS:FF" / "HH:MM:SS;FF" with frames below the nominal
        rate."""
        parts = timecode.replace(";", ":").replace(".", ":").split(":")
        try:
            hh, mm, ss, ff = (int(p) for p in parts)
        except ValueError as exc:
            raise ValueError(f"not an SMPTE timecode: {timecode!r}") from exc
        if not (0 <= mm < 60 and 0 <= ss < 60 and 0 <= ff < self.nominal and hh >= 0):
            raise ValueError(f"not an SMPTE timecode at {self.nominal} fps: {timecode!r}")
        minutes = hh * 60 + mm
        frames = (minutes * 60 + ss) * self.nominal + ff
        if self.drop_frame:
            frames -= _DROP_FRAME_RATES[self.nominal] * (minutes - minutes // 10)
        return frames


def start_frame(source: MarkerSource, rate: TimecodeRate) -> int:
    """Frame count of the file's first frame on the timecode clock (0 without a start timecode)."""
    return rate.frame_number(source.start_timecode) if source.start_timecode else 0


# --- writers ------------------------------------------------------------------------------------------------


def segment_row(segment: SegmentLike) -> dict:
    """One segment for people and scripts: times in seconds rounded to milliseconds, timecodes, scores."""
    start_s, end_s = _ms(segment.start_s), _ms(segment.end_s)
    return {
        "start_s": start_s,
        "end_s": end_s,
        "start_tc": format_timecode(start_s),
        "end_tc": format_timecode(end_s),
        "duration_s": _ms(end_s - start_s),
        "label": str(segment.label),
        "category": str(getattr(segment, "category", "") or ""),
        "mean_score": round(float(segment.mean_score), 4),
    }


def write_csv(segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(segment_row(s) for s in segments)
    return buffer.getvalue()


def write_json(segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    """``{"video", "file", "fps", "start_timecode", **source.about, "segments": [...]}``."""
    head = {"video": source.title, "file": source.clip_name, "fps": source.fps,
            "start_timecode": source.start_timecode or None}  # fmt: skip
    return json.dumps({**head, **source.about, "segments": [segment_row(s) for s in segments]}, indent=1)


def write_kodi(segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    """Kodi/MPlayer EDL: "start end action" in seconds per out segment; action 3 marks a commercial break,
    which the player skips once (and can be seeked back into)."""
    lines = [f"{_ms(s.start_s):.3f}\t{_ms(s.end_s):.3f}\t3" for s in segments if s.label == "out"]
    return "".join(f"{line}\n" for line in lines)


def _ffmetadata_escape(text: str) -> str:
    return "".join(f"\\{ch}" if ch in _FFMETADATA_SPECIAL else ch for ch in text)


def write_ffmetadata(segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    """FFmetadata chapters (millisecond time base), one per segment."""
    lines = [";FFMETADATA1", f"title={_ffmetadata_escape(source.title)}"]
    for segment in segments:
        start_ms, end_ms = round(float(segment.start_s) * 1000), round(float(segment.end_s) * 1000)
        if end_ms <= start_ms:
            continue
        title = _ffmetadata_escape(segment_title(segment))
        lines += ["", "[CHAPTER]", "TIMEBASE=1/1000", f"START={start_ms}", f"END={end_ms}", f"title={title}"]
    return "\n".join(lines) + "\n"


def write_vtt(segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    """WebVTT, one cue per out segment ("Out: <label>" and its mean score)."""
    lines = ["WEBVTT", ""]
    outs = [s for s in segments if s.label == "out" and s.end_s > s.start_s]
    for number, segment in enumerate(outs, start=1):
        span = f"{format_timecode(_ms(segment.start_s))} --> {format_timecode(_ms(segment.end_s))}"
        text = segment_title(segment).replace("-->", "->")
        lines += [f"out-{number}", span, f"{text} (mean score {float(segment.mean_score):.2f})", ""]
    return "\n".join(lines)


def _edl_header(title: str, rate: TimecodeRate) -> list[str]:
    clean = "".join(ch for ch in title if ch.isprintable()).strip()[:70] or "Offside"
    lines = [f"TITLE: {clean}", f"FCM: {'DROP FRAME' if rate.drop_frame else 'NON-DROP FRAME'}", ""]
    if not rate.drop_frame and abs(rate.fps - rate.nominal) > 0.01:
        lines.insert(2, f"* NOTE: {rate.fps:.3f} fps counted as {rate.nominal} fps non-drop timecode")
    return lines


def write_cmx3600(segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    """CMX 3600 EDL of the segments labelled ``keep`` ("in": the video with its out segments cut; "out": only
    them), laid end to end on the record side from 00:00:00:00. Source timecodes are the file's own: its
    start timecode plus the frame count; out points are exclusive."""
    rate = TimecodeRate.for_source(source)
    offset = start_frame(source, rate)
    lines = _edl_header(f"{source.title} ({keep})", rate)
    record = event = 0
    for segment in segments:
        src_in, src_out = rate.frames(segment.start_s), rate.frames(segment.end_s)
        if segment.label != keep or src_out <= src_in:
            continue
        event += 1
        rec_in, record = record, record + src_out - src_in
        tcs = " ".join(rate.timecode(f) for f in (offset + src_in, offset + src_out, rec_in, record))
        lines.append(f"{event:03d}  AX       AA/V  C        {tcs}")
        if source.clip_name:
            lines.append(f"* FROM CLIP NAME: {source.clip_name}")
        span = f"{format_timecode(_ms(segment.start_s))}-{format_timecode(_ms(segment.end_s))}"
        lines.append(f"* COMMENT: {segment_title(segment)} {span} mean score {float(segment.mean_score):.3f}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_otio(segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    """An OpenTimelineIO timeline: one video track with every segment as a clip of the file (source ranges on
    the file's timecode clock), segment facts in ``metadata["offside"]``, a red marker on each out clip."""
    import opentimelineio as otio

    rate = TimecodeRate.for_source(source)
    offset = start_frame(source, rate)
    at = otio.opentime.RationalTime
    span = otio.opentime.TimeRange
    timeline = otio.schema.Timeline(name=source.title, global_start_time=at(0, rate.fps))
    track = otio.schema.Track(name="Offside", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    available = None
    if source.duration_s:
        available = span(at(offset, rate.fps), at(rate.frames(source.duration_s), rate.fps))
    for segment in segments:
        first, end = rate.frames(segment.start_s), rate.frames(segment.end_s)
        if end <= first:
            continue
        reference = otio.schema.ExternalReference(target_url=source.clip_name, available_range=available)
        source_range = span(at(offset + first, rate.fps), at(end - first, rate.fps))
        clip = otio.schema.Clip(
            name=segment_title(segment), media_reference=reference, source_range=source_range
        )
        clip.metadata["offside"] = segment_row(segment)
        if segment.label == "out":
            marker = otio.schema.Marker(name=segment_title(segment), marked_range=source_range)
            marker.color = otio.schema.MarkerColor.RED
            clip.markers.append(marker)
        track.append(clip)
    return otio.adapters.write_to_string(timeline, "otio_json")


@dataclass(frozen=True)
class MarkerFormat:
    """One way to write segments: ``write(segments, source, keep) -> text``."""

    name: str
    title: str  # for people, on the report
    extension: str
    media_type: str
    write: Callable[..., str]

    def filename(self, source: MarkerSource, keep: str = "in") -> str:
        """Beside the video, Kodi and MPlayer find ``<video stem>.edl`` by themselves."""
        suffix = f"-{keep}" if self.name == "cmx3600" else ""
        return f"{source.stem}{suffix}.{self.extension}"


FORMATS: dict[str, MarkerFormat] = {
    f.name: f
    for f in (
        MarkerFormat("kodi", "Kodi / MPlayer EDL (skips the breaks)", "edl", "text/plain", write_kodi),
        MarkerFormat("ffmetadata", "Chapters (FFmetadata)", "ffmetadata", "text/plain", write_ffmetadata),
        MarkerFormat("vtt", "WebVTT", "vtt", "text/vtt", write_vtt),
        MarkerFormat("otio", "OpenTimelineIO", "otio", "application/json", write_otio),
        MarkerFormat("cmx3600", "CMX 3600 EDL", "edl", "text/plain", write_cmx3600),
        MarkerFormat("csv", "CSV", "csv", "text/csv", write_csv),
        MarkerFormat("json", "JSON", "json", "application/json", write_json),
    )
}
ALIASES = {"edl": "cmx3600"}  # the name of the first EDL export, kept so old links work


def marker_format(name: str) -> MarkerFormat:
    """The format called ``name`` (or one of its aliases); ValueError naming the known ones otherwise."""
    try:
        return FORMATS[ALIASES.get(name, name)]
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; use one of {', '.join(FORMATS)}") from None


def write_markers(name: str, segments: Sequence[SegmentLike], source: MarkerSource, keep: str = "in") -> str:
    """The text of format ``name`` for ``segments`` (in time order); ``keep`` ("in" | "out") only matters to
    ``cmx3600``. Raises ValueError for an unknown format, a bad ``keep``, a non-positive frame rate (the
    frame-based formats) or a malformed start timecode."""
    if keep not in ("in", "out"):
        raise ValueError(f"keep must be 'in' or 'out', got {keep!r}")
    return marker_format(name).write(list(segments), source, keep)
