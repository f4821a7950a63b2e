import dataclasses

import numpy as np
import pytest
import torch

from scoring.calibration import calibrate
from scoring.colour import hsv_histograms
from scoring.model import ConvVAE, VAEConfig
from scoring.pipeline import ClipFrames, TrainedCategory, decide_scores, score_frames
from scoring.segments import TemporalParams
from scoring.selfref import (
    DESCRIPTORS,
    ORIENTATION_BINS,
    OwnReference,
    SelfReference,
    line_histograms,
    own_distances,
    redecided,
    rescored,
    shot_ids,
)

CONFIG = VAEConfig(height=16, width=16, latent_dim=4, base_channels=4, max_channels=8, colour_weight=0.5)


def frames_of(rgb: tuple[int, int, int], n: int) -> np.ndarray:
    frames = np.zeros((n, 16, 16, 3), dtype=np.uint8)
    frames[...] = rgb
    return frames


def model_knowing(rgb: tuple[int, int, int]) -> ConvVAE:
    model = ConvVAE(CONFIG)
    model.set_colour_reference(torch.from_numpy(hsv_histograms(frames_of(rgb, 8))))
    return model


def test_confident_frames_pull_frames_that_look_like_them_in():
    model = model_knowing((200, 30, 30))  # the reference knows red only; this video's look is green
    frames = np.concatenate([frames_of((30, 160, 30), 30), frames_of((30, 30, 200), 10)])
    scores = np.r_[np.full(25, 0.5), np.full(5, 1.2), np.full(10, 2.0)]
    confident = scores <= 0.7
    after = rescored(model, frames, scores, confident, SelfReference(min_frames=10))
    assert np.all(after[25:30] < 0.7)  # the same look as the confident frames: now in
    np.testing.assert_allclose(after[30:], 2.0)  # blue is as far from green as from red: unchanged


def test_too_few_confident_frames_change_nothing():
    model = model_knowing((200, 30, 30))
    frames = frames_of((30, 160, 30), 20)
    scores = np.full(20, 1.2)
    confident = np.zeros(20, dtype=bool)
    confident[:3] = True
    np.testing.assert_array_equal(
        rescored(model, frames, scores, confident, SelfReference(min_frames=5)), scores
    )


def test_a_model_without_colour_term_is_left_alone():
    model = ConvVAE(dataclasses.replace(CONFIG, colour_weight=0.0))
    frames = frames_of((30, 160, 30), 30)
    scores = np.full(30, 0.5)
    np.testing.assert_array_equal(rescored(model, frames, scores, scores < 1, SelfReference()), scores)


def test_decide_scores_is_the_second_half_of_score_frames():
    model = model_knowing((200, 30, 30))
    trained = TrainedCategory("red", model, calibrate(np.linspace(0.1, 1.0, 20)))
    frames = np.concatenate([frames_of((200, 30, 30), 30), frames_of((30, 30, 200), 30)])
    clip = ClipFrames(frames, np.arange(60) / 10.0)
    params = TemporalParams(window_s=0.0, min_segment_s=0.0, snap_to_cuts_s=0.0)
    whole = score_frames(clip, [trained], params)
    halves = decide_scores(clip, [trained], whole.scores, params)
    np.testing.assert_array_equal(whole.out, halves.out)
    np.testing.assert_allclose(whole.errors, halves.errors)
    second = score_frames(clip, [trained], params, self_reference=SelfReference(confident_below=10.0))
    assert second.scores[0, 30:].max() < whole.scores[0, 30:].min()  # blue joined the reference: nearer


# --- own-video reference (OwnReference / redecided) ---


def shots_video(looks: list[tuple[tuple[int, int, int], int]], fps: float = 10.0):
    """Frames (N, 16, 16, 3) made of shots of one flat colour each (``looks``: (rgb, frames)), with a little
    noise so no two frames are equal; their times (N,) and the cut times between shots."""
    rng = np.random.default_rng(0)
    frames = np.concatenate([frames_of(rgb, n) for rgb, n in looks]).astype(np.int16)
    frames = np.clip(frames + rng.integers(-6, 7, size=frames.shape), 0, 255).astype(np.uint8)
    times = np.arange(len(frames)) / fps
    cuts = np.cumsum([n for _, n in looks])[:-1] / fps
    return frames, times, cuts


