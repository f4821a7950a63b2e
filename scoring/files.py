"""Files written where readers may be looking: the model description, report caches."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` through a temporary file renamed over it: readers never see half a file.
    The temporary name is unique per call, since several writers may replace the same file at once (request
    threads asking for three images of one frame, two recalibrations of one model version)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
