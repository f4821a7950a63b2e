import numpy as np
import pytest

from benchmarks.protocol import BROADCAST_FPS, Fold, compose, make_folds
from benchmarks.quality_metrics import truth_breaks, truth_out_frames
from scoring.pipeline import ClipFrames


def clip(name: str, seconds: float, value: int) -> ClipFrames:
    n = int(seconds * BROADCAST_FPS)
    return ClipFrames(np.full((n, 4, 4, 3), value, dtype=np.uint8), np.arange(n) / BROADCAST_FPS, name)


def test_each_fold_holds_one_match_out_and_never_tests_a_training_clip():
    folds = make_folds(
        ["soccer/a", "soccer/b", "soccer_more/c"], ["ads/x", "other_sports/y"], ("other_sports/y",)
    )
    assert [f.held_out for f in folds] == ["soccer/a", "soccer/b", "soccer_more/c"]
    assert folds[0].train == ("soccer/b", "soccer_more/c") and folds[0].test_soccer == ("soccer/a",)
    assert all(f.test_other == ("ads/x",) for f in folds)  # the negative is never tested
    with pytest.raises(ValueError):
        Fold("soccer/a", ("soccer/a",), ("soccer/a",), ()).check()


def test_a_composed_broadcast_is_seeded_and_its_truth_matches_its_frames():
    soccer = [clip("soccer/a", 40, 10)]
    ads = [clip(f"ads/{k}", 9, 100 + k) for k in range(4)]
    confounders = [clip("american_football/p", 10, 200), clip("other_sports/q", 3, 220)]
    one = compose("a#0", soccer, ads, confounders, seed=7)
    again = compose("a#0", soccer, ads, confounders, seed=7)
    assert np.array_equal(one.frames, again.frames) and one.truth == again.truth
    assert not np.array_equal(compose("a#1", soccer, ads, confounders, seed=8).frames, one.frames)
    out = truth_out_frames(one.truth, one.timestamps_s)
    soccer_frames = one.frame_source == "soccer/a"
    assert np.array_equal(out, ~soccer_frames) and np.all(one.frames[soccer_frames] == 10)
    assert set(one.frame_source) == {c.source for c in [*soccer, *confounders]} | set(one.frame_source[out])
    kinds = [b.kind for b in truth_breaks(one.truth)]
    assert kinds.count("confounder") == 2 and kinds.count("ad") == 3  # every confounder, 3 ad breaks
    assert one.truth["segments"][-1]["end_s"] == pytest.approx(len(one.frames) / BROADCAST_FPS)
