import threading

import cv2
import numpy as np
import pytest

from scoring import frames as frames_module
from scoring.frames import (
    ExtractionStopped,
    FrameSet,
    FrameStream,
    SamplingSpec,
    VideoDecodeError,
    extract_frames,
    load_frameset,
    probe_video,
    read_frame_at,
    save_frameset,
    thumbnail_strip,
)
from scoring.shotcuts import detect_shot_cuts, shot_cut_scores
from tests import synthetic

SMALL = SamplingSpec(fps=None, height=30, width=48)


def test_sampling_spec_slug_is_a_file_name():
    assert SamplingSpec(5, 60, 96).slug == "fps5_h60_w96"
    assert SamplingSpec(2.5, 60, 96).slug == "fps2p5_h60_w96"
    assert SamplingSpec(None, 54, 96).slug == "all_h54_w96"


def test_sampling_spec_rejects_nonsense():
    with pytest.raises(ValueError):
        SamplingSpec(0, 60, 96)
    with pytest.raises(ValueError):
        SamplingSpec(5, 0, 96)


def test_sampling_at_fps_gives_uniform_timestamps(field_studio_clip):
    path, _ = field_studio_clip
    fs = extract_frames(path, SamplingSpec(fps=5, height=60, width=96))
    assert fs.frames.shape == (15, 60, 96, 3) and fs.frames.dtype == np.uint8
    np.testing.assert_allclose(fs.timestamps_s, np.arange(15) * 0.2, atol=1e-6)
    assert fs.corrupt_frames == 0 and len(fs) == 15


def test_every_frame_sampling_keeps_all_frames(field_studio_clip):
    path, _ = field_studio_clip
    fs = extract_frames(path, SMALL)
    assert len(fs) == 30
    np.testing.assert_allclose(np.diff(fs.timestamps_s), 0.1, atol=1e-6)


def test_frames_are_rgb_and_show_the_scenes(field_studio_clip):
    path, truth = field_studio_clip
    fs = extract_frames(path, SamplingSpec(fps=2, height=30, width=48))
    field = fs.frames[fs.timestamps_s < truth[0].end_s].reshape(-1, 3).mean(axis=0)
    studio = fs.frames[fs.timestamps_s >= truth[1].start_s].reshape(-1, 3).mean(axis=0)
    assert field[1] > field[0] and field[1] > field[2]  # green pitch, in RGB order
    assert studio[2] > field[2]  # the studio is bluer


def test_fps_above_the_source_rate_keeps_every_frame_once(field_studio_clip):
    path, _ = field_studio_clip
    fs = extract_frames(path, SamplingSpec(fps=50, height=30, width=48))
    assert len(fs) == 30


def test_time_range_returns_only_frames_inside_it(field_studio_clip):
    path, _ = field_studio_clip
    fs = extract_frames(path, SMALL, start_s=1.0, end_s=2.5)
    np.testing.assert_allclose(fs.timestamps_s, 1.0 + 0.1 * np.arange(15), atol=1e-6)


def test_range_past_the_end_is_an_error(field_studio_clip):
    path, _ = field_studio_clip
    with pytest.raises(VideoDecodeError, match="two_scenes.mp4"):
        extract_frames(path, SMALL, start_s=10.0)


