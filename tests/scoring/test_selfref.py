import dataclasses

import numpy as np
import torch

from scoring.calibration import calibrate
from scoring.colour import hsv_histograms
from scoring.model import ConvVAE, VAEConfig
from scoring.pipeline import ClipFrames, TrainedCategory, decide_scores, score_frames
from scoring.segments import TemporalParams
from scoring.selfref import SelfReference, rescored

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
