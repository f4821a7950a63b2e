import numpy as np
import pytest

from scoring.segments import (
    Segment,
    TemporalParams,
    decide_segments,
    enforce_min_length,
    format_timecode,
    hysteresis_decisions,
    segments_from_decisions,
    shot_medians,
    smooth_scores,
    snap_boundaries,
    temporal_scores,
)


def times(n, fps=10.0):
    return np.arange(n) / fps


def test_timecodes_are_hours_minutes_seconds_milliseconds():
    assert format_timecode(0) == "00:00:00.000"
    assert format_timecode(12.5) == "00:00:12.500"
    assert format_timecode(3723.0456) == "01:02:03.046"
    assert format_timecode(59.9996) == "00:01:00.000"
    with pytest.raises(ValueError):
        format_timecode(-1)


def test_median_smoothing_ignores_a_single_glitch_and_keeps_a_step_in_place():
    scores = np.r_[np.full(20, 0.5), np.full(20, 2.0)]
    scores[5] = 50.0  # one glitched frame
    smoothed = smooth_scores(scores, times(40), window_s=0.5)
    assert smoothed[5] == 0.5
    assert np.all(smoothed[:20] == 0.5) and np.all(smoothed[20:] == 2.0)


def test_smoothing_window_is_in_seconds_with_irregular_timestamps():
    t = np.array([0.0, 0.1, 0.2, 1.0, 3.0, 3.05, 3.1])
    s = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    smoothed = smooth_scores(s, t, window_s=0.4)
    # Frame at 1.0 s has no neighbour within 0.2 s; those at 0.0 s and 0.1 s both see 0.0..0.2 s.
    assert smoothed[3] == 4.0 and smoothed[1] == 2.0 and smoothed[0] == 2.0 and smoothed[5] == 6.0


def test_zero_window_leaves_scores_alone():
    s = np.array([0.1, 5.0, 0.2])
    np.testing.assert_array_equal(smooth_scores(s, times(3), 0.0), s)


def test_hysteresis_needs_a_drop_below_low_to_come_back_in():
    s = np.array([0.5, 1.2, 0.95, 0.95, 0.8, 0.95, 1.05])
    np.testing.assert_array_equal(hysteresis_decisions(s, high=1.0, low=0.9), [0, 1, 1, 1, 0, 0, 1])


def test_hysteresis_leading_undecided_frames_take_the_first_decision():
    np.testing.assert_array_equal(hysteresis_decisions(np.array([0.95, 0.95, 1.5]), 1.0, 0.9), [1, 1, 1])
    np.testing.assert_array_equal(hysteresis_decisions(np.array([0.92, 0.98]), 1.0, 0.9), [0, 1])  # midpoint
    with pytest.raises(ValueError):
        hysteresis_decisions(np.array([1.0]), high=0.5, low=0.9)


def test_equal_thresholds_are_a_plain_threshold_at_one():
    s = np.array([0.2, 1.0, 1.01, 0.99])
    np.testing.assert_array_equal(hysteresis_decisions(s, high=1.0, low=1.0), [0, 0, 1, 0])


def test_short_runs_merge_into_their_neighbours():
    d = np.zeros(60, dtype=bool)
    d[10:13] = True  # 0.3 s blip: removed
    d[25:45] = True  # 2 s real segment: kept
    d[30] = False  # 0.1 s hole inside it: filled
    out = enforce_min_length(d, times(60), min_segment_s=1.0)
    expected = np.zeros(60, dtype=bool)
    expected[25:45] = True
    np.testing.assert_array_equal(out, expected)


def test_min_length_never_removes_the_only_run():
    d = np.ones(5, dtype=bool)
    np.testing.assert_array_equal(enforce_min_length(d, times(5), 10.0), d)


def test_segments_cover_the_video_contiguously():
    d = np.array([0, 0, 0, 1, 1, 0], dtype=bool)
    s = np.array([0.1, 0.2, 0.3, 2.0, 4.0, 0.5])
    segs = segments_from_decisions(d, s, times(6))
    assert [(x.start_s, x.end_s, x.label) for x in segs] == [
        (0.0, 0.3, "in"),
        (0.3, 0.5, "out"),
        (0.5, 0.6, "in"),
    ]
    assert segs[1].mean_score == pytest.approx(3.0) and segs[0].mean_score == pytest.approx(0.2)
    assert segments_from_decisions(np.zeros(0, bool), np.zeros(0), np.zeros(0)) == []


def test_segment_dict_has_the_cli_keys_and_timecodes():
    d = Segment(1.5, 61.25, "out", 1.7).to_dict()
    assert d["start_s"] == 1.5 and d["end_s"] == 61.25 and d["label"] == "out" and d["mean_score"] == 1.7
    assert d["start_tc"] == "00:00:01.500" and d["end_tc"] == "00:01:01.250"