def test_shot_ids_count_the_cuts_at_or_before_each_frame():
    times = np.arange(6) / 2.0  # 0, 0.5, ... 2.5
    np.testing.assert_array_equal(shot_ids(times, np.array([1.0, 2.0])), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(shot_ids(times, np.zeros(0)), np.zeros(6))


def test_a_frame_never_finds_itself_its_shot_or_its_neighbours_in_time():
    descriptors = np.array([[0.0], [0.0], [5.0], [1.0]], dtype=np.float32)  # frames 0 and 1 are twins
    times = np.array([0.0, 1.0, 10.0, 20.0])
    reference = np.arange(4)
    # same shot: frame 0's twin does not count, its nearest other frame (1.0 away) does
    same_shot = own_distances(descriptors, reference, times, np.array([0, 0, 1, 2]), 0.0, 1, "l2")
    assert same_shot[0] == 1.0 and same_shot[3] == 1.0
    # other shots but within 2 s: the same
    near = own_distances(descriptors, reference, times, np.arange(4), 2.0, 1, "l2")
    assert near[0] == 1.0
    # with neither exclusion the twin is found (and the frame itself, at 0, too: no exclusion at all)
    assert own_distances(descriptors, reference, times, np.arange(4), 0.0, 1, "l2")[0] == 0.0
    # nothing left: NaN
    alone = own_distances(descriptors, np.array([0]), times, np.array([0, 0, 1, 2]), 0.0, 1, "l2")
    assert np.isnan(alone[0]) and np.isnan(alone[1]) and alone[2] == 5.0


def test_the_videos_own_look_pulls_its_doubtful_frames_in_and_its_other_footage_out():
    green, teal, blue, red = (30, 160, 30), (40, 170, 60), (30, 30, 200), (200, 40, 40)
    # shots of the video's "in" look, a doubtful shot of the same look, adverts in other colours
    looks = [(green, 40), (blue, 40), (green, 40), (teal, 30), (red, 40), (green, 40), (blue, 40)]
    frames, times, cuts = shots_video(looks)
    first = np.concatenate(
        [np.full(n, s) for (_, n), s in zip(looks, [0.5, 2.0, 0.5, 1.1, 2.0, 0.5, 2.0], strict=True)]
    )
    model = model_knowing(green)
    options = OwnReference(descriptors=("colour",), exclude_s=2.0)
    after = redecided(model, frames, first, first, times, cuts, options)
    teal_shot = slice(120, 150)
    assert np.all(after[teal_shot] < 1.0)  # nearer the video's own green shots than its adverts: in
    assert np.all(after[40:80] > 2.0)  # a blue advert is nearer the other blue one than the green shots
    assert np.all(after[150:190] >= 2.0)  # red, as far from both sides: stays out
    # the latent means of the model count as well (an untrained model still maps colours apart)
    both = redecided(
        model, frames, first, first, times, cuts, dataclasses.replace(options, descriptors=DESCRIPTORS)
    )
    assert np.all(both[teal_shot] < first[teal_shot])


def test_a_shot_alone_in_its_look_cannot_vouch_for_itself():
    green, grey, blue = (30, 160, 30), (128, 128, 128), (30, 30, 200)
    looks = [(green, 40), (blue, 40), (green, 40), (grey, 40), (blue, 40)]
    frames, times, cuts = shots_video(looks)
    first = np.concatenate([np.full(40, s) for s in (0.5, 2.0, 0.5, 0.6, 2.0)])  # grey: in, but only just
    model = model_knowing(green)
    options = OwnReference(descriptors=("colour",))
    after = redecided(model, frames, first, first, times, cuts, options)
    # its own shot left out, grey shares no colour with either side: its score stays
    np.testing.assert_allclose(after[120:160], 0.6, rtol=0.05)
    # were the frames of its shot counted (every frame a shot of its own, no time margin), they would vouch
    blind = redecided(
        model, frames, first, first, times, times[1:], dataclasses.replace(options, exclude_s=0)
    )
    assert np.all(blind[120:160] < 0.3)


def test_too_few_frames_on_a_side_leave_the_scores_alone():
    frames, times, cuts = shots_video([((30, 160, 30), 40), ((30, 30, 200), 10)])
    first = np.r_[np.full(40, 0.5), np.full(10, 2.0)]
    after = redecided(model_knowing((30, 160, 30)), frames, first, first, times, cuts, OwnReference())
    np.testing.assert_array_equal(after, first)  # 10 out-candidates < min_frames


def test_own_reference_options_are_checked():
    with pytest.raises(ValueError):
        OwnReference(descriptors=("edges",))
    with pytest.raises(ValueError):
        OwnReference(confident_in=1.5, confident_out=1.0)


def test_score_frames_with_the_own_reference_re_decides_a_doubtful_shot():
    green, teal, blue = (30, 160, 30), (40, 170, 60), (30, 30, 200)
    looks = [(green, 40), (blue, 40), (green, 40), (teal, 30), (blue, 40), (green, 40)]
    frames, times, _ = shots_video(looks)
    model = model_knowing(green)
    trained = TrainedCategory("green", model, calibrate(np.linspace(0.1, 1.0, 20)))
    clip = ClipFrames(frames, times)
    params = TemporalParams(window_s=0.0, min_segment_s=0.0, snap_to_cuts_s=0.0)
    first = score_frames(clip, [trained], params)
    # a first pass made up for the test: the green shots clearly in, teal doubtful, blue clearly out
    made_up = np.concatenate(
        [np.full(n, s) for (_, n), s in zip(looks, [0.5, 2.0, 0.5, 1.2, 2.0, 0.5], strict=True)]
    )[None]
    own = decide_scores(
        clip, [trained], made_up, params, self_reference=OwnReference(descriptors=("colour",))
    )
    assert not own.out[120:150].any() and own.out[40:80].all()
    assert first.scores.shape == own.scores.shape == (1, len(frames))


def test_line_histograms_tell_how_many_edges_and_which_way():
    flat = np.full((1, 16, 32, 3), 90, dtype=np.uint8)
    few, many = flat.copy(), flat.copy()
    few[:, :, ::16] = 250  # 2 vertical lines
    many[:, :, ::4] = 250  # 8 vertical lines
    across = flat.copy()
    across[:, ::4] = 250  # 4 horizontal lines
    lines = line_histograms(np.concatenate([flat, few, many, across]))
    assert lines.shape == (4, ORIENTATION_BINS)
    assert lines[0].sum() == 0
    assert lines[2].sum() > 3 * lines[1].sum()  # density: four times the lines
    assert lines[2].argmax() == 0 and lines[3].argmax() == ORIENTATION_BINS // 2  # vertical, horizontal
    assert line_histograms(many, grid=2).shape == (1, 4 * ORIENTATION_BINS)
