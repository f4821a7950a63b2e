import numpy as np
import pytest
import torch

from scoring.colour import hsv_histograms
from scoring.model import ConvVAE, VAEConfig, kl_divergence, vae_loss


@pytest.mark.parametrize("size", [(54, 96), (48, 80), (45, 80), (16, 16)])
def test_it_reconstructs_at_the_input_size_even_when_odd(size):
    config = VAEConfig(height=size[0], width=size[1], latent_dim=8, base_channels=4, max_channels=8)
    model = ConvVAE(config)
    x = torch.rand(3, 3, *size)
    out = model(x)
    assert out.recon.shape == x.shape
    assert out.mu.shape == out.logvar.shape == (3, 8)
    assert out.recon.min().item() >= 0 and out.recon.max().item() <= 1


def test_kl_is_zero_for_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(2, 4)
    assert torch.allclose(kl_divergence(zeros, zeros), torch.zeros(2))
    assert (kl_divergence(torch.ones(2, 4), zeros) > 0).all()


def test_loss_adds_beta_weighted_kl():
    model = ConvVAE(VAEConfig(height=16, width=16, latent_dim=4, base_channels=4))
    x = torch.rand(2, 3, 16, 16)
    out = model(x, sample=False)
    loss0, recon, kl = vae_loss(x, out, beta=0.0)
    loss2, _, _ = vae_loss(x, out, beta=2.0)
    assert torch.isclose(loss0, recon)
    assert torch.isclose(loss2, recon + 2 * kl)


def test_config_rejects_impossible_values():
    with pytest.raises(ValueError):
        VAEConfig(height=8, width=8, depth=4)
    with pytest.raises(ValueError):
        VAEConfig(error_quantile=1.5)
    with pytest.raises(ValueError):
        VAEConfig.from_dict({"height": 54, "colour": "red"})
    with pytest.raises(ValueError):
        VAEConfig(colour_hue_blur=0.5)
    with pytest.raises(ValueError):
        VAEConfig(colour_power=0.0)


def test_a_configuration_saved_before_the_colour_descriptor_settings_scores_colours_as_it_did():
    newer = ("colour_hue_blur", "colour_power")
    saved = {k: v for k, v in VAEConfig(colour_weight=0.8).to_dict().items() if k not in newer}
    config = VAEConfig.from_dict(saved)
    assert (config.colour_hue_blur, config.colour_power) == (0.0, 1.0)
    frames = np.random.default_rng(0).integers(0, 256, (3, 6, 8, 3)).astype(np.uint8)
    np.testing.assert_array_equal(
        config.colour_descriptors(frames), hsv_histograms(frames, config.colour_grid)
    )


def test_config_round_trips_through_a_dict():
    config = VAEConfig(height=36, width=64, beta=0.5, error_quantile=0.1)
    assert VAEConfig.from_dict(config.to_dict()) == config