def test_boundaries_snap_to_nearby_cuts_only():
    segs = [Segment(0.0, 4.0, "in", 0.5), Segment(4.0, 9.0, "out", 2.0), Segment(9.0, 12.0, "in", 0.4)]
    snapped = snap_boundaries(segs, np.array([3.7, 10.5]), max_shift_s=0.5)
    assert [(s.start_s, s.end_s) for s in snapped] == [(0.0, 3.7), (3.7, 9.0), (9.0, 12.0)]


def test_decide_segments_finds_an_ad_break_in_noisy_scores():
    rng = np.random.default_rng(0)
    t = times(300)  # 30 s at 10 fps, an "ad" from 10 s to 20 s
    scores = np.where((t >= 10) & (t < 20), 1.6, 0.6) + rng.normal(0, 0.25, len(t))
    decisions, segs = decide_segments(scores, t, TemporalParams(window_s=1.0, min_segment_s=2.0))
    assert [s.label for s in segs] == ["in", "out", "in"]
    assert abs(segs[1].start_s - 10.0) <= 0.3 and abs(segs[1].end_s - 20.0) <= 0.3
    assert decisions.dtype == bool and decisions.sum() == pytest.approx(100, abs=4)


def test_decide_segments_snaps_to_cuts_and_keeps_decisions_consistent():
    t = times(100)
    scores = np.where((t >= 3.2) & (t < 7), 2.0, 0.5)
    params = TemporalParams(window_s=0.0, min_segment_s=0.5, snap_to_cuts_s=0.5)
    decisions, segs = decide_segments(scores, t, params, cut_times_s=np.array([3.0, 7.3]))
    assert [(s.start_s, s.end_s) for s in segs] == [(0.0, 3.0), (3.0, 7.3), (7.3, pytest.approx(10.0))]
    np.testing.assert_array_equal(decisions, (t >= 3.0) & (t < 7.3))


def test_temporal_params_reject_inverted_thresholds():
    with pytest.raises(ValueError):
        TemporalParams(low=1.2, high=1.0)


def test_min_length_cleans_thousands_of_noisy_runs():
    rng = np.random.default_rng(1)
    t = times(5000, fps=25)
    out = enforce_min_length(rng.random(5000) > 0.5, t, min_segment_s=2.0)
    segs = segments_from_decisions(out, np.zeros(5000), t)
    assert all(s.duration_s >= 2.0 - 1e-9 for s in segs) and len(segs) >= 2


def test_a_short_shot_takes_its_median_score_as_a_whole():
    t = times(60)  # 6 s at 10 fps; cuts at 2 s and 4 s make three shots of 2 s
    scores = np.r_[np.full(20, 0.5), np.r_[np.full(12, 1.4), np.full(8, 0.8)], np.full(20, 0.5)]
    out = shot_medians(scores, t, np.array([2.0, 4.0]), max_shot_s=3.0)
    np.testing.assert_array_equal(out[20:40], np.full(20, 1.4))  # the shot is out as one piece
    np.testing.assert_array_equal(out[:20], scores[:20])


def test_a_shot_longer_than_the_limit_keeps_its_frame_scores():
    t = times(60)
    scores = np.r_[np.full(30, 0.5), np.full(30, 1.5)]  # a missed cut at 3 s inside one 6 s "shot"
    np.testing.assert_array_equal(shot_medians(scores, t, np.array([]), max_shot_s=5.0), scores)
    np.testing.assert_array_equal(shot_medians(scores, t, np.array([]), max_shot_s=0.0), scores)


def test_shot_level_decisions_put_boundaries_on_cuts():
    t = times(100)  # 10 s; an out shot from 4.0 s to 6.0 s whose scores cross the threshold only late
    scores = np.full(100, 0.5)
    scores[40:60] = np.r_[np.full(8, 0.95), np.full(12, 1.6)]
    params = TemporalParams(window_s=0.0, min_segment_s=1.0, snap_to_cuts_s=0.0, shot_max_s=5.0)
    decisions, segments = decide_segments(scores, t, params, np.array([4.0, 6.0]))
    assert np.flatnonzero(decisions).tolist() == list(range(40, 60))
    assert [(s.start_s, s.end_s, s.label) for s in segments] == [(0.0, 4.0, "in"), (4.0, 6.0, "out"),
                                                                  (6.0, 10.0, "in")]  # fmt: skip


def test_temporal_scores_without_cuts_are_the_rolling_median():
    t, scores = times(30), np.r_[np.full(15, 0.2), np.full(15, 2.0)]
    params = TemporalParams(window_s=0.5, shot_max_s=5.0)
    np.testing.assert_array_equal(temporal_scores(scores, t, params, None), smooth_scores(scores, t, 0.5))
    with pytest.raises(ValueError):
        TemporalParams(shot_max_s=-1.0)
