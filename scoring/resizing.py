"""Resizing decoded frames to the model's input size: area averaging in a few cheap steps, in YUV when the
frame is plain 4:2:0 (so only the output's pixels are colour-converted), in RGB otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import av
import cv2
import numpy as np

from scoring.decoding import ROTATE_CODES, rotation_of, to_rgb

# BT.601 limited range (16-235 luma, 16-240 chroma) to RGB, as swscale converts yuv420p by default.
_YUV_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float32)[:, None, None]
_BT601_LIMITED = (
    np.array([[1.0, 0.0, 1.402], [1.0, -0.344136, -0.714136], [1.0, 1.772, 0.0]], dtype=np.float32)
    * np.array([255 / 219, 255 / 224, 255 / 224], dtype=np.float32)[None, :]
)


@dataclass(frozen=True)
class ResizePlan:
    """Area-average a (src_h, src_w) frame down to (height, width) cheaply.

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

    def apply_plane(self, plane: np.ndarray, dst: np.ndarray) -> None:
        """Resize one (src_h, src_w) plane into ``dst`` (height, width)."""
        y0, y1, x0, x1 = self.crop
        img = plane[y0 : y1 : self.row_step, x0:x1]
        for _ in range(self.halvings):
            img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
        img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
        dst[...] = img if self.rotate is None else cv2.rotate(img, self.rotate)

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


def _plane_view(frame: av.VideoFrame, index: int, height: int, width: int) -> np.ndarray:
    """The (height, width) uint8 plane ``index`` of ``frame`` without a copy: rows are ``line_size`` apart
    (FFmpeg pads them for SIMD). ``to_ndarray`` would copy and stack all three planes, about as long as
    decoding a 576i MPEG-2 frame. Valid while ``frame`` lives."""
    plane = frame.planes[index]
    flat = np.frombuffer(plane, dtype=np.uint8)
    return flat[: plane.line_size * height].reshape(height, plane.line_size)[:, :width]


class FrameSink:
    """Collects resized frames into one growing (N, H, W, 3) uint8 array."""

    def __init__(self, capacity: int, height: int, width: int) -> None:
        self.buf = np.empty((max(capacity, 16), height, width, 3), dtype=np.uint8)
        self.times: list[float] = []
        self.plan: ResizePlan | None = None
        self.chroma_plan: ResizePlan | None = None
        self.plan_key: tuple[int, int, int, bool, int | None] | None = None

    def add(self, frame: av.VideoFrame, t_s: float, field: int | None = None) -> None:
        """Resize ``frame`` (turned upright) into the next slot; its time is ``t_s``. ``field`` (0 or 1) reads
        only the rows of the first field of an interlaced frame (``TimedFrame.field``)."""
        n = len(self.times)
        if n == len(self.buf):
            bigger = np.empty((2 * len(self.buf), *self.buf.shape[1:]), dtype=np.uint8)
            bigger[:n] = self.buf
            self.buf = bigger
        rotation = rotation_of(frame)
        planar = frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0
        key = (frame.height, frame.width, rotation, planar, field)
        if key != self.plan_key:  # decided on the first frame, again if the stream changes size mid-way
            out_h, out_w = self.buf.shape[1:3]
            self.plan = ResizePlan.make(frame.height, frame.width, out_h, out_w, rotation, field)
            # Interlaced 4:2:0 alternates fields in the chroma rows too.
            half_h, half_w = frame.height // 2, frame.width // 2
            self.chroma_plan = ResizePlan.make(half_h, half_w, out_h, out_w, rotation, field)
            self.plan_key = key
        if planar:
            self._add_planar(frame, self.buf[n])
        else:
            self.plan.apply(to_rgb(frame), self.buf[n])
        self.times.append(t_s)

    def _add_planar(self, frame: av.VideoFrame, dst: np.ndarray) -> None:
        """Area-average the Y, U and V planes to the output size, then convert only those few pixels.

        Averaging is linear, so it commutes with the linear YUV -> RGB conversion (up to clipping): this
        gives what converting the full frame and then resizing gives (1.4 grey levels apart on average, 3 at
        the 99th percentile, on broadcast_dev), at a fraction of the cost. BT.601 limited range, as swscale.
        """
        h, w = frame.height, frame.width
        y = _plane_view(frame, 0, h, w)
        u = _plane_view(frame, 1, h // 2, w // 2)
        v = _plane_view(frame, 2, h // 2, w // 2)
        out_h, out_w = dst.shape[:2]
        yuv = np.empty((3, out_h, out_w), dtype=np.uint8)
        self.plan.apply_plane(y, yuv[0])
        self.chroma_plan.apply_plane(u, yuv[1])
        self.chroma_plan.apply_plane(v, yuv[2])
        yuv_f = yuv.astype(np.float32) - _YUV_OFFSET  # (3, h, w)
        rgb = np.tensordot(_BT601_LIMITED, yuv_f, axes=1)  # (3, h, w)
        dst[...] = np.clip(rgb + 0.5, 0, 255).transpose(1, 2, 0)  # truncation after + 0.5 rounds

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
