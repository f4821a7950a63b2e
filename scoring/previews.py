"""Previews: a bounded store of small JPEGs of one video's frames, made on the worker and read by pages.

Pages never decode a video inside a request: one full-size frame of a 4K file (or of one whose header
declares 16000x16000) costs a web process seconds and gigabytes. So the worker, while it probes a file (or
in a job of its own for a video probed before this store existed), keeps the frames nearest the times
k / fps, each at most ``MAX_WIDTH`` px wide at the display aspect (rotated upright, square pixels), in one
folder::

    <folder>/<t_ms>.jpg     the frame on screen at t_ms (milliseconds of presentation time)
    <folder>/index.json     {"format", "fps", "width", "height", "times_ms": [...]}, written last

The folder is filled beside its final place and renamed over it when complete, so a reader sees the whole
store or none. Its size is bounded by ``max_frames`` files (about 10 KB each at 320x180): the rate is
lowered up front when the header's duration asks for it, and should the file run longer than its header
says, every other preview is dropped and the rate halved, as often as needed.
"""

from __future__ import annotations

import bisect
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from scoring.decoding import (
    DEFAULT_LIMITS,
    DecodeLimits,
    NoFrameDecodedError,
    Progress,
    Sampler,
    display_size,
    rotation_of,
    sample_aspect_ratio,
)
from scoring.files import replacing_directory, write_atomic, write_jpeg
from scoring.reading import TimedFrame, timed_frames
from scoring.resizing import FrameSink

PREVIEW_FORMAT = "offside-previews/1"
MAX_WIDTH = 320
INDEX_NAME = "index.json"
_BATCH = 16  # frames resized together before their JPEGs are written


def preview_size(display_w: int, display_h: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """(width, height) of a preview of a picture shown at display_w x display_h: at most max_width wide."""
    width = max(1, min(display_w, max_width))
    return width, max(1, round(display_h * width / max(display_w, 1)))


@dataclass(frozen=True)
class PreviewIndex:
    """A complete store: the times (ms, increasing) that have a JPEG, and the size of every JPEG."""

    folder: Path
    fps: float
    width: int
    height: int
    times_ms: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.times_ms)

    def nearest(self, t_s: float) -> Path | None:
        """The JPEG of the sample nearest ``t_s`` seconds (the first or last one outside the video); None
        when the store is empty."""
        if not self.times_ms:
            return None
        t_ms = round(t_s * 1000)
        i = bisect.bisect_left(self.times_ms, t_ms)
        candidates = [self.times_ms[j] for j in (i - 1, i) if 0 <= j < len(self.times_ms)]
        return self.folder / f"{min(candidates, key=lambda t: abs(t - t_ms))}.jpg"


