"""Resizing decoded frames to the model's input size with area averaging: plain 4:2:0 frames through FFmpeg's
swscale (scaling and the YUV -> RGB conversion of only the output's pixels, in C), other formats converted
to RGB first and resized with OpenCV in a few cheap steps."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import av
import av.filter
import cv2
import numpy as np

from scoring.decoding import ROTATE_CODES, rotation_of, to_rgb

# swscale's exact area average; full_chroma_int converts chroma at the output's full resolution (without it
# chroma is averaged to half the output width and colour edges bleed: 2.2 grey levels off on average instead
# of 0.004). accurate_rnd and full_chroma_inp changed nothing measurable here.
_SWS_FLAGS = "area+full_chroma_int"
# BT.601 limited range in, full-range RGB out, whatever the stream is tagged: what the OpenCV path this
# replaced computed, so frame sets extracted before and after stay comparable.
_SWS_COLOUR = "in_color_matrix=bt601:in_range=tv:out_range=pc"


@dataclass(frozen=True)
class ResizePlan:
    """Area-average a (src_h, src_w) RGB frame down to (height, width) cheaply (frames that are not yuv420p;
    those go through ``SwsArea``).

    OpenCV's INTER_AREA takes ~3.5 ms for 720p -> 96x54 on its general path, almost as long as decoding the
    frame, but halving (2x2 averaging) has a vectorised fast path. So: halve while the result stays >= 1.5x
    the target, then one small general area resize. When the frame is >= 8x taller than the target, the first
    step reads every other row instead of averaging pairs (each output pixel still averages dozens of source
    pixels; a line 2 px thick is never missed). Sizes are centre-cropped by < 2**halvings pixels so every
    halving is exact (the fast path needs even sizes).
    """

    crop: tuple[int, int, int, int]  # y0, y1, x0, x1 of the source
    row_step: int  # 1, or 2 to read every other source row
    halvings: int  # 2x2 averaging steps
    size: tuple[int, int]  # (w, h) of the final resize (swapped for 90/270 rotation)
    rotate: int | None  # cv2.ROTATE_* code to show the picture upright

    @classmethod
    def make(
        cls, src_h: int, src_w: int, height: int, width: int, rotation_deg: int = 0, field: int | None = None
    ) -> ResizePlan:
        """``field`` (0 or 1) reads only the rows of that parity: one field of an interlaced frame, which is
        what a deinterlacer keeps unchanged, so a small output needs no deinterlacing (see FrameSink)."""
        quarter = rotation_deg in (90, 270)
        out_h, out_w = (width, height) if quarter else (height, width)
        row_step = 2 if field is not None or src_h >= 8 * out_h else 1
        rows = src_h // row_step
        halvings = 0
        while rows >> (halvings + 1) >= 1.5 * out_h and src_w >> (halvings + 1) >= 1.5 * out_w:
            halvings += 1
        unit = 1 << halvings
        kept = rows - rows % unit  # source rows read, in steps of row_step
        # A field's rows are centred as far as its parity allows; the last row read stays <= src_h - 1.
        y0 = (src_h - kept * row_step) // 2 if field is None else 2 * ((src_h // 2 - kept) // 2) + field
        x0 = (src_w - (src_w - src_w % unit)) // 2
        crop = (y0, y0 + kept * row_step, x0, x0 + src_w - src_w % unit)
        return cls(crop, row_step, halvings, (out_w, out_h), ROTATE_CODES.get(rotation_deg))

    def apply(self, frame_rgb: np.ndarray, dst: np.ndarray) -> None:
        """Write the resized RGB frame into ``dst`` (height, width, 3)."""
        y0, y1, x0, x1 = self.crop
        img = frame_rgb[y0 : y1 : self.row_step, x0:x1]  # a view: rows stay contiguous, so no copy
        for _ in range(self.halvings):
            img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
        if self.rotate is not None:
            img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
            dst[...] = cv2.rotate(img, self.rotate)
        else:
            cv2.resize(img, self.size, dst=dst, interpolation=cv2.INTER_AREA)


class SwsArea:
    """Area-average a yuv420p frame (or one field of it) to (height, width) RGB with swscale.

    One pass in C through a filter graph: ``field`` picks the rows of one field without copying (it doubles
    the line stride), ``scale`` averages exactly over each output pixel's area (within rounding of a
    floating-point area average) and converts only the output's pixels to RGB. About 0.16 ms for a 576i
    field and 0.28 ms for a 720p frame, against 0.36 / 0.34 ms for OpenCV on the three planes, whose area
    resize at a non-integer ratio has no vectorised path (docs/BENCHMARKS.md, ingest). Frames pushed must
    keep the size and pixel format the graph was built for.
    """

    def __init__(self, frame: av.VideoFrame, height: int, width: int, field: int | None = None) -> None:
        """``field`` (0 or 1) reads only the rows of that parity: the top (0) or bottom (1) field."""
        graph = av.filter.Graph()
        graph.threads = 1  # slice threads for a 96x54 output cost more in hand-offs than they save
        size, pix_fmt = f"{frame.width}x{frame.height}", frame.format.name
        colour = {"colorspace": str(int(frame.colorspace)), "range": str(int(frame.color_range))}
        steps = [graph.add("buffer", video_size=size, pix_fmt=pix_fmt, time_base="1/90000", **colour)]
        if field is not None:
            steps.append(graph.add("field", "type=" + ("bottom" if field else "top")))
        steps.append(graph.add("scale", f"w={width}:h={height}:flags={_SWS_FLAGS}:{_SWS_COLOUR}:threads=1"))
        steps.append(graph.add("format", "rgb24"))
        steps.append(graph.add("buffersink"))
        for before, after in pairwise(steps):
            before.link_to(after)
        graph.configure()
        self.graph = graph  # the contexts below do not keep their graph alive
        self.source, self.sink = steps[0], steps[-1]
        self.height, self.width = height, width

    def apply(self, frame: av.VideoFrame) -> np.ndarray:
        """``frame`` resized: (height, width, 3) uint8 RGB, a view into swscale's output frame."""
        self.source.push(frame)
        plane = self.sink.pull().planes[0]
        h, w = self.height, self.width
        rows = np.frombuffer(plane, dtype=np.uint8)[: plane.line_size * h].reshape(h, plane.line_size)
        return rows[:, : 3 * w].reshape(h, w, 3)


