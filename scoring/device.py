"""Device choice: CUDA, then Apple MPS, then CPU; the ``OFFSIDE_DEVICE`` environment variable overrides."""

from __future__ import annotations

import os

import torch

ENV_VAR = "OFFSIDE_DEVICE"


def choose_device(preferred: str | None = None) -> torch.device:
    """Return the device to run on: ``preferred``, else ``$OFFSIDE_DEVICE``, else the best one available."""
    name = preferred or os.environ.get(ENV_VAR, "").strip()
    if name:
        device = torch.device(name)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{ENV_VAR}={name} asks for CUDA but no CUDA device is available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe(device: torch.device) -> str:
    """Human-readable device name for model metadata and benchmark reports."""
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return device.type