def test_progress_reaches_one_and_never_goes_back(field_studio_clip):
    path, _ = field_studio_clip
    seen = []
    extract_frames(path, SMALL, on_progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 3


def test_an_exception_from_progress_cancels_extraction(field_studio_clip):
    path, _ = field_studio_clip

    def cancel(fraction):
        if fraction > 0.3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_frames(path, SMALL, on_progress=cancel)


def test_a_frame_stream_hands_over_every_frame_in_order(field_studio_clip, monkeypatch):
    path, _ = field_studio_clip
    monkeypatch.setattr(frames_module, "STREAM_CHUNK", 7)
    whole = extract_frames(path, SMALL)
    with FrameStream(path, SMALL) as stream:
        chunks = list(stream)
        result = stream.result()
    assert [len(f) for f, _ in chunks] == [7, 7, 7, 7, 2]
    np.testing.assert_array_equal(np.concatenate([f for f, _ in chunks]), whole.frames)
    np.testing.assert_array_equal(np.concatenate([t for _, t in chunks]), whole.timestamps_s)
    np.testing.assert_array_equal(result.frames, whole.frames)
    assert result.end_s == whole.end_s and result.corrupt_frames == whole.corrupt_frames


def test_a_frame_stream_raises_the_decoding_error_where_it_is_read(tmp_path):
    path = tmp_path / "list.mp4"
    synthetic.write_not_a_video(path)
    with FrameStream(path, SMALL) as stream:
        with pytest.raises(VideoDecodeError, match="list.mp4"):
            list(stream)
        with pytest.raises(VideoDecodeError, match="list.mp4"):
            stream.result()


def test_closing_a_frame_stream_stops_its_extraction(field_studio_clip, monkeypatch):
    path, _ = field_studio_clip
    monkeypatch.setattr(frames_module, "STREAM_CHUNK", 2)
    with FrameStream(path, SMALL, max_pending=1) as stream:
        first, times = next(iter(stream))
    assert len(first) == 2 and list(times) == pytest.approx([0.0, 0.1])
    assert not stream._thread.is_alive()  # close() waited for it: the decoder gave up, nothing left running


def test_a_frame_stream_closed_early_ends_and_says_so(field_studio_clip, monkeypatch):
    path, _ = field_studio_clip
    monkeypatch.setattr(frames_module, "STREAM_CHUNK", 2)
    stream = FrameStream(path, SMALL, max_pending=1)  # its extraction cannot finish: nobody reads
    stream.close()
    with pytest.raises(ExtractionStopped):
        stream.result()
    with pytest.raises(ExtractionStopped):  # ended: reading again does not wait for frames that never come
        list(stream)


def test_a_stop_event_ends_extraction_between_kept_frames(field_studio_clip):
    path, _ = field_studio_clip
    stop = threading.Event()
    kept = []

    def on_progress(fraction):
        kept.append(fraction)
        stop.set()  # after the first kept frame; at 0.5 fps the next one is 20 decoded frames later

    with pytest.raises(ExtractionStopped):
        extract_frames(path, SamplingSpec(fps=0.5, height=30, width=48), on_progress=on_progress, stop=stop)
    assert len(kept) == 1


def test_it_skips_and_counts_a_corrupt_frame(corrupt_video):
    path, written = corrupt_video
    fs = extract_frames(path, SMALL)
    assert len(fs) == written - 1
    assert fs.corrupt_frames == 1
    assert np.all(np.diff(fs.timestamps_s) > 0)


def test_it_rejects_truncated_video(tmp_path, made):
    path = tmp_path / "cut.mp4"
    made(synthetic.write_truncated_video, path)
    with pytest.raises(VideoDecodeError, match="cut.mp4"):
        extract_frames(path, SMALL)


def test_it_rejects_a_file_that_is_not_a_video(tmp_path):
    path = tmp_path / "list.mp4"
    synthetic.write_not_a_video(path)
    with pytest.raises(VideoDecodeError, match="list.mp4"):
        extract_frames(path, SMALL)
    with pytest.raises(VideoDecodeError, match="list.mp4"):
        probe_video(path)


def test_it_rejects_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(VideoDecodeError, match="empty"):
        extract_frames(empty, SMALL)
    with pytest.raises(VideoDecodeError, match="no such file"):
        extract_frames(tmp_path / "nowhere.mp4", SMALL)


def test_decode_errors_are_value_errors_with_one_line():
    err = VideoDecodeError("x.mp4: not a video")
    assert isinstance(err, ValueError) and "\n" not in str(err)


def test_it_reads_animated_gif(gif_video):
    path, truth = gif_video
    fs = extract_frames(path, SMALL)
    assert len(fs) == 20
    np.testing.assert_allclose(fs.timestamps_s, 0.1 * np.arange(20), atol=1e-6)


@pytest.mark.parametrize(
    ("name", "codec"), [("clip.avi", "MJPG"), ("clip.mkv", "XVID"), ("clip.webm", "VP80")]
)
def test_it_reads_common_containers(make_video, name, codec):
    path = make_video(name, [("studio", 1.0)], fps=10, codec=codec)
    fs = extract_frames(path, SamplingSpec(fps=5, height=30, width=48))
    np.testing.assert_allclose(fs.timestamps_s, [0, 0.2, 0.4, 0.6, 0.8], atol=1e-6)


def test_portrait_video_is_resized_to_the_model_size(make_video):
    path = make_video("portrait.mp4", [("field", 0.5)], size=synthetic.PORTRAIT_SIZE)
    info = probe_video(path)
    assert (info.width, info.height) == (48, 96)
    assert extract_frames(path, SMALL).frames.shape == (5, 30, 48, 3)


def test_rotation_metadata_is_applied(tmp_path, made):
    path = tmp_path / "phone.mp4"
    made(synthetic.write_rotated_video, path, rotation_deg=90)  # stored 96x64 landscape, displayed portrait
    info = probe_video(path)
    assert (info.width, info.height) == (64, 96) and info.rotation_deg in (90, 270)
    full = read_frame_at(path, 0.0)
    assert full.shape == (96, 64, 3)
    white = np.argwhere(full[..., 0] > 128)
    assert white[:, 1].max() < 32  # the stored top-left patch now lies along a long side, not the top


def test_variable_frame_rate_follows_timestamps(tmp_path, made):
    path = tmp_path / "vfr.mkv"
    true_times = made(synthetic.write_vfr_video, path)
    every = extract_frames(path, SMALL)
    np.testing.assert_allclose(every.timestamps_s, true_times, atol=1e-3)
    assert every.corrupt_frames == 0  # a change of frame rate is not a dropped frame
    sampled = extract_frames(path, SamplingSpec(fps=5, height=30, width=48))
    np.testing.assert_allclose(sampled.timestamps_s, 0.2 * np.arange(20), atol=1e-3)


def test_probe_counts_the_frames_that_decode(field_studio_clip, corrupt_video):
    info = probe_video(field_studio_clip[0])
    assert info.frame_count == 30 and info.fps == pytest.approx(10) and info.duration_s == pytest.approx(3.0)
    assert (info.width, info.height, info.rotation_deg) == (96, 64, 0)
    assert info.codec.strip()
    assert probe_video(corrupt_video[0]).frame_count == corrupt_video[1] - 1


def test_read_frame_at_returns_the_frame_shown_then(field_studio_clip):
    path, truth = field_studio_clip
    studio = read_frame_at(path, 2.5)
    field = read_frame_at(path, 0.5, max_width=48)
    assert studio.shape == (64, 96, 3) and field.shape == (32, 48, 3)
    assert field[..., 1].mean() > field[..., 2].mean() and studio[..., 2].mean() > studio[..., 1].mean()
    assert read_frame_at(path, 99.0, past_end="last").shape == (64, 96, 3)  # strips: the last frame
    with pytest.raises(VideoDecodeError, match="past the end"):  # a specific time: a clear error
        read_frame_at(path, 99.0)


def test_thumbnail_strip_puts_frames_side_by_side(field_studio_clip):
    strip = thumbnail_strip(field_studio_clip[0], count=3, height=16)
    assert strip.shape == (16, 72, 3) and strip.dtype == np.uint8


def test_frameset_round_trips_through_a_memory_mapped_file(tmp_path, field_studio_clip):
    fs = extract_frames(field_studio_clip[0], SMALL)
    target = tmp_path / "frames" / f"{SMALL.slug}.npy"
    save_frameset(fs, target)
    loaded = load_frameset(target)
    assert isinstance(loaded.frames, np.memmap) and not loaded.frames.flags.writeable
    np.testing.assert_array_equal(loaded.frames, fs.frames)
    np.testing.assert_array_equal(loaded.timestamps_s, fs.timestamps_s)
    assert (loaded.source, loaded.corrupt_frames) == (fs.source, fs.corrupt_frames)
    assert not isinstance(load_frameset(target, mmap=False).frames, np.memmap)
    assert sorted(p.name for p in target.parent.iterdir()) == [f"{SMALL.slug}.json", f"{SMALL.slug}.npy"]


def test_a_frameset_without_its_sidecar_does_not_load(tmp_path):
    fs = FrameSet(np.zeros((2, 4, 4, 3), np.uint8), np.array([0.0, 0.1]), 0, "x.mp4")
    target = tmp_path / "f.npy"
    save_frameset(fs, target)
    target.with_suffix(".json").unlink()  # as if a crash hit between the two writes
    with pytest.raises(FileNotFoundError):
        load_frameset(target)


def test_a_frameset_whose_frames_changed_under_it_does_not_load(tmp_path):
    target = tmp_path / "f.npy"
    save_frameset(FrameSet(np.zeros((2, 4, 4, 3), np.uint8), np.array([0.0, 0.1]), 0, "x.mp4"), target)
    np.save(target, np.zeros((3, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        load_frameset(target)


def test_shot_cuts_are_found_where_the_scene_changes(field_studio_clip):
    path, truth = field_studio_clip
    fs = extract_frames(path, SMALL)
    scores = shot_cut_scores(fs.frames)
    assert scores.shape == (30,) and scores[0] == 0
    cuts = detect_shot_cuts(fs.timestamps_s, fs.frames)
    np.testing.assert_allclose(cuts, [truth[1].start_s], atol=1e-6)


def test_a_range_far_into_the_video_seeks_and_matches_decoding_from_the_start(make_video):
    path = make_video("long.mp4", [("field", 3.0), ("studio", 2.0)], fps=10)
    sought = extract_frames(path, SMALL, start_s=3.0, end_s=4.0)  # >= 2 s: the demuxer seeks
    linear = extract_frames(path, SMALL, end_s=4.0)
    np.testing.assert_allclose(sought.timestamps_s, linear.timestamps_s[30:], atol=1e-6)
    np.testing.assert_array_equal(sought.frames, linear.frames[30:])


def test_downscaling_a_large_frame_matches_area_interpolation(make_video):
    path = make_video("big.mp4", [("field", 0.3)], fps=10, size=(864, 480))
    small = extract_frames(path, SamplingSpec(None, 54, 96)).frames[0]
    reference = cv2.resize(read_frame_at(path, 0.0), (96, 54), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - reference).mean() < 2.0
