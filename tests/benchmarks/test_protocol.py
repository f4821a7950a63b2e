import numpy as np
import pytest

from benchmarks.protocol import BROADCAST_FPS, SOCCER_SOURCE_GAP_S, Fold, compose, make_folds
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


@pytest.mark.parametrize("seconds", [2.0, 6.75, 22.0, 60.0])
def test_soccer_pieces_never_show_a_frame_of_the_match_twice(seconds):
    # every frame of the match carries its own index, so a repeated frame would show as a repeated value
    n = int(seconds * BROADCAST_FPS)
    frames = np.zeros((n, 4, 4, 3), dtype=np.uint8)
    frames[..., 0], frames[..., 1] = (np.arange(n) % 256)[:, None, None], (np.arange(n) // 256)[:, None, None]
    soccer = [ClipFrames(frames, np.arange(n) / BROADCAST_FPS, "soccer/a")]
    ads = [clip(f"ads/{k}", 9, 100 + k) for k in range(4)]
    confounders = [clip(f"american_football/{k}", 6, 200 + k) for k in range(10)]
    b = compose("a#0", soccer, ads, confounders, seed=3)
    shown = b.frames[b.frame_source == "soccer/a"][:, 0, 0, :2].astype(int)
    index = shown[:, 0] + 256 * shown[:, 1]
    assert len(np.unique(index)) == len(index) > 0  # no source frame twice
    ranges = sorted((p.first, p.stop) for p in b.pieces if p.label == "soccer")
    gap = round(SOCCER_SOURCE_GAP_S * BROADCAST_FPS)
    assert all(a[1] + gap <= b_[0] for a, b_ in zip(ranges[:-1], ranges[1:], strict=True))  # gaps between
    if seconds < 10:  # a short match gives fewer pieces than the 11 to 22 slots of this broadcast
        assert len(ranges) <= max(1, int(seconds // 3))
