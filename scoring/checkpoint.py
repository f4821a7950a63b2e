"""Checkpoint I/O: weights in safetensors, configuration/calibration/metadata in JSON; never unpickles.

A model directory holds ``weights.safetensors`` and ``model.json``; loading rebuilds the network from the
saved ``VAEConfig`` and validates both files, raising ``CheckpointError`` for anything that is not a model.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from scoring.calibration import Calibration
from scoring.files import write_atomic
from scoring.model import ConvVAE, VAEConfig
from scoring.training import TrainConfig

FORMAT = "offside-vae"
FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
META_FILE = "model.json"
LOCK_FILE = ".model.lock"  # taken while model.json is read, changed and written back


class CheckpointError(ValueError):
    """The path is not a readable Offside model."""


@dataclass
class TrainedCategory:
    """A trained, calibrated category model: what training returns and scoring needs."""

    name: str
    model: ConvVAE
    calibration: Calibration
    train_config: TrainConfig = field(default_factory=TrainConfig)
    metadata: dict[str, Any] = field(default_factory=dict)  # lineage, curves, device, duration, ...

    @property
    def config(self) -> VAEConfig:
        return self.model.config

    @property
    def threshold(self) -> float:
        return self.calibration.threshold


def save_checkpoint(trained: TrainedCategory, directory: str | Path) -> Path:
    """Write the model directory (created if needed) and return it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS_FILE), metadata={"format": FORMAT})
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": trained.name,
        "config": trained.config.to_dict(),
        "train_config": trained.train_config.to_dict(),
        "calibration": trained.calibration.to_dict(),
        "metadata": trained.metadata,
    }
    _write_meta(directory, meta)
    return directory


def _write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Replace ``model.json`` atomically: a reader never sees half a file, and each writer has its own
    temporary file, so two writers cannot rename each other's half-written one."""
    write_atomic(directory / META_FILE, json.dumps(meta, indent=1, default=_json_default).encode())


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Exclusive lock on a model directory for a read-modify-write of its description (other processes
    included: two recalibrations of one version queue here instead of losing one's history entry)."""
    with open(directory / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_calibration(directory: str | Path, calibration: Calibration, note: dict[str, Any]) -> None:
    """Replace the calibration of a saved model (weights untouched) and append ``note`` to its
    ``metadata.recalibrations`` history; ``CheckpointError`` if the directory is not a model."""
    directory = Path(directory)
    _read_meta(directory)  # not a model: say so before creating a lock file in it
    with _locked(directory):
        meta = _read_meta(directory)
        meta["calibration"] = calibration.to_dict()
        metadata = meta.setdefault("metadata", {})
        metadata["recalibrations"] = [*metadata.get("recalibrations", []), note]
        _write_meta(directory, meta)


def read_calibration(directory: str | Path) -> Calibration:
    """The calibration in a saved model's model.json (held-out losses in full and in their sampled order),
    without loading the weights; ``CheckpointError`` if the directory is not a model."""
    meta = _read_meta(Path(directory))
    try:
        return Calibration.from_dict(meta["calibration"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{directory}: unreadable calibration ({exc})") from exc


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in model.json")


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / META_FILE
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: not a model directory")
    if not path.is_file():
        raise CheckpointError(f"{directory}: missing {META_FILE}, not an Offside model")
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an Offside model file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: unsupported format version {meta.get('format_version')!r}")
    return meta


def _read_weights(directory: Path) -> dict[str, torch.Tensor]:
    path = directory / WEIGHTS_FILE
    if not path.is_file():
        raise CheckpointError(f"{directory}: missing {WEIGHTS_FILE}")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a valid safetensors file ({exc})") from exc


def load_checkpoint(directory: str | Path, device: torch.device | str = "cpu") -> TrainedCategory:
    """Rebuild a ``TrainedCategory`` from a model directory; ``CheckpointError`` if it is not a model."""
    directory = Path(directory)
    meta = _read_meta(directory)
    try:
        config = VAEConfig.from_dict(meta["config"])
        calibration = Calibration.from_dict(meta["calibration"])
        train_config = TrainConfig.from_dict(meta.get("train_config", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{directory / META_FILE}: invalid model description ({exc})") from exc
    model = ConvVAE(config)
    state = _read_weights(directory)
    # models saved before colour statistics existed have no reference: an empty one (colour_weight is 0)
    reference = state.setdefault("colour_reference", torch.zeros(0, model.colour_reference.shape[1]))
    if config.colour_weight > 0 and len(reference) == 0:
        raise CheckpointError(f"{directory / WEIGHTS_FILE}: colour statistics are missing")
    if reference.ndim != 2 or reference.shape[1] != model.colour_reference.shape[1]:
        raise CheckpointError(
            f"{directory / WEIGHTS_FILE}: colour statistics of {tuple(reference.shape)} do not match a "
            f"{config.colour_grid}x{config.colour_grid} colour grid"
        )
    model.set_colour_reference(torch.empty_like(reference))  # the count is the saved one
    # models saved before negative colour references existed have none
    negatives = state.setdefault("negative_reference", torch.zeros(0, reference.shape[1]))
    model.set_negative_reference(torch.empty_like(negatives))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{directory / WEIGHTS_FILE}: weights do not match the config ({exc})") from exc
    model.to(device).eval()
    return TrainedCategory(
        name=str(meta.get("name", directory.name)),
        model=model,
        calibration=calibration,
        train_config=train_config,
        metadata=dict(meta.get("metadata", {})),
    )
