"""Segment exports: the CSV round-trips, the JSON carries timecodes, the EDL parses as CMX3600."""

import json
import re

import pytest

from scoring.segments import Segment
from webapp import exports

SEGMENTS = [
    Segment(0.0, 12.4, "in", 0.51),
    Segment(12.4, 75.2, "out", 1.734),
    Segment(75.2, 3700.0, "in", 0.6),
]

_EVENT = re.compile(
    r"^(?P<num>\d{3})  (?P<reel>.{8}) (?P<track>.{5}) (?P<trans>C)\s+"
    r"(?P<src_in>\d\d:\d\d:\d\d[:;]\d\d) (?P<src_out>\d\d:\d\d:\d\d[:;]\d\d) "
    r"(?P<rec_in>\d\d:\d\d:\d\d[:;]\d\d) (?P<rec_out>\d\d:\d\d:\d\d[:;]\d\d)$"
)


def parse_edl(text: str) -> dict:
    """A small CMX3600 reader: header fields, then events with their four timecodes."""
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


def tc_frames(tc: str, nominal: int) -> int:
    hh, mm, ss, ff = map(int, re.split("[:;]", tc))
    return ((hh * 60 + mm) * 60 + ss) * nominal + ff


def test_csv_round_trips_exactly():
    text = exports.segments_csv(SEGMENTS)
    assert text.splitlines()[0] == ",".join(exports.CSV_COLUMNS)
    assert "00:00:12.400" in text and "01:01:40.000" in text
    back = exports.read_segments_csv(text)
    assert [(s.start_s, s.end_s, s.label, s.mean_score) for s in back] == [
        (s.start_s, s.end_s, s.label, s.mean_score) for s in SEGMENTS
    ]


def test_json_holds_segments_with_timecodes_and_context():
    data = json.loads(exports.segments_json(SEGMENTS, video="match.mp4", fps=25.0))
    assert data["video"] == "match.mp4" and len(data["segments"]) == 3
    assert data["segments"][1]["start_tc"] == "00:00:12.400"
    assert data["segments"][1]["duration_s"] == pytest.approx(62.8)


def test_edl_at_25_fps_keeps_the_in_segments_end_to_end():
    edl = parse_edl(exports.segments_edl(SEGMENTS, 25.0, "Match day", clip_name="match.mp4"))
    assert edl["title"] == "Match day" and not edl["drop_frame"]
    first, second = edl["events"]
    assert (first["num"], first["reel"].strip(), first["track"].strip()) == ("001", "AX", "AA/V")
    assert (first["src_in"], first["src_out"]) == ("00:00:00:00", "00:00:12:10")
    assert (first["rec_in"], first["rec_out"]) == ("00:00:00:00", "00:00:12:10")
    assert (second["src_in"], second["src_out"]) == ("00:01:15:05", "01:01:40:00")
    assert second["rec_in"] == first["rec_out"]
    for event in edl["events"]:  # record duration equals source duration
        src = tc_frames(event["src_out"], 25) - tc_frames(event["src_in"], 25)
        assert src == tc_frames(event["rec_out"], 25) - tc_frames(event["rec_in"], 25)


def test_edl_of_only_the_out_segments():
    edl = parse_edl(exports.segments_edl(SEGMENTS, 25.0, "ads", keep="out"))
    assert [(e["src_in"], e["src_out"]) for e in edl["events"]] == [("00:00:12:10", "00:01:15:05")]


def test_edl_uses_drop_frame_timecode_at_29_97():
    rate = exports.TimecodeRate.for_fps(30000 / 1001)
    assert rate.drop_frame
    assert rate.timecode(1799) == "00:00:59;29"
    assert rate.timecode(1800) == "00:01:00;02"  # labels ;00 and ;01 are skipped
    assert rate.timecode(17982) == "00:10:00;00"  # ...except every tenth minute
    assert rate.timecode(107892) == "01:00:00;00"  # one hour of real time is one hour of timecode
    edl = parse_edl(exports.segments_edl(SEGMENTS, 29.97, "df"))
    assert edl["drop_frame"] and ";" in edl["events"][0]["src_out"]


def test_edl_notes_23_976_as_24_non_drop():
    text = exports.segments_edl(SEGMENTS, 24000 / 1001, "film")
    assert "FCM: NON-DROP FRAME" in text and "* NOTE: 23.976 fps counted as 24" in text
    parse_edl(text)


def test_edl_needs_a_frame_rate():
    with pytest.raises(ValueError, match="frame rate"):
        exports.segments_edl(SEGMENTS, 0, "x")
