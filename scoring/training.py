"""Training loop: Adam, seeded, early stopping on contiguous held-out time blocks, cancellable by callback."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from scoring.model import ConvVAE, VAEConfig, vae_loss

# on_progress(epoch, step, metrics): a truthy return value cancels training.
ProgressCallback = Callable[[int, int, dict[str, float]], Any]


class TrainingCancelled(Exception):
    """Raised when the progress callback asks to stop (or raises this itself)."""


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0
    val_fraction: float = 0.15  # share of each clip's time blocks held out for early stopping
    val_block_s: float = 2.0  # neighbouring frames are near-duplicates: hold out whole blocks of time
    patience: int = 6  # epochs without a validation improvement before stopping
    augment: bool = True  # horizontal flip + brightness/contrast jitter
    zoom_max: float = 1.0  # > 1: also zoom into a random part of the frame by up to this factor (close-ups)
    denoise_std: float = 0.0  # > 0: train on noisy input against the clean frame (denoising autoencoder)
    amp: bool = True  # mixed precision, used on CUDA only
    min_epoch_frames: int = 1024  # short reference clips: repeat them so an epoch still makes real progress
    max_device_bytes: int = 2 * 1024**3  # move the whole float frame set to the device below this size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainResult:
    model: ConvVAE
    history: list[dict[str, float]] = field(default_factory=list)  # one entry per epoch
    best_epoch: int = 0
    best_val_loss: float = math.inf
    val_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    duration_s: float = 0.0


def block_split(
    groups: np.ndarray, timestamps_s: np.ndarray, val_fraction: float, block_s: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(train_index, val_index): whole ``block_s``-second blocks of each clip held out, never lone frames."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(groups), dtype=bool)
    if val_fraction <= 0:
        return np.flatnonzero(~val), np.flatnonzero(val)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        t = timestamps_s[idx]
        blocks = np.floor((t - t.min()) / block_s).astype(np.int64)
        n_blocks = int(blocks.max()) + 1
        n_val = max(1, round(n_blocks * val_fraction)) if n_blocks > 1 else 0
        # evenly spread blocks, so the held-out part covers the whole clip; seeded offset
        step = n_blocks / max(n_val, 1)
        chosen = (np.floor(np.arange(n_val) * step + rng.uniform(0, step)).astype(np.int64)) % n_blocks
        val[idx[np.isin(blocks, chosen)]] = True
    return np.flatnonzero(~val), np.flatnonzero(val)


def to_tensor(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (N, H, W, C) -> float (N, C, H, W) in [0, 1] on ``device``."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).to(device)
    return x.permute(0, 3, 1, 2).float().div_(255.0)


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """A batch (N, C, H, W) in the layout of the training model's weights (``train_vae``): on the 2-core CPU a
    bare training step ran 1.15x faster in it on a quiet machine and 1.36x under load; a whole default
    training on a quiet machine took the same time (docs/BENCHMARKS.md, "Training cost")."""
    return x.contiguous(memory_format=torch.channels_last)


def zoom(x: torch.Tensor, zoom_max: float, generator: torch.Generator) -> torch.Tensor:
    """Zoom each frame (N, C, H, W) into a random window 1/s of its size, s uniform in [1, zoom_max]."""
    n = x.shape[0]
    scale = 1 / (1 + (zoom_max - 1) * torch.rand(n, device=x.device, generator=generator))  # window size
    shift = (1 - scale) * (2 * torch.rand(2, n, device=x.device, generator=generator) - 1)  # stays inside
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 2], theta[:, 1, 2] = scale, scale, shift[0], shift[1]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def augment(x: torch.Tensor, generator: torch.Generator, zoom_max: float = 1.0) -> torch.Tensor:
    """Flip half the frames and jitter brightness/contrast by ~10%: cheap robustness to other broadcasts."""
    n = x.shape[0]
    if zoom_max > 1:
        x = zoom(x, zoom_max, generator)
    flip = torch.rand(n, device=x.device, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    gain = 1 + 0.1 * (2 * torch.rand(n, 1, 1, 1, device=x.device, generator=generator) - 1)
    bias = 0.05 * (2 * torch.rand(n, 1, 1, 1, device=x.device, generator=generator) - 1)
    return (x * gain + bias).clamp_(0, 1)


class _Batches:
    """Serves batches from frames held on the device when they fit, else converts per batch from uint8."""

    def __init__(self, frames: np.ndarray, device: torch.device, max_bytes: int) -> None:
        self.device = device
        self.frames = frames
        self.on_device = frames.size * 4 <= max_bytes
        self.tensor = to_tensor(frames, device) if self.on_device else None

    def get(self, index: np.ndarray) -> torch.Tensor:
        if self.tensor is not None:
            return self.tensor[torch.as_tensor(index, device=self.device)]
        return to_tensor(self.frames[np.sort(index)], self.device)


def _autocast(device: torch.device, enabled: bool):
    return torch.autocast(device_type=device.type, dtype=torch.float16, enabled=enabled)


@torch.no_grad()
def evaluate_loss(model: ConvVAE, batches: _Batches, index: np.ndarray, batch_size: int = 256) -> float:
    """Mean VAE loss (z = mu, no noise) over ``index``."""
    model.eval()
    total = 0.0
    for start in range(0, len(index), batch_size):
        x = channels_last(batches.get(index[start : start + batch_size]))
        loss, _, _ = vae_loss(x, model(x, sample=False), model.config.beta)
        total += float(loss) * len(x)
    return total / max(len(index), 1)


def _train_epoch(model, optimizer, scaler, batches, train_index, cfg, gen, state, on_progress) -> dict:
    model.train()
    device = batches.device
    use_amp = cfg.amp and device.type == "cuda"
    repeats = -(-cfg.min_epoch_frames // max(len(train_index), 1))  # ceil division, >= 1
    perms = [torch.randperm(len(train_index), generator=gen).numpy() for _ in range(max(repeats, 1))]
    order = train_index[np.concatenate(perms)]
    sums = torch.zeros(3, device=device)  # accumulate on the device: no host sync per step
    for start in range(0, len(order), cfg.batch_size):
        x = batches.get(order[start : start + cfg.batch_size])
        noisy = channels_last(augment(x, state["dgen"], cfg.zoom_max) if cfg.augment else x)
        target = noisy
        if cfg.denoise_std > 0:
            noise = torch.randn(noisy.shape, device=device, generator=state["dgen"]) * cfg.denoise_std
            noisy = (noisy + noise).clamp(0, 1)
        with _autocast(device, use_amp):
            out = model(noisy)
        loss, recon, kl = vae_loss(target, out, model.config.beta)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        sums += torch.stack([loss, recon, kl]).detach().float() * len(x)
        state["step"] += 1
        if on_progress is not None and state["step"] % 20 == 0:
            _report(on_progress, state["epoch"], state["step"], {"batch_loss": loss.detach().item()})
    loss, recon, kl = (sums / max(len(order), 1)).tolist()
    return {"train_loss": loss, "train_recon": recon, "train_kl": kl}


def _report(on_progress: ProgressCallback, epoch: int, step: int, metrics: dict[str, float]) -> None:
    if on_progress(epoch, step, metrics):
        raise TrainingCancelled(f"cancelled at epoch {epoch}, step {step}")


def train_vae(
    frames: np.ndarray,
    groups: np.ndarray,
    timestamps_s: np.ndarray,
    model_config: VAEConfig,
    train_config: TrainConfig,
    device: torch.device,
    on_progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train a VAE on uint8 frames (N, H, W, C) at the model's input size; keeps the best-validation weights.

    ``groups`` (N,) says which clip each frame comes from; validation blocks are cut per clip.
    """
    started = time.perf_counter()
    torch.manual_seed(train_config.seed)
    gen = torch.Generator().manual_seed(train_config.seed)
    state = {"step": 0, "epoch": 0, "dgen": torch.Generator(device=device).manual_seed(train_config.seed + 1)}
    train_index, val_index = block_split(
        groups, timestamps_s, train_config.val_fraction, train_config.val_block_s, train_config.seed
    )
    if len(val_index) == 0:  # too short to hold anything out: early-stop on the training frames
        val_index = train_index
    model = ConvVAE(model_config).to(device, memory_format=torch.channels_last)  # see channels_last()
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=train_config.amp and device.type == "cuda")
    batches = _Batches(frames, device, train_config.max_device_bytes)
    result = TrainResult(model=model, val_index=val_index)
    best_state, waited = copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, train_config.epochs + 1):
        state["epoch"] = epoch
        metrics = _train_epoch(
            model, optimizer, scaler, batches, train_index, train_config, gen, state, on_progress
        )
        metrics["val_loss"] = evaluate_loss(model, batches, val_index)
        metrics["epoch"] = float(epoch)
        result.history.append(metrics)
        if metrics["val_loss"] < result.best_val_loss * (1 - 1e-3):
            result.best_val_loss, result.best_epoch, waited = metrics["val_loss"], epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
        if on_progress is not None:
            _report(on_progress, epoch, state["step"], metrics)
        if waited >= train_config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    result.duration_s = time.perf_counter() - started
    return result
