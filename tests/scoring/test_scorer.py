import numpy as np
import pytest
import torch

from scoring.frames import SamplingSpec, extract_frames
from scoring.model import ConvVAE, VAEConfig
from scoring.scorer import (
    CategoryModel,
    aggregate_errors,
    error_maps,
    frame_errors,
    normalised_scores,
    pixel_errors,
    reconstructed_frames,
    resize_frames,
    reused_frames,
    weighted_error_maps,
)

CONFIG = VAEConfig(height=16, width=32, latent_dim=4, base_channels=4, max_channels=8)


@pytest.fixture
def model() -> ConvVAE:
    torch.manual_seed(0)
    return ConvVAE(CONFIG).eval()


@pytest.fixture
def frames() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (10, 16, 32, 3), dtype=np.uint8)


def test_error_is_the_mean_or_a_quantile_of_per_pixel_errors():
    x = torch.zeros(1, 3, 4, 4)
    recon = torch.zeros(1, 3, 4, 4)
    recon[0, :, 0, :] = 1.0  # one row of 4 wrong pixels out of 16
    err = pixel_errors(x, recon)
    assert aggregate_errors(err).item() == pytest.approx(4 / 16)
    assert aggregate_errors(err, quantile=0.5).item() == 0.0  # most of the frame is right
    assert aggregate_errors(err, quantile=1.0).item() == 1.0
    assert aggregate_errors(err, pool=2).item() == pytest.approx(4 / 16)


def test_frame_errors_are_batched_and_do_not_depend_on_the_batch_size(model, frames):
    a = frame_errors(model, frames, batch_size=3)
    b = frame_errors(model, frames, batch_size=512)
    assert a.shape == (10,)
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_frames_of_another_size_are_resized_to_the_model_input(model, frames):
    big = np.repeat(np.repeat(frames, 2, axis=1), 2, axis=2)  # (10, 32, 64, 3)
    assert resize_frames(big, 16, 32).shape == (10, 16, 32, 3)
    np.testing.assert_allclose(frame_errors(model, big), frame_errors(model, frames), rtol=1e-4)


def test_error_maps_have_the_model_input_size(model, frames):
    maps = error_maps(model, frames[:2])
    assert maps.shape == (2, 16, 32)
    assert (maps >= 0).all()


def test_reconstructions_are_uint8_frames_whose_error_is_the_error_map(model, frames):
    read_only = frames[:3].copy()
    read_only.flags.writeable = False  # as memory-mapped frame sets are
    recon = reconstructed_frames(model, read_only)
    assert recon.shape == (3, 16, 32, 3) and recon.dtype == np.uint8
    by_hand = ((recon.astype(np.float64) - frames[:3]) / 255.0) ** 2
    np.testing.assert_allclose(by_hand.mean(axis=3), error_maps(model, frames[:3]), atol=0.01)


def test_heatmap_errors_are_weighed_per_pixel_as_the_score_weighs_them(frames):
    torch.manual_seed(0)
    model = ConvVAE(
        VAEConfig(height=16, width=32, latent_dim=4, base_channels=4, normalise_pixels=True)
    ).eval()
    model.error_scale[:, :16] = 4.0  # the left half varies a lot between matches
    plain, weighted = error_maps(model, frames[:2]), weighted_error_maps(model, frames[:2])
    np.testing.assert_allclose(weighted[:, :, :16], plain[:, :, :16] / 4.0, rtol=1e-6)
    np.testing.assert_allclose(weighted[:, :, 16:], plain[:, :, 16:], rtol=1e-6)
    np.testing.assert_array_equal(weighted_error_maps(ConvVAE(CONFIG).eval(), frames[:1]).shape, (1, 16, 32))


def test_scores_are_errors_divided_by_each_threshold(model, frames):
    cats = [CategoryModel("a", model, 0.5), CategoryModel("b", model, 2.0)]
    errors, scores = normalised_scores(cats, frames)
    np.testing.assert_allclose(scores[0], errors[0] / 0.5)
    np.testing.assert_allclose(scores[1], errors[1] / 2.0)


def test_a_frame_takes_the_score_of_the_last_frame_scored_when_within_the_reuse_limit():
    levels = [100, 101, 102, 102, 200]  # 102 is 2 levels from the last frame scored (100), though 1 from 101
    frames = np.stack([np.full((4, 6, 3), v, np.uint8) for v in levels])
    assert reused_frames(frames, 1.5).tolist() == [0, 0, 2, 2, 4]
    assert reused_frames(frames, 0.0).tolist() == [0, 1, 2, 3, 4]  # off: every frame scores itself


def test_reused_scores_are_the_plain_scores_of_the_frames_scored(model, field_studio_clip):
    frames = extract_frames(field_studio_clip[0], SamplingSpec(None, CONFIG.height, CONFIG.width)).frames
    plain = frame_errors(model, frames)
    steps = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))  # (N - 1,) grey levels
    limit = float(np.median(steps))  # the synthetic scenes move fast: a limit they reach half the time
    source = reused_frames(frames, limit)
    assert 0 < len(np.unique(source)) < len(frames)  # some frames reuse, some do not
    counted = []
    gated = frame_errors(model, frames, batch_size=7, on_batch=counted.append, reuse_below=limit)
    np.testing.assert_allclose(gated, plain[source], rtol=1e-6)  # the scored frames' own plain scores
    assert sum(counted) == len(frames)  # progress still reaches every frame
    assert np.max(np.abs(gated - plain) / plain) < 0.25  # near-identical frames score nearly the same (0.09)
    np.testing.assert_array_equal(frame_errors(model, frames, reuse_below=0.0), plain)
