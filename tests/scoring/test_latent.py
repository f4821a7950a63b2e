"""The model report's numerics in scoring: latent means, prior samples, interpolations; occlusion progress."""

import numpy as np
import torch

from scoring.heatmaps import occlusion_map
from scoring.latent import interpolation, latent_means, prior_samples
from scoring.model import ConvVAE, VAEConfig
from scoring.scorer import reconstructed_frames

CONFIG = VAEConfig(height=16, width=32, latent_dim=4, base_channels=4, max_channels=8, depth=2)


def tiny_model() -> ConvVAE:
    torch.manual_seed(0)
    return ConvVAE(CONFIG).eval()


def frames(n: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (n, 16, 32, 3), dtype=np.uint8)


def test_latent_means_are_one_vector_per_frame():
    assert latent_means(tiny_model(), frames(5)).shape == (5, 4)


def test_prior_samples_are_frames_and_repeat_with_the_seed():
    model = tiny_model()
    first, again = prior_samples(model, 6, seed=3), prior_samples(model, 6, seed=3)
    assert first.shape == (6, 16, 32, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again) and not np.array_equal(first, prior_samples(model, 6, seed=4))


def test_an_interpolation_runs_from_one_reconstruction_to_the_other():
    model, pair = tiny_model(), frames(2)
    path = interpolation(model, pair[0], pair[1], steps=5)
    assert path.shape == (5, 16, 32, 3)
    ends = reconstructed_frames(model, pair)
    assert (
        np.abs(path[0].astype(int) - ends[0]).max() <= 1 and np.abs(path[-1].astype(int) - ends[1]).max() <= 1
    )


def test_the_occlusion_map_reports_its_progress_per_batch():
    seen = []
    occlusion_map(
        frames(1)[0], lambda batch: batch.mean(axis=(1, 2, 3)), batch_size=4, on_progress=seen.append
    )
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 6  # 3 x 7 patch positions, 4 a batch
