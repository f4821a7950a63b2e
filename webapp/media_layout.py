"""Where every file lives under ``MEDIA_ROOT``, and its removal with the row it belongs to.

Paths are built from row ids only, never from names a client sent::

    videos/<video>/original.<ext>, poster.jpg, strip.jpg     a Video
    frames/<video>/<spec>.npy + <spec>.json                   a FrameSet
    frames/<video>/previews/<t_ms>.jpg + index.json           a Video's preview store (scoring.previews)
    models/<category>/v<version>/                             a TrainedModel (weights.safetensors, model.json)
    runs/<run>/scores.npz, heatmaps/, renders/<job>.mp4       a ScoringRun, its images (a bounded cache) and
                                                              rendered videos
    uploads/<upload>.part                                     an Upload still receiving
    reports/overview/<key>.json                               page caches

Every writer goes through ``scoring.files`` (a unique temporary name per write, fsync, rename), models delete
their folders once their row's deletion commits, and the orphan sweep (``webapp.orphans``) reads this layout.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

VIDEOS, FRAMES, MODELS, RUNS, UPLOADS, REPORTS = "videos", "frames", "models", "runs", "uploads", "reports"


def media_path(relative: str) -> Path:
    """Absolute path of a file under MEDIA_ROOT; refuses anything that would resolve outside it."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if root not in path.parents and path != root:
        raise ValueError(f"{relative!r} is outside MEDIA_ROOT")
    return path


def video_dir(video_id: int) -> str:
    return f"{VIDEOS}/{int(video_id)}"


def frames_dir(video_id: int) -> str:
    return f"{FRAMES}/{int(video_id)}"


def previews_dir(video_id: int) -> str:
    return f"{frames_dir(video_id)}/previews"


def frameset_file(video_id: int, spec_slug: str) -> str:
    return f"{frames_dir(video_id)}/{spec_slug}.npy"


def category_models_dir(category_id: int) -> str:
    return f"{MODELS}/{int(category_id)}"


def model_dir(category_id: int, version: int) -> str:
    return f"{category_models_dir(category_id)}/v{int(version)}"


def run_dir(run_id: int) -> str:
    return f"{RUNS}/{int(run_id)}"


def render_file(run_id: int, job_id: int) -> str:
    return f"{run_dir(run_id)}/renders/{int(job_id)}.mp4"


def upload_part(upload_id) -> str:
    return f"{UPLOADS}/{upload_id}.part"


def remove_after_commit(*relatives: str) -> None:
    """Delete these files or folders once the surrounding transaction commits (at once outside one), so a
    rolled-back deletion keeps its files. Paths are resolved now: a deleted row loses its id afterwards."""
    paths = [media_path(relative) for relative in relatives]
    transaction.on_commit(lambda: [remove(path) for path in paths])


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
