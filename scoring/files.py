"""Files written where readers may be looking: the model description, report caches."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

JPEG_QUALITY = 85


def write_atomic(path: Path, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` through a temporary file renamed over it: readers never see half a file.
    The temporary name is unique per call, since several writers may replace the same file at once (request
    threads asking for three images of one frame, two recalibrations of one model version)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())  # the data is on disk before the name points at it (a crash keeps the old)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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
