"""Builders shared by the training and scoring suites: ready videos from synthetic scenes, tiny models.

TINY_CONFIG trains a 16x32 VAE for a few epochs: seconds on a CPU, and still tells a pitch from a studio.
"""

from pathlib import Path

from scoring.frames import probe_video
from scoring.previews import writing_previews
from tests import synthetic
from webapp.models import Category, JobCancelled, ReferenceClip, Video
from webapp.previews import preview_rate

TINY_CONFIG = {
    "model": {"height": 16, "width": 32, "latent_dim": 4, "base_channels": 4, "max_channels": 8},
    "train": {
        "epochs": 8,
        "batch_size": 16,
        "lr": 0.01,
        "patience": 10,
        "val_block_s": 1.0,
        "min_epoch_frames": 128,
    },
    "calibration": {"holdout": "blocks", "percentile": 99.0},
    "sampling": {"fps": 5.0},
}


def ready_video(owner, folder: Path, name: str, scenes, fps: float = 10, size=(96, 64)) -> Video:
    """A probed, ready Video row whose file holds ``scenes`` (see tests.synthetic.write_video), with the
    preview store the probe job writes (pages read their pictures from it)."""
    source = folder / name
    synthetic.write_video(source, list(scenes), fps=fps, size=size)
    video = Video.create_from_file(owner, source, name, sha256=name, move=True)
    with writing_previews(video.previews_directory, *preview_rate()) as previews:
        info = probe_video(video.original_path, on_frame=previews.offer)
    video.mark_ready(info, "", "")
    return video


def category_with_clip(owner, video: Video, name: str = "soccer", start_s=None, end_s=None) -> Category:
    category = Category.objects.create(owner=owner, name=name)
    ReferenceClip.objects.create(category=category, video=video, start_s=start_s, end_s=end_s)
    return category


# Smoothing for tests that look for the inserted scene: it scores ~13x the threshold and the reference ~0.9x,
# so a wide hysteresis band keeps a tiny, barely calibrated model from flickering at the boundary.
FOREIGN_SCENE_PARAMS = {"min_segment_s": 1.0, "high": 2.0, "low": 1.5}


class Recorder:
    """Stands in for workers.jobs.ProgressReporter; can cancel after a number of epoch events."""

    def __init__(self, cancel_after_epochs: int | None = None):
        self.calls = []
        self.cancel_after_epochs = cancel_after_epochs

    def __call__(self, progress, stage=None, extra=None, force=False):
        self.calls.append((progress, stage, extra))
        if self.cancel_after_epochs is not None and len(self.epoch_events) >= self.cancel_after_epochs:
            raise JobCancelled()

    @property
    def epoch_events(self):
        return [extra for _, _, extra in self.calls if extra and "val_loss" in extra]

    @property
    def stages(self):
        return [stage for _, stage, _ in self.calls if stage]
