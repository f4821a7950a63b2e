"""Files under MEDIA_ROOT/models, runs and frames that no database row references any more.

Paths are built from row ids (see ``webapp.models``), so an orphan is a folder or file whose ids match no row:
``models/<category>/v<N>/`` without that TrainedModel, ``runs/<run>/`` without that ScoringRun,
``frames/<video>/`` without that Video, and ``frames/<video>/<spec>.npy|.json`` without that FrameSet. Entries
changed within ``min_age_s`` are left alone: a worker may be writing them before or while its row changes.
"""

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

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


def model_orphans(root: Path) -> list[Path]:
    versions = set(TrainedModel.objects.values_list("category_id", "version"))
    categories = set(Category.objects.values_list("pk", flat=True))
    found = []
    for folder in children(root / "models"):
        if not folder.name.isdigit() or int(folder.name) not in categories:
            found.append(folder)
            continue
        for version in children(folder):
            number = version.name[1:]
            known = version.name.startswith("v") and number.isdigit()
            if not known or (int(folder.name), int(number)) not in versions:
                found.append(version)
    return found


def run_orphans(root: Path) -> list[Path]:
    runs = set(ScoringRun.objects.values_list("pk", flat=True))
    return [p for p in children(root / "runs") if not p.name.isdigit() or int(p.name) not in runs]


def frame_orphans(root: Path) -> list[Path]:
    videos = set(Video.objects.values_list("pk", flat=True))
    framesets = set(FrameSet.objects.values_list("path", flat=True))
    found = []
    for folder in children(root / "frames"):
        if not folder.name.isdigit() or int(folder.name) not in videos:
            found.append(folder)
            continue
        for file in children(folder):
            if file.suffix in (".npy", ".json") and f"frames/{folder.name}/{file.stem}.npy" not in framesets:
                found.append(file)
    return found


def find_orphans(min_age_s: float = DEFAULT_MIN_AGE_S) -> list[Orphan]:
    root = Path(settings.MEDIA_ROOT).resolve()
    cutoff = time.time() - min_age_s
    paths = model_orphans(root) + run_orphans(root) + frame_orphans(root)
    return [Orphan(p, entry_size(p)) for p in paths if p.lstat().st_mtime <= cutoff]


def remove_orphans(orphans: list[Orphan]) -> int:
    """Delete the given orphans; returns the bytes freed."""
    freed = 0
    for orphan in orphans:
        if orphan.path.is_dir() and not orphan.path.is_symlink():
            shutil.rmtree(orphan.path, ignore_errors=True)
        else:
            orphan.path.unlink(missing_ok=True)
        freed += orphan.size_bytes
    return freed
