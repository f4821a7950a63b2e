"""The quality benchmark tries colour-term settings on cached fold models instead of retraining them: the
rebuilt model must be the one training with those settings gives."""

import dataclasses

import numpy as np
import pytest
import torch

from benchmarks.quality import rebuilt_colours
from scoring.model import VAEConfig
from scoring.pipeline import CalibrationOptions, ClipFrames, TrainingOptions, train_category
from scoring.training import TrainConfig

PLAIN = VAEConfig(
    height=16, width=16, latent_dim=4, base_channels=4, max_channels=8, error_quantile=0.2, colour_weight=0.7,
    colour_grid=2, colour_references=30,
)  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the same weights from the same seed, run after run
    yield
    torch.set_num_threads(before)


def clips() -> list[ClipFrames]:
    rng = np.random.default_rng(0)
    out = []
    for k, rgb in enumerate(((0, 160, 0), (20, 150, 10), (0, 140, 40))):  # three gradings of a green pitch
        frames = np.broadcast_to(np.asarray(rgb, np.uint8), (24, 16, 16, 3)).astype(np.int16)
        frames = np.clip(frames + rng.integers(-30, 30, frames.shape), 0, 255).astype(np.uint8)
        out.append(ClipFrames(frames, np.arange(24) / 5.0, f"match{k}"))
    return out


def trained(config: VAEConfig, negatives=()):
    train = TrainConfig(epochs=2, batch_size=16, min_epoch_frames=0, val_block_s=1.0)
    options = TrainingOptions(model=config, train=train, calibration=CalibrationOptions(fold_epochs=1))
    return train_category("soccer", clips(), list(negatives), options)


def test_a_rebuilt_colour_term_matches_training_with_it():
    target = dataclasses.replace(PLAIN, colour_hue_blur=0.25, colour_power=0.85)
    rebuilt = rebuilt_colours(trained(PLAIN), target, [c.frames for c in clips()], None)
    direct = trained(target)
    assert rebuilt.config == direct.config
    torch.testing.assert_close(rebuilt.model.colour_reference, direct.model.colour_reference)
    np.testing.assert_allclose(
        rebuilt.calibration.held_out_losses, direct.calibration.held_out_losses, rtol=1e-5
    )
    assert rebuilt.threshold == pytest.approx(direct.threshold, rel=1e-5)


def test_negative_colours_rebuilt_on_a_model_trained_without_negatives():
    teal = ClipFrames(np.full((20, 16, 16, 3), (0, 120, 120), np.uint8), np.arange(20) / 5.0, "teal")
    target = dataclasses.replace(PLAIN, negative_colours=True)
    rebuilt = rebuilt_colours(trained(PLAIN), target, [c.frames for c in clips()], teal.frames)
    direct = trained(target, [teal])
    torch.testing.assert_close(rebuilt.model.negative_reference, direct.model.negative_reference)
    np.testing.assert_allclose(
        rebuilt.calibration.held_out_losses, direct.calibration.held_out_losses, rtol=1e-5
    )
    np.testing.assert_allclose(
        rebuilt.calibration.negative_losses, direct.calibration.negative_losses, rtol=1e-5
    )
    assert rebuilt.threshold == pytest.approx(direct.threshold, rel=1e-5)


def test_another_weight_of_the_colour_term_matches_training_with_it():
    target = dataclasses.replace(PLAIN, colour_weight=0.9, colour_hue_blur=0.25)
    rebuilt = rebuilt_colours(trained(PLAIN), target, [c.frames for c in clips()], None)
    direct = trained(target)
    np.testing.assert_allclose(
        rebuilt.calibration.held_out_losses, direct.calibration.held_out_losses, rtol=1e-5
    )
    assert rebuilt.threshold == pytest.approx(direct.threshold, rel=1e-5)


def test_a_colour_term_cannot_be_rebuilt_from_or_to_none():
    model, frames = trained(PLAIN), [c.frames for c in clips()]
    with pytest.raises(ValueError, match="weight"):
        rebuilt_colours(model, dataclasses.replace(PLAIN, colour_weight=0.0), frames, None)
    with pytest.raises(ValueError, match="held-out losses"):
        rebuilt_colours(model, PLAIN, frames[:2], None)