class FrameSink:
    """Collects resized frames into one growing (N, H, W, 3) uint8 array."""

    def __init__(self, capacity: int, height: int, width: int) -> None:
        self.buf = np.empty((max(capacity, 16), height, width, 3), dtype=np.uint8)
        self.times: list[float] = []
        self.plan: ResizePlan | None = None  # frames converted to RGB first
        self.sws: SwsArea | None = None  # yuv420p frames
        self.plan_key: tuple[int, int, str, int, int | None] | None = None

    def add(self, frame: av.VideoFrame, t_s: float, field: int | None = None) -> None:
        """Resize ``frame`` (turned upright) into the next slot; its time is ``t_s``. ``field`` (0 or 1) reads
        only the rows of the first field of an interlaced frame (``TimedFrame.field``)."""
        n = len(self.times)
        if n == len(self.buf):
            bigger = np.empty((2 * len(self.buf), *self.buf.shape[1:]), dtype=np.uint8)
            bigger[:n] = self.buf
            self.buf = bigger
        rotation = rotation_of(frame)
        key = (frame.height, frame.width, frame.format.name, rotation, field)
        if key != self.plan_key:  # decided on the first frame, again if the stream changes mid-way
            self._plan(frame, rotation, field)
            self.plan_key = key
        if self.sws is None:
            self.plan.apply(to_rgb(frame), self.buf[n])
        elif self.plan.rotate is None:
            self.buf[n] = self.sws.apply(frame)
        else:
            self.buf[n] = cv2.rotate(self.sws.apply(frame), self.plan.rotate)
        self.times.append(t_s)

    def _plan(self, frame: av.VideoFrame, rotation: int, field: int | None) -> None:
        out_h, out_w = self.buf.shape[1:3]
        self.plan = ResizePlan.make(frame.height, frame.width, out_h, out_w, rotation, field)
        self.sws = None
        if frame.format.name == "yuv420p":
            # Stored size before turning upright (swapped for quarter turns), as ResizePlan.size.
            self.sws = SwsArea(frame, self.plan.size[1], self.plan.size[0], field)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.times)
        # A view is fine when the estimate was close; copy when a lying header made us over-allocate a lot.
        frames = self.buf[:n] if n >= len(self.buf) // 2 else self.buf[:n].copy()
        return frames, np.asarray(self.times, dtype=np.float64)

    def take(self) -> tuple[np.ndarray, list[float]]:
        """The frames added since the last ``take`` ((n, H, W, 3), a view valid until the next ``add``) and
        their times; the sink is empty again. For writers that stream frames out instead of keeping them."""
        frames, times = self.buf[: len(self.times)], self.times
        self.times = []
        return frames, times