class PreviewWriter:
    """Samples frames offered in presentation order into JPEGs in ``folder`` (see the module doc).

    ``fps`` is the wanted rate, ``max_frames`` the most JPEGs the folder ever holds (at least 2).
    """

    def __init__(self, folder: Path, fps: float, max_frames: int, max_width: int = MAX_WIDTH) -> None:
        if not fps > 0 or max_frames < 2:
            raise ValueError(f"need fps > 0 and max_frames >= 2, got {fps} and {max_frames}")
        self.folder, self.fps, self.max_frames, self.max_width = folder, fps, max_frames, max_width
        self.sampler: Sampler | None = None
        self.sink: FrameSink | None = None
        self.size = (0, 0)  # (width, height) of every JPEG
        self.interval_s = 0.04
        self.times_ms: list[int] = []

    def offer(self, timed: TimedFrame) -> None:
        """Keep ``timed`` when it is the frame nearest the next sample time."""
        if self.sampler is None:
            self._begin(timed)
        if not self.sampler.keep(timed.t_s):
            return
        self.sink.add(timed.frame, timed.t_s)
        if len(self.sink.times) >= _BATCH:
            self._flush()

    def _begin(self, first: TimedFrame) -> None:
        source = first.source
        if source.header_duration_s > 0:  # k / fps for t < duration: duration * fps + 1 samples
            self.fps = min(self.fps, (self.max_frames - 1) / source.header_duration_s)
        self.interval_s = source.frame_interval_s
        self.sampler = Sampler(self.fps, 0.0, self.interval_s)
        shown = display_size(first.frame.width, first.frame.height, sample_aspect_ratio(source),
                             rotation_of(first.frame))  # fmt: skip
        self.size = preview_size(*shown, self.max_width)
        self.sink = FrameSink(_BATCH, self.size[1], self.size[0])

    def _flush(self) -> None:
        if self.sink is None:
            return
        frames, times = self.sink.take()
        for frame, t_s in zip(frames, times, strict=True):
            if self._too_close(t_s):
                continue
            if len(self.times_ms) >= self.max_frames:
                self._thin()
                if self._too_close(t_s):
                    continue
            t_ms = round(t_s * 1000)
            write_jpeg(frame, self.folder / f"{t_ms}.jpg")
            self.times_ms.append(t_ms)

    def _too_close(self, t_s: float) -> bool:
        """Sampled at the rate before a thinning (or the same millisecond again): not kept."""
        return bool(self.times_ms) and round(t_s * 1000) - self.times_ms[-1] < max(1, 500 / self.fps)

    def _thin(self) -> None:
        """Drop every other preview and halve the rate: the store stays within ``max_frames``."""
        dropped, self.times_ms = self.times_ms[1::2], self.times_ms[::2]
        for t_ms in dropped:
            (self.folder / f"{t_ms}.jpg").unlink(missing_ok=True)
        self.fps /= 2
        self.sampler = Sampler(self.fps, 0.0, self.interval_s)
        self.sampler.next_s = self.times_ms[-1] / 1000 + 1 / self.fps

    def finish(self) -> PreviewIndex:
        """Write the last JPEGs and the index; returns the store's index."""
        self._flush()
        index = PreviewIndex(self.folder, self.fps, self.size[0], self.size[1], tuple(self.times_ms))
        doc = {"format": PREVIEW_FORMAT, "fps": index.fps, "width": index.width, "height": index.height,
               "times_ms": list(index.times_ms)}  # fmt: skip
        write_atomic(self.folder / INDEX_NAME, json.dumps(doc).encode())
        return index


@contextmanager
def writing_previews(folder: Path, fps: float, max_frames: int) -> Iterator[PreviewWriter]:
    """A writer filling a new folder that replaces ``folder`` (an older store) once the block ends without
    error; on error nothing changes."""
    with replacing_directory(folder) as tmp:
        writer = PreviewWriter(tmp, fps, max_frames)
        yield writer
        writer.finish()


def make_previews(
    path: str | os.PathLike,
    folder: Path,
    fps: float,
    max_frames: int,
    limits: DecodeLimits = DEFAULT_LIMITS,
    on_progress: Callable[[float], None] | None = None,
) -> PreviewIndex:
    """Decode ``path`` once and write its preview store to ``folder``; ``on_progress`` gets fractions.

    Raises VideoDecodeError (or a subclass) as ``timed_frames`` does; an empty store is not written.
    """
    progress: Progress | None = None
    with writing_previews(folder, fps, max_frames) as writer:
        for timed in timed_frames(path, 0.0, limits):
            if progress is None:
                progress = Progress(on_progress, 0.0, timed.source.header_duration_s)
            writer.offer(timed)
            progress.update(timed.t_s)
        if progress is None:
            raise NoFrameDecodedError(f"{os.fspath(path)}: no frame could be decoded")
    progress.done()
    return load_previews(folder)


def load_previews(folder: Path) -> PreviewIndex | None:
    """The complete store in ``folder``, or None when there is none (not made yet, or an old format)."""
    index = folder / INDEX_NAME
    try:
        stat = index.stat()
    except OSError:
        return None
    return _load_index(str(index), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _load_index(path: str, mtime_ns: int, size: int) -> PreviewIndex | None:
    """Parsed once per version of the file (mtime and size are part of the key)."""
    try:
        doc = json.loads(Path(path).read_text())
        if doc.get("format") != PREVIEW_FORMAT:
            return None
        times = tuple(int(t) for t in doc["times_ms"])
        size = int(doc["width"]), int(doc["height"])
        return PreviewIndex(Path(path).parent, float(doc["fps"]), *size, times)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_preview(path: Path) -> np.ndarray:
    """A preview JPEG as (H, W, 3) uint8 RGB; OSError when it cannot be read."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read {path.name}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
