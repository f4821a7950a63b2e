"""Markers for players and editors: each format is read back by the tool (or the rules of the tool) that
consumes it and lists the same segments to one frame."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass

import opentimelineio as otio
import pytest
import webvtt

from scoring import markers
from scoring.markers import MarkerSource, TimecodeRate, write_markers
from scoring.segments import Segment

NTSC = 30000 / 1001


def at_frames(fps: float, *spans: tuple[int, int, str]) -> list[Segment]:
    """Segments whose boundaries fall on frame times, as the scorer makes them."""
    return [Segment(a / fps, b / fps, label, 0.5 + k / 3) for k, (a, b, label) in enumerate(spans)]


SEGMENTS_25 = at_frames(25.0, (0, 310, "in"), (310, 1880, "out"), (1880, 2600, "in"), (2600, 2980, "out"))
SEGMENTS_NTSC = at_frames(NTSC, (0, 1799, "in"), (1799, 3600, "out"), (3600, 20000, "in"))
_EVENT = re.compile(
    r"^(?P<num>\d{3})  (?P<reel>.{8}) (?P<track>.{5}) (?P<trans>C)\s+"
    r"(?P<src_in>\d\d:\d\d:\d\d[:;]\d\d) (?P<src_out>\d\d:\d\d:\d\d[:;]\d\d) "
    r"(?P<rec_in>\d\d:\d\d:\d\d[:;]\d\d) (?P<rec_out>\d\d:\d\d:\d\d[:;]\d\d)$"
)


def parse_edl(text: str) -> dict:
    """A strict CMX3600 line reader: header fields, then events with their four timecodes."""
    lines = text.splitlines()
    assert lines[0].startswith("TITLE: ")
    assert lines[1] in ("FCM: NON-DROP FRAME", "FCM: DROP FRAME")
    events = []
    for line in lines[2:]:
        if not line or line.startswith("*"):
            continue
        match = _EVENT.match(line)
        assert match, f"not a CMX3600 event line: {line!r}"
        events.append(match.groupdict())
    return {"title": lines[0][7:], "drop_frame": lines[1] == "FCM: DROP FRAME", "events": events}


def frame_spans(segments, fps: float, label: str) -> list[tuple[int, int]]:
    return [(round(s.start_s * fps), round(s.end_s * fps)) for s in segments if s.label == label]


def assert_within_a_frame(spans_s: list[tuple[float, float]], segments, fps: float, label: str) -> None:
    expected = [(s.start_s, s.end_s) for s in segments if s.label == label]
    assert len(spans_s) == len(expected)
    for (start, end), (want_start, want_end) in zip(spans_s, expected, strict=True):
        assert abs(start - want_start) < 1 / fps and abs(end - want_end) < 1 / fps


# --- CMX 3600 -----------------------------------------------------------------------------------------------


def otio_edl_spans(text: str, fps: float, start_frame: int = 0) -> list[tuple[int, int]]:
    """Source frame spans of the EDL's events, read by OpenTimelineIO's cmx_3600 adapter."""
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=fps)
    (video,) = timeline.video_tracks()  # AA/V events also make audio tracks
    spans = []
    for clip in video.find_clips():
        first = round(clip.source_range.start_time.to_frames()) - start_frame
        spans.append((first, first + round(clip.source_range.duration.to_frames())))
    return spans


def test_cmx3600_reads_back_in_opentimelineio_offset_by_the_start_timecode():
    source = MarkerSource(25.0, "Match day", "match.mp4", start_timecode="10:00:00:00")
    text = write_markers("cmx3600", SEGMENTS_25, source)
    start = 10 * 3600 * 25
    assert otio_edl_spans(text, 25.0, start) == frame_spans(SEGMENTS_25, 25.0, "in")
    events = parse_edl(text)["events"]
    assert (events[0]["src_in"], events[0]["src_out"]) == ("10:00:00:00", "10:00:12:10")
    assert (events[0]["rec_in"], events[1]["rec_in"]) == ("00:00:00:00", "00:00:12:10")
    assert "* FROM CLIP NAME: match.mp4" in text


def test_cmx3600_of_the_out_segments_in_drop_frame_at_29_97():
    source = MarkerSource(NTSC, "ads", "broadcast.ts", start_timecode="01:00:00;00")
    text = write_markers("cmx3600", SEGMENTS_NTSC, source, keep="out")
    edl = parse_edl(text)
    assert edl["drop_frame"] and edl["title"] == "ads (out)"
    assert (edl["events"][0]["src_in"], edl["events"][0]["src_out"]) == ("01:00:59;29", "01:02:00;04")
    assert otio_edl_spans(text, NTSC, 107892) == frame_spans(SEGMENTS_NTSC, NTSC, "out")


def test_a_non_drop_start_timecode_keeps_29_97_non_drop():
    source = MarkerSource(NTSC, "ndf", start_timecode="00:00:10:00")
    edl = parse_edl(write_markers("cmx3600", SEGMENTS_NTSC, source))
    assert not edl["drop_frame"] and edl["events"][0]["src_in"] == "00:00:10:00"


def test_drop_frame_timecode_labels_and_their_inverse():
    rate = TimecodeRate.for_fps(NTSC)
    assert rate.drop_frame
    for frame, label in [(1799, "00:00:59;29"), (1800, "00:01:00;02"), (17982, "00:10:00;00"),
                         (107892, "01:00:00;00")]:  # fmt: skip
        assert rate.timecode(frame) == label
        assert rate.frame_number(label) == frame
    assert TimecodeRate.for_fps(25).frame_number("10:00:00:00") == 900_000


def test_23_976_is_noted_as_24_non_drop():
    text = write_markers("cmx3600", SEGMENTS_25, MarkerSource(24000 / 1001, "film"))
    assert "FCM: NON-DROP FRAME" in text and "* NOTE: 23.976 fps counted as 24" in text
    parse_edl(text)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (MarkerSource(0.0), "frame rate"),
        (MarkerSource(25.0, start_timecode="10:00:00:30"), "SMPTE timecode"),
        (MarkerSource(25.0, start_timecode="tomorrow"), "SMPTE timecode"),
    ],
)
def test_frame_based_formats_refuse_what_they_cannot_count(source, message):
    for name in ("cmx3600", "otio"):
        with pytest.raises(ValueError, match=message):
            write_markers(name, SEGMENTS_25, source)


def test_an_unknown_format_or_keep_names_the_known_ones():
    with pytest.raises(ValueError, match="kodi, ffmetadata, vtt, otio, cmx3600, csv, json"):
        write_markers("srt", SEGMENTS_25, MarkerSource(25.0))
    with pytest.raises(ValueError, match="keep"):
        write_markers("cmx3600", SEGMENTS_25, MarkerSource(25.0), keep="both")
    assert markers.marker_format("edl").name == "cmx3600"


# --- players ------------------------------------------------------------------------------------------------


def read_kodi_edl(text: str) -> list[tuple[float, float, int]]:
    """Kodi's rules (kodi.wiki "Edit decision list"): one "start end action" per line, times in seconds,
    action 0 cut, 1 mute, 2 scene marker, 3 commercial break."""
    rows = []
    for line in text.splitlines():
        start, end, action = line.split()
        rows.append((float(start), float(end), int(action)))
        assert float(start) < float(end) and int(action) in (0, 1, 2, 3)
    return rows


def test_kodi_edl_skips_every_out_segment_as_a_commercial_break():
    rows = read_kodi_edl(write_markers("kodi", SEGMENTS_25, MarkerSource(25.0)))
    assert {action for *_, action in rows} == {3}
    assert_within_a_frame([(a, b) for a, b, _ in rows], SEGMENTS_25, 25.0, "out")


def test_webvtt_has_one_cue_per_out_segment():
    segments = [*SEGMENTS_NTSC[:1], Segment(1799 / NTSC, 3600 / NTSC, "out", 1.7)]
    captions = webvtt.from_string(write_markers("vtt", segments, MarkerSource(NTSC))).captions
    spans = [(c.start_in_seconds + int(c.start[-3:]) / 1000, c.end_in_seconds + int(c.end[-3:]) / 1000)
             for c in captions]  # fmt: skip
    assert_within_a_frame(spans, segments, NTSC, "out")
    assert captions[0].text == "Out: unknown (mean score 1.70)"


def ffprobe_chapters(chapters: str, tmp_path) -> list[dict]:
    """Mux the chapters into a 12 s video as the issue tells users to, and ask ffprobe what it sees."""
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    (tmp_path / "chapters.ffmetadata").write_text(chapters)
    run = ["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=black:s=32x32:r=25:d=12",
           "-i", str(tmp_path / "chapters.ffmetadata"), "-map_metadata", "1", "-map_chapters", "1",
           "-c:v", "mpeg4", str(tmp_path / "marked.mkv")]  # fmt: skip
    subprocess.run(run, check=True, capture_output=True)
    probe = ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(tmp_path / "marked.mkv")]
    return json.loads(subprocess.run(probe, check=True, capture_output=True, text=True).stdout)["chapters"]


@dataclass(frozen=True)
class Labelled(Segment):
    """A segment with the dominant category the database rows carry."""

    category: str = ""


def test_ffmetadata_chapters_survive_ffmpeg_with_out_titles(tmp_path):
    segments = at_frames(25.0, (0, 60, "in"), (60, 188, "out"), (188, 300, "in"))
    rows = [
        Labelled(s.start_s, s.end_s, s.label, s.mean_score, c)
        for s, c in zip(segments, ["soccer", "adverts; = #1", "soccer"], strict=True)
    ]
    chapters = ffprobe_chapters(write_markers("ffmetadata", rows, MarkerSource(25.0, "Match")), tmp_path)
    assert [c["tags"]["title"] for c in chapters] == ["soccer", "Out: adverts; = #1", "soccer"]
    spans = [(float(c["start_time"]), float(c["end_time"])) for c in chapters]
    for (start, end), segment in zip(spans, segments, strict=True):
        assert abs(start - segment.start_s) < 1 / 25 and abs(end - segment.end_s) < 1 / 25


# --- timelines and tables -----------------------------------------------------------------------------------


def test_otio_timeline_lists_every_segment_on_the_files_clock_with_red_out_markers():
    source = MarkerSource(NTSC, "Broadcast", "broadcast.ts", start_timecode="01:00:00;00", duration_s=700.0)
    timeline = otio.adapters.read_from_string(write_markers("otio", SEGMENTS_NTSC, source), "otio_json")
    clips = list(timeline.find_clips())
    assert [c.metadata["offside"]["label"] for c in clips] == ["in", "out", "in"]
    ranges = [c.source_range for c in clips]
    spans = [
        (round(r.start_time.value) - 107892, round(r.end_time_exclusive().value) - 107892) for r in ranges
    ]
    assert spans == [(round(s.start_s * NTSC), round(s.end_s * NTSC)) for s in SEGMENTS_NTSC]
    assert clips[0].media_reference.target_url == "broadcast.ts"
    (marker,) = clips[1].markers
    assert marker.color == otio.schema.MarkerColor.RED and marker.name == "Out: unknown"
    assert otio.opentime.to_timecode(clips[1].source_range.start_time, NTSC) == "01:00:59;29"


def test_csv_and_json_round_times_to_milliseconds():
    segments = [Segment(0.0, 15.200000000000001, "in", 0.123456789), Segment(15.2, 20.0, "out", 1.5)]
    source = MarkerSource(25.0, "clip", about={"run": 7})
    text = write_markers("csv", segments, source)
    assert "15.200000000000001" not in text and "0.1235" in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(float(r["start_s"]), float(r["end_s"]), r["label"]) for r in rows] == [
        (0.0, 15.2, "in"),
        (15.2, 20.0, "out"),
    ]
    doc = write_markers("json", segments, source)
    assert "15.200000000000001" not in doc
    data = json.loads(doc)
    assert (
        data["run"] == 7
        and data["segments"][0]["end_s"] == 15.2
        and data["segments"][1]["start_tc"] == ("00:00:15.200")
    )


def test_file_names_put_kodi_markers_beside_the_video():
    source = MarkerSource(25.0, clip_name="Cup final.mkv")
    assert markers.FORMATS["kodi"].filename(source) == "Cup final.edl"
    assert markers.FORMATS["cmx3600"].filename(source, "out") == "Cup final-out.edl"
    assert markers.FORMATS["vtt"].filename(MarkerSource(25.0)) == "segments.vtt"
