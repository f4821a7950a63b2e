"""The model's small input is an area average of the picture on every path: yuv420p frames through swscale
(whole frames, one field of interlaced ones, rotated ones), other pixel formats through RGB and OpenCV."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from scoring.decoding import to_rgb
from scoring.frames import SamplingSpec, extract_frames, frames_at, read_frame_at
from scoring.reading import timed_frames
from scoring.resizing import FrameSink
from tests import ingest_inputs as inputs
from tests.scoring.conftest import _made
from tests.synthetic import _ffmpeg


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("resizing")


def area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The reference: an exact area average in floating point of a full-size image, (height, width, ...)."""
    return cv2.resize(image.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)


def yuv_area(frame: av.VideoFrame, field: int | None, height: int, width: int) -> np.ndarray:
    """The reference in the YUV domain: each plane of a yuv420p frame (or of one field's rows) area-averaged
    in floating point, then converted to RGB (BT.601 limited range), (height, width, 3) float."""
    planes = []
    for index, rows in enumerate((frame.height, frame.height // 2, frame.height // 2)):
        plane = frame.planes[index]
        cols = frame.width // (1 if index == 0 else 2)
        pixels = np.frombuffer(plane, np.uint8)[: plane.line_size * rows].reshape(rows, plane.line_size)
        pixels = pixels[:, :cols] if field is None else pixels[field::2, :cols]
        planes.append(area(pixels, height, width) - (16.0 if index == 0 else 128.0))
    y, u, v = planes[0] * 255 / 219, planes[1] * 255 / 224, planes[2] * 255 / 224
    rgb = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], axis=-1)
    return np.clip(rgb, 0, 255)


def assert_close(ours: np.ndarray, reference: np.ndarray, mean: float = 1.2, p99: float = 4.5) -> None:
    """Mean and 99th percentile of the absolute difference in grey levels. Against an RGB reference the
    defaults hold: averaging in YUV before the conversion (ours) differs from averaging RGB where RGB clips
    and where the full-size conversion interpolates chroma (0.75-1.0 on average on testsrc2's saturated
    colours; the OpenCV path this replaced: 2.3, 99th percentile 36 on the detailed clip)."""
    diff = np.abs(ours.astype(np.float32) - reference)
    assert diff.mean() < mean and np.percentile(diff, 99) <= p99, (diff.mean(), np.percentile(diff, 99))


def test_sampled_frames_are_the_same_frames_as_full_reads_area_averaged(folder):
    """Frame-numbered H.264 (B-frames): each sampled frame is the one on screen at its time, and its pixels
    are the exact area average of that frame read whole (320x180 to 54x96, ratios 3.33 and 3.33)."""
    path = _made(inputs.index_clip, folder / "index.mp4", seconds=3.0)
    fs = extract_frames(path, SamplingSpec(5, 54, 96))
    assert [inputs.frame_number(f) for f in fs.frames] == [inputs.expected_number(t) for t in fs.timestamps_s]
    full = frames_at(path, list(fs.timestamps_s))
    assert_close(fs.frames, np.stack([area(f, 54, 96) for f in full]))


def test_detailed_colour_frames_match_the_area_average_of_their_rgb(folder):
    path = folder / "detail.mp4"
    _made(_ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=854x480:r=25:d=1", "-c:v", "libx264",
          "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    fs = extract_frames(path, SamplingSpec(None, 54, 96))
    full = frames_at(path, list(fs.timestamps_s))
    assert len(fs) == 25
    assert_close(fs.frames, np.stack([area(f, 54, 96) for f in full]))


def test_a_field_read_is_the_area_average_of_the_first_fields_rows(folder):
    """576i MPEG-2 with detail: the model input of each frame averages exactly its first field's rows (luma
    and chroma), to within rounding in the YUV domain."""
    path = _made(inputs.interlaced_576i, folder)
    fs = extract_frames(path, SamplingSpec(None, 54, 96))
    in_rgb, in_yuv = [], []
    for timed in timed_frames(path, deinterlace=False):
        assert timed.field == 0  # top field first
        in_rgb.append(area(to_rgb(timed.frame)[timed.field :: 2], 54, 96))
        in_yuv.append(yuv_area(timed.frame, timed.field, 54, 96))
    assert len(fs) == len(in_rgb) == 100
    assert_close(fs.frames, np.stack(in_rgb))
    assert_close(fs.frames, np.stack(in_yuv), mean=0.3, p99=0.75)  # rounding to integers: 0.17 and 0.48


def test_rotated_frames_are_turned_upright_then_averaged(folder):
    plain, rotated = folder / "stored.mp4", folder / "rotated.mp4"
    _made(_ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=0.5", "-c:v", "libx264",
          "-pix_fmt", "yuv420p", str(plain))  # fmt: skip
    _made(_ffmpeg, "-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    ours = extract_frames(rotated, SamplingSpec(None, 32, 24)).frames[0]  # displayed 240x320: portrait
    upright = read_frame_at(rotated, 0.0)
    assert upright.shape == (320, 240, 3)
    assert_close(ours, area(upright, 32, 24))


def test_frames_of_another_pixel_format_go_through_rgb(folder):
    """yuv444p is not the swscale path's format: the RGB path averages it, to the same picture."""
    path = folder / "444.mp4"
    _made(_ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=640x360:r=10:d=0.5", "-c:v", "libx264",
          "-pix_fmt", "yuv444p", str(path))  # fmt: skip
    sink = FrameSink(8, 54, 96)
    for timed in timed_frames(path):
        sink.add(timed.frame, timed.t_s)
    assert sink.sws is None
    frames, times = sink.finish()
    full = frames_at(path, list(times))
    diff = np.abs(frames.astype(np.float32) - np.stack([area(f, 54, 96) for f in full]))
    assert diff.mean() < 2.0  # the RGB path reads every other row of a frame 6x the output height or more
