"""Ready TrainedModel rows with real (untrained, tiny) checkpoints on disk, for admin/API/import tests."""

import numpy as np

from scoring.calibration import Calibration
from scoring.checkpoint import TrainedCategory, save_checkpoint
from scoring.model import ConvVAE, VAEConfig
from webapp.models import Category, TrainedModel

TINY_NET = {"height": 16, "width": 32, "latent_dim": 4, "base_channels": 4, "max_channels": 8, "depth": 2}


def write_tiny_checkpoint(directory, name: str = "soccer", threshold: float = 0.05):
    calibration = Calibration(
        threshold=threshold, method="percentile", percentile=99.0, held_out_losses=np.linspace(0.01, 0.05, 20)
    )
    trained = TrainedCategory(
        name=name,
        model=ConvVAE(VAEConfig(**TINY_NET)),
        calibration=calibration,
        metadata={"n_frames": 40, "device": "cpu", "duration_s": 1.5},
    )
    return save_checkpoint(trained, directory)


def ready_model(category: Category, threshold: float = 0.05) -> TrainedModel:
    """The category's next version, ready (and active if it is the first), with its files written."""
    model = TrainedModel.create_next_version(category, {"model": TINY_NET, "sampling": {"fps": 5.0}})
    write_tiny_checkpoint(model.directory, category.name, threshold)
    model.mark_ready({"threshold": threshold, "n_frames": 40, "device": "cpu", "duration_s": 1.5})
    return model
