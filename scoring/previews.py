"""Previews: a bounded store of small JPEGs of one video's frames, made on the worker and read by pages.

Pages never decode a video inside a request: one full-size frame of a 4K file (or of one whose header
declares 16000x16000) costs a web process seconds and gigabytes. So the worker, while it probes a file (or
in a job of its own for a video probed before this store existed), keeps the frames nearest the times
k / fps, each encoded as a JPEG at most ``MAX_WIDTH`` px wide at the display aspect (rotated upright, square
pixels), in one folder::

    <folder>/frames.jpgs    the JPEGs one after another
    <folder>/index.json     {"format", "fps", "width", "height", "times_ms": [n], "offsets": [n + 1]}

One pack rather than one file per JPEG: the store is made durable with one fsync instead of thousands (on a
90-minute match, a file each cost more than the decoding), and a video takes two inodes. The folder is
filled beside its final place and renamed over it when complete, so a reader sees the whole store or none.
Its size is bounded by ``max_frames`` JPEGs (about 10 KB each at 320x180): the rate is lowered up front when
the header's duration asks for it, and should the file run longer than its header says, every other JPEG
is dropped (the pack rewritten) and the rate halved, as often as needed.
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
from scoring.files import JPEG_QUALITY, replacing, replacing_directory, write_atomic
from scoring.reading import TimedFrame, timed_frames
from scoring.resizing import FrameSink

PREVIEW_FORMAT = "offside-previews/2"
MAX_WIDTH = 320
INDEX_NAME = "index.json"
PACK_NAME = "frames.jpgs"
_BATCH = 16  # frames resized together before they are encoded


def preview_size(display_w: int, display_h: int, max_width: int = MAX_WIDTH) -> tuple[int, int]:
    """(width, height) of a preview of a picture shown at display_w x display_h: at most max_width wide."""
    width = max(1, min(display_w, max_width))
    return width, max(1, round(display_h * width / max(display_w, 1)))


def encode_jpeg(image_rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])  # fmt: skip
    if not ok:
        raise OSError("could not encode a preview")
    return encoded.tobytes()


@dataclass(frozen=True)
class PreviewIndex:
    """A complete store: the times (ms, increasing) that have a JPEG, where each lies in the pack, and the
    size of every JPEG."""

    folder: Path
    fps: float
    width: int
    height: int
    times_ms: tuple[int, ...]
    offsets: tuple[int, ...]  # JPEG i is pack bytes [offsets[i], offsets[i + 1])

    def __len__(self) -> int:
        return len(self.times_ms)

    def nearest(self, t_s: float) -> int | None:
        """The position of the sample nearest ``t_s`` seconds (the first or last outside the video); None
        when the store is empty."""
        if not self.times_ms:
            return None
        t_ms = round(t_s * 1000)
        i = bisect.bisect_left(self.times_ms, t_ms)
        candidates = [j for j in (i - 1, i) if 0 <= j < len(self.times_ms)]
        return min(candidates, key=lambda j: abs(self.times_ms[j] - t_ms))

    def jpeg(self, position: int) -> bytes:
        """The JPEG at ``position``; OSError when the pack cannot be read whole."""
        begin, end = self.offsets[position], self.offsets[position + 1]
        with (self.folder / PACK_NAME).open("rb") as pack:
            pack.seek(begin)
            data = pack.read(end - begin)
        if len(data) != end - begin:
            raise OSError(f"{self.folder / PACK_NAME} is shorter than its index says")
        return data

    def jpeg_at(self, t_s: float) -> bytes | None:
        """The JPEG of the sample nearest ``t_s`` seconds, None when the store is empty."""
        position = self.nearest(t_s)
        return None if position is None else self.jpeg(position)


class PreviewWriter:
    """Samples frames offered in presentation order into JPEGs appended to ``pack`` (see the module doc).

    ``fps`` is the wanted rate, ``max_frames`` the most JPEGs the pack ever holds (at least 2).
    """

    def __init__(self, pack: Path, fps: float, max_frames: int, max_width: int = MAX_WIDTH) -> None:
        if not fps > 0 or max_frames < 2:
            raise ValueError(f"need fps > 0 and max_frames >= 2, got {fps} and {max_frames}")
        self.pack, self.fps, self.max_frames, self.max_width = pack, fps, max_frames, max_width
        self.handle = pack.open("wb")
        self.sampler: Sampler | None = None
        self.sink: FrameSink | None = None
        self.size = (0, 0)  # (width, height) of every JPEG
        self.interval_s = 0.04
        self.times_ms: list[int] = []
        self.offsets: list[int] = [0]

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
            data = encode_jpeg(frame)
            self.handle.write(data)
            self.times_ms.append(round(t_s * 1000))
            self.offsets.append(self.offsets[-1] + len(data))

    def _too_close(self, t_s: float) -> bool:
        """Sampled at the rate before a thinning (or the same millisecond again): not kept."""
        return bool(self.times_ms) and round(t_s * 1000) - self.times_ms[-1] < max(1, 500 / self.fps)

    def _thin(self) -> None:
        """Keep every other JPEG (the pack rewritten) and halve the rate: it stays within ``max_frames``."""
        self.handle.close()
        kept = range(0, len(self.times_ms), 2)
        thinner = self.pack.with_name(self.pack.name + ".thin")
        offsets = [0]
        with self.pack.open("rb") as old, thinner.open("wb") as new:
            for i in kept:
                old.seek(self.offsets[i])
                new.write(old.read(self.offsets[i + 1] - self.offsets[i]))
                offsets.append(offsets[-1] + self.offsets[i + 1] - self.offsets[i])
        os.replace(thinner, self.pack)
        self.handle = self.pack.open("ab")
        self.times_ms, self.offsets = [self.times_ms[i] for i in kept], offsets
        self.fps /= 2
        self.sampler = Sampler(self.fps, 0.0, self.interval_s)
        self.sampler.next_s = self.times_ms[-1] / 1000 + 1 / self.fps

    def finish(self, folder: Path) -> PreviewIndex:
        """Encode the last JPEGs, close the pack and write the index into ``folder``."""
        self._flush()
        self.close()
        index = PreviewIndex(folder, self.fps, self.size[0], self.size[1], tuple(self.times_ms),
                             tuple(self.offsets))  # fmt: skip
        doc = {"format": PREVIEW_FORMAT, "fps": index.fps, "width": index.width, "height": index.height,
               "times_ms": list(index.times_ms), "offsets": list(index.offsets)}  # fmt: skip
        write_atomic(folder / INDEX_NAME, json.dumps(doc).encode())
        return index

    def close(self) -> None:
        self.handle.close()


@contextmanager
def writing_previews(folder: Path, fps: float, max_frames: int) -> Iterator[PreviewWriter]:
    """A writer filling a new folder that replaces ``folder`` (an older store) once the block ends without
    error; on error nothing changes. The pack and the index go through the atomic writers of
    ``scoring.files`` (each flushed to disk before the folder is renamed into place)."""
    with replacing_directory(folder) as tmp, replacing(tmp / PACK_NAME) as pack:
        writer = PreviewWriter(pack, fps, max_frames)
        try:
            yield writer
        except BaseException:
            writer.close()
            raise
        writer.finish(tmp)


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
        offsets = tuple(int(o) for o in doc["offsets"])
        if len(offsets) != len(times) + 1:
            return None
        size = int(doc["width"]), int(doc["height"])
        return PreviewIndex(Path(path).parent, float(doc["fps"]), *size, times, offsets)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def decode_preview(jpeg: bytes) -> np.ndarray:
    """A preview JPEG as (H, W, 3) uint8 RGB; OSError when it does not decode."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError("a preview JPEG does not decode")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
