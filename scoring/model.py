"""The convolutional VAE and its configuration.

Kingma & Welling, "Auto-Encoding Variational Bayes" (ICLR 2014): Gaussian encoder
q(z|x) = N(mu, diag(sigma^2)), standard normal prior, reparameterised sampling during training, and the
decoder mean at z = mu when scoring.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from scoring.colour import colour_descriptors, colour_distances, histogram_size, negative_factor


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild the network; saved inside every checkpoint."""

    height: int = 54  # 16:9 broadcast aspect, cheap on a CPU
    width: int = 96
    channels: int = 3
    latent_dim: int = 32
    base_channels: int = 16  # first conv's width; doubles per layer up to max_channels
    max_channels: int = 64
    depth: int = 4  # strided convolutions in the encoder (each halves H and W)
    beta: float = 1.0  # weight of the KL term (beta-VAE); 1.0 is the plain VAE
    error_pool: int = 1  # average-pool factor applied to the per-pixel error map before aggregating it
    # None: a frame's error is the mean of its per-pixel errors; q in (0, 1]: their q-quantile, which ignores
    # the worst-reconstructed part of the frame (players in a close-up) and keeps what the scene is made of
    error_quantile: float | None = None
    # divide each pixel's error by its typical error on held-out footage (stored in the model as error_scale),
    # so regions that vary from match to match (stands, overlays) weigh less than those that do not (grass)
    normalise_pixels: bool = False
    error_scale_eps: float = 0.1  # added to the scale map, as a fraction of its mean, so no pixel dominates
    # > 0: a frame's score is error ** (1 - w) * colour ** w, colour being the HSV-histogram distance to the
    # nearest reference frames (scoring.colour); the reference histograms are saved with the weights
    colour_weight: float = 0.0
    colour_neighbours: int = 5
    colour_references: int = 1024  # at most this many training frames' histograms, spread evenly
    colour_grid: int = 1  # histograms per frame: one per cell of a grid x grid split (1: the whole frame)
    # scoring.colour.colour_descriptors: share of each hue bin's mass given to each neighbouring hue bin, and
    # the power every bin is raised to (1 and 0: plain histograms, what models saved before these existed use)
    colour_hue_blur: float = 0.0
    colour_power: float = 1.0
    # True: each cell of the colour grid finds its own nearest reference cells and the distance sums over
    # cells (scoring.colour.colour_distances), so familiar parts in a new combination are near; False (models
    # saved before this existed): whole frames are compared
    colour_cell_neighbours: bool = False
    # with negative clips, a frame whose colours are nearer theirs than the category's scores higher by that
    # ratio (scoring.colour.negative_factor); their histograms are saved with the weights
    negative_colours: bool = False

    def __post_init__(self) -> None:
        if self.height < 2**self.depth or self.width < 2**self.depth:
            raise ValueError(f"input {self.height}x{self.width} is too small for depth {self.depth}")
        if min(self.channels, self.latent_dim, self.base_channels, self.max_channels, self.error_pool) < 1:
            raise ValueError("VAEConfig sizes must be positive")
        if self.beta < 0:
            raise ValueError("beta must be >= 0")
        if self.error_quantile is not None and not 0.0 < self.error_quantile <= 1.0:
            raise ValueError("error_quantile must be in (0, 1]")
        if not 0.0 <= self.colour_weight < 1.0:
            raise ValueError("colour_weight must be in [0, 1)")
        if min(self.colour_neighbours, self.colour_references, self.colour_grid) < 1:
            raise ValueError("colour_neighbours, colour_references and colour_grid must be positive")
        if not 0.0 <= self.colour_hue_blur < 0.5:
            raise ValueError("colour_hue_blur must be in [0, 0.5)")
        if not 0.0 < self.colour_power <= 1.0:
            raise ValueError("colour_power must be in (0, 1]")
        if self.colour_grid > min(self.height, self.width):
            raise ValueError("colour_grid cannot have more cells per side than the input has pixels")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VAEConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown VAEConfig fields: {sorted(unknown)}")
        return cls(**data)

    def colour_descriptors(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB (N, H, W, 3) -> (N, 256 * colour_grid**2) float32 descriptors of the colour term, as
        this configuration computes them (``scoring.colour.colour_descriptors``)."""
        return colour_descriptors(frames, self.colour_grid, self.colour_hue_blur, self.colour_power)

    def colour_distances(self, descriptors: np.ndarray, reference: torch.Tensor | np.ndarray) -> np.ndarray:
        """(N,) colour distances of descriptors (N, D) from ``colour_descriptors`` to a reference (R, D), as
        this configuration measures them (``scoring.colour.colour_distances``)."""
        return colour_distances(descriptors, reference, self.colour_neighbours, cells=self.colour_cells())

    def negative_factor(
        self, descriptors: np.ndarray, distances: np.ndarray, negatives: torch.Tensor | np.ndarray
    ) -> np.ndarray:
        """(N,) >= 1: ``scoring.colour.negative_factor`` as this configuration measures distances."""
        return negative_factor(descriptors, distances, negatives, self.colour_neighbours, self.colour_cells())

    def colour_cells(self) -> int:
        """Parts of a descriptor that find their nearest references separately (1: the whole frame)."""
        return self.colour_grid**2 if self.colour_cell_neighbours else 1

    def layer_channels(self) -> list[int]:
        return [min(self.base_channels * 2**i, self.max_channels) for i in range(self.depth)]


@dataclass
class VAEOutput:
    recon: torch.Tensor  # (N, C, H, W) decoder mean in [0, 1]
    mu: torch.Tensor  # (N, latent)
    logvar: torch.Tensor  # (N, latent)


def _conv_out(size: int) -> int:
    return (size + 2 * 1 - 4) // 2 + 1  # kernel 4, stride 2, padding 1


class ConvVAE(nn.Module):
    """Strided-conv encoder, mirrored transposed-conv decoder; sizes come from ``VAEConfig``."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        widths = config.layer_channels()
        self.shapes = [(config.height, config.width)]  # spatial size before each encoder layer, then the last
        for _ in widths:
            h, w = self.shapes[-1]
            self.shapes.append((_conv_out(h), _conv_out(w)))
        ins = [config.channels, *widths[:-1]]
        self.encoder = nn.ModuleList(nn.Conv2d(i, o, 4, 2, 1) for i, o in zip(ins, widths, strict=True))
        bottom_h, bottom_w = self.shapes[-1]
        flat = widths[-1] * bottom_h * bottom_w
        self.to_stats = nn.Linear(flat, 2 * config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, flat)
        outs = [*ins[1:][::-1], config.channels]
        self.decoder = nn.ModuleList(
            nn.ConvTranspose2d(i, o, 4, 2, 1) for i, o in zip(widths[::-1], outs, strict=True)
        )
        # (H, W) per-pixel error divisor set by calibration (ones = plain error); saved with the weights
        self.register_buffer("error_scale", torch.ones(config.height, config.width))
        # (R, 256 * colour_grid**2) HSV histograms of reference frames, set by training when colour_weight > 0
        self.register_buffer("colour_reference", torch.zeros(0, histogram_size(config.colour_grid)))
        # (R', same) HSV histograms of negative clips' frames ("not this category"), empty without negatives
        self.register_buffer("negative_reference", torch.zeros(0, histogram_size(config.colour_grid)))

    def set_colour_reference(self, histograms: torch.Tensor) -> None:
        """Replace the reference histograms (their count varies with the training set)."""
        self.colour_reference = histograms.detach().to(self.error_scale.device, torch.float32).contiguous()

    def set_negative_reference(self, histograms: torch.Tensor) -> None:
        """Replace the negative clips' histograms (``scoring.colour.negative_factor``)."""
        self.negative_reference = histograms.detach().to(self.error_scale.device, torch.float32).contiguous()

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = x  # (N, C, H, W) in [0, 1]
        for conv in self.encoder:
            h = F.silu(conv(h))  # (N, C_i, H / 2^i, W / 2^i)
        mu, logvar = self.to_stats(h.flatten(1)).chunk(2, dim=1)  # (N, latent) each
        return mu, logvar.clamp(-12.0, 8.0)  # clamp: exp(logvar) must not overflow under fp16

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        bottom_h, bottom_w = self.shapes[-1]
        h = F.silu(self.from_latent(z)).view(z.shape[0], -1, bottom_h, bottom_w)  # (N, C_last, h, w)
        targets = self.shapes[-2::-1]  # undo the encoder sizes exactly, odd sizes included
        for i, (deconv, size) in enumerate(zip(self.decoder, targets, strict=True)):
            h = deconv(h, output_size=list(size))
            if i < len(self.decoder) - 1:
                h = F.silu(h)
        return torch.sigmoid(h)  # (N, C, H, W) decoder mean in [0, 1]

    def forward(self, x: torch.Tensor, sample: bool = True) -> VAEOutput:
        mu, logvar = self.encode(x)
        z = mu
        if sample:  # reparameterisation trick (Kingma & Welling 2014, section 2.4)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return VAEOutput(self.decode(z), mu, logvar)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per frame, (N,).

    Kingma & Welling 2014, appendix B: -KL = 1/2 * sum_j (1 + log(sigma_j^2) - mu_j^2 - sigma_j^2).
    """
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def vae_loss(x: torch.Tensor, out: VAEOutput, beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch-mean (loss, recon, KL): summed squared error (fixed-variance Gaussian decoder) + beta * KL."""
    recon = (out.recon.float() - x.float()).pow(2).flatten(1).sum(dim=1)  # (N,)
    kl = kl_divergence(out.mu.float(), out.logvar.float())  # (N,)
    return (recon + beta * kl).mean(), recon.mean(), kl.mean()
