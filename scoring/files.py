"""The one way files are written where readers may be looking: a unique temporary name, fsync, rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

JPEG_QUALITY = 85


@contextmanager
def replacing(path: Path, suffix: str = ""):
    """Yields a temporary path beside ``path`` (unique per call; ``suffix`` keeps an extension a writer needs,
    such as ".mp4" for ffmpeg) for a writer to fill; when the block ends without error the file is flushed to
    disk and renamed over ``path``, else removed. Readers never see half a file, concurrent writers never
    share a temporary name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{suffix}")
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def replacing_directory(path: Path):
    """Yields a new empty folder beside ``path`` (unique per call) to fill; on success it takes the place of
    ``path`` (a retried job overwrites its own output), on failure it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_atomic(path: Path, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` through ``replacing``: readers never see half a file, and several writers
    may replace the same file at once (request threads asking for three images of one frame, two
    recalibrations of one model version)."""
    with replacing(path) as tmp:
        tmp.write_bytes(payload)
    return path


def write_jpeg(image_rgb, path: Path, quality: int = JPEG_QUALITY) -> Path:
    """Encode an (H, W, 3) uint8 RGB image as JPEG and write it atomically; ``OSError`` when it cannot."""
    import cv2

    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise OSError(f"could not encode {path.name}")
    return write_atomic(path, encoded.tobytes())
