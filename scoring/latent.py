"""What a trained VAE has learned, for the model report: latent means of frames, frames decoded from the
prior, and the path between two frames in latent space. Frames are uint8 RGB (N, h, w, 3) at the model's
input size; outputs are decoder means (z without sampling noise, Kingma & Welling 2014)."""

import numpy as np
import torch

from scoring.model import ConvVAE


def _as_input(frames: np.ndarray) -> torch.Tensor:
    # (N, h, w, 3) uint8 -> (N, 3, h, w) float in 0..1
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div(255.0)


def _as_frames(x: torch.Tensor) -> np.ndarray:
    # (N, 3, h, w) float in 0..1 -> (N, h, w, 3) uint8
    return x.permute(0, 2, 3, 1).mul(255).round().byte().numpy()


@torch.inference_mode()
def latent_means(model: ConvVAE, frames: np.ndarray) -> np.ndarray:
    """(N, latent) encoder means of uint8 frames (N, h, w, 3) at the model's size."""
    return model.encode(_as_input(frames))[0].numpy()


@torch.inference_mode()
def prior_samples(model: ConvVAE, count: int = 16, seed: int = 0) -> np.ndarray:
    """Decoder means of z ~ N(0, I): what the model thinks the category looks like. uint8 (count, h, w, 3);
    the same ``seed`` gives the same pictures."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(count, model.config.latent_dim, generator=gen)  # (count, latent)
    return _as_frames(model.decode(z))


@torch.inference_mode()
def interpolation(model: ConvVAE, first: np.ndarray, last: np.ndarray, steps: int = 10) -> np.ndarray:
    """Decoder means along the straight line between the latent means of two (h, w, 3) frames: uint8
    (steps, h, w, 3), from ``first``'s reconstruction to ``last``'s."""
    mu = model.encode(_as_input(np.stack([first, last])))[0]  # (2, latent)
    weights = torch.linspace(0, 1, steps)[:, None]  # (steps, 1)
    z = (1 - weights) * mu[0] + weights * mu[1]  # (steps, latent)
    return _as_frames(model.decode(z))
