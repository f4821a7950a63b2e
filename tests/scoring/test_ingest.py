"""Every row of shared/regressions/README.md, rebuilt small: the decoding layer gives the right values."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from scoring import decoding
from scoring.frames import (
    DecodeLimits,
    NoVideoStreamError,
    SamplingSpec,
    VideoDecodeError,
    VideoLimitError,
    extract_frames,
    frames_at,
    probe_video,
    read_frame_at,
    thumbnail_strip,
)
from tests import ingest_inputs as inputs
from tests.scoring.conftest import _made
from tests.synthetic import _ffmpeg


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("ingest")


@pytest.fixture(scope="module")
def index_mp4(folder):
    return _made(inputs.index_clip, folder / "index.mp4")


@pytest.fixture(scope="module")
def index_ts(folder, index_mp4):
    """r04: the index clip in MPEG-TS: 300-frame GOP with B-frames."""
    _made(_ffmpeg, "-i", str(index_mp4), "-c", "copy", "-f", "mpegts", str(folder / "index.ts"))
    return folder / "index.ts"


def mean_rgb(frames: np.ndarray) -> np.ndarray:
    return frames.reshape(len(frames), -1, 3).mean(axis=1)  # (N, 3)


def test_joined_ts_continues_the_timeline_over_each_restart(folder):
    path = _made(inputs.joined_ts, folder)
    info = probe_video(path)
    assert info.duration_s == pytest.approx(6.0, abs=0.1) and info.fps == pytest.approx(29.97, abs=0.05)
    assert info.frame_count == 180 and info.discontinuities == 2 and info.has_audio
    fs = extract_frames(path, SamplingSpec(5, 18, 32))
    assert fs.timestamps_s[-1] == pytest.approx(5.8, abs=0.1) and np.all(np.diff(fs.timestamps_s) > 0.15)
    red = mean_rgb(fs.frames)[:, 0] > 150
    assert np.array_equal(red, (fs.timestamps_s >= 2.0) & (fs.timestamps_s < 4.0))  # the "ad" in its place
    assert read_frame_at(path, 3.0)[..., 0].mean() > 150 and read_frame_at(path, 5.0)[..., 1].mean() > 80


def test_a_33_bit_pts_wrap_does_not_collapse_the_timeline(folder):
    path = _made(inputs.wrapped_ts, folder)
    info = probe_video(path)
    assert info.duration_s == pytest.approx(3.0, abs=0.1) and info.frame_count == 90
    times = extract_frames(path, SamplingSpec(None, 9, 16)).timestamps_s
    assert np.all(np.diff(times) > 0.02) and times[-1] == pytest.approx(2.97, abs=0.05)


@pytest.mark.parametrize("fixture", ["index_mp4", "index_ts"])
def test_single_reads_land_on_the_frame_on_screen(fixture, request):
    path = request.getfixturevalue(fixture)
    times = [0.0, 0.5, 3.3, 7.9, 10.0, 11.9, 5.0, 1.0]  # out of order on purpose: one pass, seeks only ahead
    numbers = [inputs.frame_number(f) for f in frames_at(path, times)]
    assert numbers == [inputs.expected_number(t) for t in times]
    for t in (2.5, 9.99):  # one seek each
        assert inputs.frame_number(read_frame_at(path, t)) == inputs.expected_number(t)


def test_a_time_past_the_end_is_an_error_or_the_last_frame(index_mp4):
    with pytest.raises(VideoDecodeError, match="past the end"):
        read_frame_at(index_mp4, 30.0)
    assert inputs.frame_number(read_frame_at(index_mp4, 30.0, past_end="last")) == 359
    strip = thumbnail_strip(index_mp4, count=4, height=18, duration_s=40.0)  # a too-long estimate
    assert strip.shape == (18, 4 * 32, 3)


def test_copy_cut_mp4_starts_at_the_frame_its_edit_list_shows(folder, index_mp4):
    path = folder / "copycut.mp4"
    _made(_ffmpeg, "-ss", "3.3", "-i", str(index_mp4), "-t", "3", "-c", "copy", str(path))
    info = probe_video(path)
    assert info.duration_s == pytest.approx(3.0, abs=0.15)
    first = inputs.frame_number(read_frame_at(path, 0.0))
    assert first in (98, 99)  # 7.3 s x 29.97 = 98.9: FFmpeg shows the first frame at or after the cut
    assert inputs.frame_number(read_frame_at(path, 2.0)) == first + inputs.expected_number(2.0)


def test_variable_frame_rate_frames_are_read_at_their_real_times(folder, index_mp4):
    path = folder / "vfr.mp4"
    _made(_ffmpeg, "-i", str(index_mp4), "-vf", "select='lt(n\\,150)+eq(mod(n\\,3)\\,0)'", "-fps_mode", "vfr",
          "-c:v", "libx264", "-preset", "ultrafast", str(path))  # fmt: skip
    info = probe_video(path)
    assert info.variable_frame_rate and info.duration_s == pytest.approx(12.0, abs=0.15)
    assert inputs.frame_number(read_frame_at(path, 8.0)) == 237  # last kept frame <= 239
    assert inputs.frame_number(read_frame_at(path, 2.0)) == inputs.expected_number(2.0)


def test_interlaced_576i_is_detected_deinterlaced_and_shown_at_display_size(folder):
    path = _made(inputs.interlaced_576i, folder)
    info = probe_video(path)
    assert info.interlaced and info.sar == "16:15" and (info.width, info.height) == (768, 576)
    assert info.codec == "mpeg2video" and info.duration_s == pytest.approx(4.0, abs=0.1)
    colours = mean_rgb(extract_frames(path, SamplingSpec(5, 27, 48)).frames)
    assert np.all(colours[:10, 1] > colours[:10, 0] + 60) and np.all(colours[10:, 0] > colours[10:, 1] + 60)
    assert read_frame_at(path, 1.0).shape == (576, 768, 3)


@pytest.mark.parametrize(
    ("rate", "fps", "container"),
    [("30", 30.0, "mp4"), ("30000/1001", 30000 / 1001, "mp4"), ("25", 25.0, "mp4"),
     ("30000/1001", 30000 / 1001, "webm"), ("24000/1001", 24000 / 1001, "webm"), ("25", 25.0, "webm")],
)  # fmt: skip
def test_a_constant_frame_rate_is_the_exact_ratio_it_stands_for(folder, rate, fps, container):
    """1 / (PTS x time base) in floating point reads 30.000000000000107; the probe gives 30.0. WebM counts
    milliseconds, so 29.97 fps comes as 33 and 34 ms intervals (the median alone read 30.303)."""
    path = folder / f"rate_{rate.replace('/', '_')}.{container}"
    codec = (
        ["-c:v", "libx264", "-preset", "ultrafast"]
        if container == "mp4"
        else ["-c:v", "libvpx", "-b:v", "200k"]
    )
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=64x48:r={rate}:d=3", *codec, str(path))
    assert probe_video(path).fps == fps


@pytest.mark.parametrize("scan", ["tff", "bff"])
def test_interlaced_frames_for_a_small_model_input_are_read_from_their_first_field(folder, scan, monkeypatch):
    """The model's input (a tenth of the frame's height) takes the first field's rows, which bwdif keeps
    unchanged, without running bwdif; a bigger output still goes through bwdif."""
    path = inputs.field_coloured_576i(folder, scan)  # first field green, second red
    built = []
    real = decoding.Deinterlacer
    monkeypatch.setattr(decoding, "Deinterlacer", lambda source: built.append(1) or real(source))
    small = mean_rgb(extract_frames(path, SamplingSpec(None, 54, 96)).frames)
    assert not built and len(small) == 50
    assert np.all(small[:, 1] > 100) and np.all(small[:, 0] < 30), "the second (red) field was read"
    large = extract_frames(path, SamplingSpec(5, 288, 512))
    assert built and len(large) == 10  # 576 rows < 4 x 288: deinterlaced


@pytest.mark.parametrize(
    ("name", "codec", "encoder"),
    [("av1.mp4", "av1", ("-c:v", "libsvtav1", "-preset", "12")),
     ("hevc10.mp4", "hevc", ("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
                             "-x265-params", "log-level=error")),
     ("vp9.webm", "vp9", ("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"))],
)  # fmt: skip
def test_newer_codecs_decode(folder, name, codec, encoder):
    path = folder / name
    _made(_ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s=320x180:r={inputs.FPS}:d=2", *encoder, str(path))
    info = probe_video(path)
    assert info.codec == codec and info.frame_count == 60
    assert extract_frames(path, SamplingSpec(None, 18, 32)).frames.shape == (60, 18, 32, 3)


@pytest.mark.parametrize(("name", "audio_codec"), [("cover.m4a", "aac"), ("cover.mp3", "libmp3lame")])
def test_audio_with_a_cover_picture_is_audio_only(folder, name, audio_codec):
    cover, path = folder / "cover.jpg", folder / name
    _made(_ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=200x200:d=1", "-frames:v", "1", str(cover))
    _made(_ffmpeg, "-f", "lavfi", "-i", "sine=d=2", "-i", str(cover), "-map", "0", "-map", "1",
          "-c:a", audio_codec, "-c:v", "copy", "-disposition:v:0", "attached_pic", str(path))  # fmt: skip
    with pytest.raises(NoVideoStreamError, match="audio only: no video stream"):
        probe_video(path)


def test_an_odd_frame_size_decodes(folder):
    path = folder / "odd.webm"
    _made(_ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=854x480:r=25:d=2", "-vf", "scale=853:479",
          "-c:v", "libvpx", "-deadline", "realtime", str(path))  # fmt: skip
    info = probe_video(path)
    assert info.height == 479 and info.width in (852, 853) and info.frame_count == 50  # pixels 852:853


def test_limits_refuse_from_the_header_before_decoding(index_mp4):
    with pytest.raises(VideoLimitError, match="320x180 .* over the limit of 10,000 pixels"):
        probe_video(index_mp4, limits=DecodeLimits(max_frame_pixels=100 * 100))
    with pytest.raises(VideoLimitError, match="OFFSIDE_MAX_DURATION_S"):
        extract_frames(index_mp4, SamplingSpec(1, 9, 16), limits=DecodeLimits(max_duration_s=5.0))


def test_audio_longer_than_the_video_does_not_lengthen_it(folder):
    path = folder / "long_audio.mp4"
    _made(_ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2", "-f", "lavfi", "-i", "sine=d=6",
          "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path))  # fmt: skip
    info = probe_video(path)
    assert info.has_audio and info.duration_s == pytest.approx(2.0, abs=0.05) and info.frame_count == 50
    assert info.warning == ""  # the audio's length is no promise about the video


def test_a_header_that_promises_more_frames_than_decode_is_not_believed(folder, index_mp4):
    whole = folder / "faststart.mp4"
    _made(_ffmpeg, "-i", str(index_mp4), "-c", "copy", "-movflags", "+faststart", str(whole))
    cut = folder / "cut_short.mp4"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])  # the index still lists all frames
    info = probe_video(cut)
    assert 0 < info.frame_count < 300 and info.duration_s == pytest.approx(info.frame_count / 29.97, abs=0.1)
    # Still usable, but the probe says the file ends early, with both lengths.
    assert info.header_duration_s == pytest.approx(12.0, abs=0.05)
    assert info.warning.startswith(f"file ends early: header says 12.0 s, decoded {info.duration_s:.1f} s")
    assert probe_video(whole).warning == "" and probe_video(whole).header_duration_s > 0


@pytest.mark.parametrize(
    ("args", "timecode"),
    [(("-c:v", "libx264", "-timecode", "01:00:00;02", "-f", "mov"), "01:00:00;02"),
     (("-c:v", "mpeg2video", "-timecode", "10:00:00:05", "-f", "mpegts"), "10:00:00:05")],
)  # fmt: skip
def test_the_embedded_start_timecode_is_read(folder, args, timecode):
    path = folder / f"tc{len(timecode)}{args[1]}"
    _made(_ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s=160x90:r={inputs.FPS}:d=1", *args, str(path))
    assert probe_video(path).start_timecode == timecode


def test_rotation_gives_the_display_size_and_upright_frames(folder):
    plain, rotated = folder / "portrait0.mp4", folder / "portrait.mp4"
    _made(_ffmpeg, "-f", "lavfi", "-i", "color=c=black:s=64x48:d=1,drawbox=x=0:y=0:w=16:h=8:c=white:t=fill",
          "-c:v", "libx264", "-pix_fmt", "yuv420p", str(plain))  # fmt: skip
    _made(_ffmpeg, "-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    info = probe_video(rotated)
    assert (info.width, info.height) == (48, 64) and info.rotation_deg in (90, 270)
    upright = _made(lambda: subprocess.run(["ffmpeg", "-v", "error", "-i", str(rotated), "-frames:v", "1",
                                            "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True,
                                           check=True).stdout)  # fmt: skip
    ffmpeg_view = np.frombuffer(upright, np.uint8).reshape(64, 48) > 128  # FFmpeg's own autorotation
    ours = read_frame_at(rotated, 0.0).mean(axis=2) > 128
    assert np.array_equal(np.argwhere(ours).mean(0).round(), np.argwhere(ffmpeg_view).mean(0).round())


def test_probe_and_frame_commands(folder, index_ts, tmp_path):
    run = [sys.executable, "-m", "scoring"]
    probed = subprocess.run([*run, "probe", str(index_ts)], capture_output=True, text=True, check=True)
    facts = json.loads(probed.stdout)
    assert facts["frame_count"] == 360 and facts["width"] == 320 and facts["start_timecode"] is None
    assert {"rotation", "sar", "pix_fmt", "interlaced", "variable_frame_rate", "has_audio"} <= facts.keys()
    png = tmp_path / "f.png"
    subprocess.run([*run, "frame", str(index_ts), "--t", "7.9", "--out", str(png)], check=True,
                   capture_output=True)  # fmt: skip
    import cv2

    assert inputs.frame_number(cv2.imread(str(png))[..., ::-1]) == inputs.expected_number(7.9)
    not_video = tmp_path / "notes.txt"
    not_video.write_text("hello")
    refused = subprocess.run([*run, "probe", str(not_video)], capture_output=True, text=True)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1


def test_render_cuts_on_the_timeline_pads_odd_sizes_and_keeps_audio(folder, tmp_path):
    from scoring.render import render_ranges

    joined = _made(inputs.joined_ts, folder)
    target = tmp_path / "ad_only.mp4"
    assert render_ranges(joined, target, [(2.0, 4.0)], fps=29.97) == 60  # the whole "ad", and only it
    info = probe_video(target)
    assert info.has_audio and info.duration_s == pytest.approx(2.0, abs=0.1)
    assert np.all(mean_rgb(extract_frames(target, SamplingSpec(2, 9, 16)).frames)[:, 0] > 150)  # red
    odd = folder / "odd_render.webm"
    _made(_ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=854x480:r=25:d=2", "-vf", "scale=853:479",
          "-c:v", "libvpx", "-deadline", "realtime", str(odd))  # fmt: skip
    render_ranges(odd, tmp_path / "odd.mp4", [(0.5, 1.5)], fps=25)
    out = probe_video(tmp_path / "odd.mp4")
    assert out.width % 2 == 0 and out.height % 2 == 0 and out.frame_count == 25 and not out.has_audio


def test_the_last_segment_ends_with_the_video(index_ts):
    from scoring.segments import decide_segments

    fs = extract_frames(index_ts, SamplingSpec(5, 9, 16))  # the 12.0 s sample is the frame at 11.98 s
    assert fs.end_s == pytest.approx(12.012, abs=0.01)
    _, segments = decide_segments(np.zeros(len(fs)), fs.timestamps_s, end_s=fs.end_s)
    assert segments[-1].end_s == pytest.approx(12.012, abs=0.01)
