"""Files under MEDIA_ROOT/models, runs and frames that no database row references any more.

Paths are built from row ids (the layout of ``webapp.media_layout``), so an orphan is a folder or file whose
ids match no row:
``models/<category>/v<N>/`` without that TrainedModel, ``runs/<run>/`` without that ScoringRun,
``frames/<video>/`` without that Video, and ``frames/<video>/<spec>.npy|.json`` without that FrameSet. Entries
changed within ``min_age_s`` are left alone: a worker may be writing them before or while its row changes.
"""

import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from webapp.media_layout import FRAMES, MODELS, RUNS, frameset_file, media_path, model_dir, remove, run_dir
from webapp.models import Category, FrameSet, ScoringRun, TrainedModel, Video

DEFAULT_MIN_AGE_S = 3600


@dataclass(frozen=True)
class Orphan:
    path: Path
    size_bytes: int

    @property
    def relative(self) -> str:
        return str(self.path.relative_to(Path(settings.MEDIA_ROOT).resolve()))


def entry_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def children(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def model_orphans() -> list[Path]:
    expected = {
        media_path(model_dir(c, v)) for c, v in TrainedModel.objects.values_list("category_id", "version")
    }
    categories = set(Category.objects.values_list("pk", flat=True))
    found = []
    for folder in children(media_path(MODELS)):
        if not folder.name.isdigit() or int(folder.name) not in categories:
            found.append(folder)
            continue
        found += [version for version in children(folder) if version not in expected]
    return found


def run_orphans() -> list[Path]:
    expected = {media_path(run_dir(pk)) for pk in ScoringRun.objects.values_list("pk", flat=True)}
    return [folder for folder in children(media_path(RUNS)) if folder not in expected]


def frame_orphans() -> list[Path]:
    videos = set(Video.objects.values_list("pk", flat=True))
    framesets = set(FrameSet.objects.values_list("path", flat=True))
    found = []
    for folder in children(media_path(FRAMES)):
        if not folder.name.isdigit() or int(folder.name) not in videos:
            found.append(folder)
            continue
        for file in children(folder):
            if file.suffix in (".npy", ".json") and frameset_file(folder.name, file.stem) not in framesets:
                found.append(file)
    return found


def find_orphans(min_age_s: float = DEFAULT_MIN_AGE_S) -> list[Orphan]:
    cutoff = time.time() - min_age_s
    paths = model_orphans() + run_orphans() + frame_orphans()
    return [Orphan(p, entry_size(p)) for p in paths if p.lstat().st_mtime <= cutoff]


def remove_orphans(orphans: list[Orphan]) -> int:
    """Delete the given orphans; returns the bytes freed."""
    freed = 0
    for orphan in orphans:
        remove(orphan.path)
        freed += orphan.size_bytes
    return freed
