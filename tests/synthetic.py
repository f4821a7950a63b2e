"""Small synthetic videos for tests: known scenes, known timing, and the broken files real uploads produce.

Every writer is deterministic (seeded), writes with OpenCV (no ffmpeg needed) and raises ``CodecUnavailable``
when this OpenCV build cannot write the requested container/codec, so suites can ``pytest.skip`` on it::

    from tests.synthetic import write_video

    truth = write_video(tmp_path / "two.mp4", [("field", 2.0), ("studio", 1.0)], fps=10)
    # truth == [Scene("field", 0.0, 2.0), Scene("studio", 2.0, 3.0)]

Scenes: "field" (green pitch with mowing stripes, moving white lines and player dots, sensor noise), "studio"
(grey-blue gradient with a moving coloured box), "bars" (colour bars), "noise" (uniform noise), "black".
Sizes are (width, height) like OpenCV's writer; keep them even (some codecs require it) and small.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_SIZE = (96, 64)  # (width, height)
PORTRAIT_SIZE = (48, 96)  # as a phone held upright records
CODECS = {
    ".mp4": "mp4v",
    ".avi": "MJPG",
    ".mkv": "XVID",
    ".webm": "VP80",
}  # what this OpenCV writes and reads


class CodecUnavailable(RuntimeError):
    """This OpenCV build (or this machine) cannot write the requested format."""


@dataclass(frozen=True)
class Scene:
    name: str
    start_s: float
    end_s: float


# --- scene renderers: (frame index within scene, width, height, rng) -> (H, W, 3) uint8 BGR -----------------


def _field(i: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    x = np.arange(w)
    stripes = ((x + 2 * i) // max(w // 8, 1)) % 2  # mowing stripes pan with the camera
    img = np.empty((h, w, 3), dtype=np.float32)
    img[...] = np.where(stripes[None, :, None], (40, 140, 50), (30, 120, 40))  # BGR greens
    line_x = (w // 3 + 2 * i) % w
    img[:, max(line_x - 1, 0) : line_x + 1] = 235  # a touch line moving across
    img[h // 2 - 1 : h // 2 + 1, :] = 220  # halfway line
    for k in range(5):  # players
        cx = int((k * w / 5 + 3 * i * (1 + k % 2)) % w)
        cy = int(h * (0.25 + 0.12 * k))
        cv2.circle(img, (cx, cy), max(h // 32, 1), (255, 255, 255), -1)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _studio(i: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = (1 - y) * np.array([150, 120, 110], np.float32) + y * np.array([200, 90, 40], np.float32)
    img = np.broadcast_to(img, (h, w, 3)).copy()
    bw, bh = w // 4, h // 4
    x0 = int((w - bw) * (0.5 + 0.5 * np.sin(i / 5)))
    y0 = int((h - bh) * (0.5 + 0.5 * np.cos(i / 7)))
    img[y0 : y0 + bh, x0 : x0 + bw] = (30, 60, 230)  # a red-orange box drifting around
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


_BAR_COLOURS = [
    (192, 192, 192),
    (0, 192, 192),
    (192, 192, 0),
    (0, 192, 0),
    (192, 0, 192),
    (0, 0, 192),
    (192, 0, 0),
]


def _bars(i: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.arange(w) * len(_BAR_COLOURS) // w
    img = np.asarray(_BAR_COLOURS, np.uint8)[idx][None].repeat(h, axis=0)
    x = (4 * i) % max(w - 4, 1)
    img[h - max(h // 10, 2) :, x : x + 4] = 255  # a ticking marker, as test cards carry a running clock
    return img


def _noise(i: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _black(i: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    return np.zeros((h, w, 3), np.uint8)


SCENES: dict[str, Callable[[int, int, int, np.random.Generator], np.ndarray]] = {
    "field": _field,
    "studio": _studio,
    "bars": _bars,
    "noise": _noise,
    "black": _black,
}


def render_scene(name: str, count: int, size: tuple[int, int] = DEFAULT_SIZE, seed: int = 0) -> np.ndarray:
    """``count`` frames of a scene as RGB (count, H, W, 3) uint8, e.g. to compare with decoded frames."""
    rng = np.random.default_rng(seed)
    w, h = size
    return np.stack([cv2.cvtColor(SCENES[name](i, w, h, rng), cv2.COLOR_BGR2RGB) for i in range(count)])


# --- writers ------------------------------------------------------------------------------------------------


def _check_written(path: Path) -> None:
    """OpenCV may open a writer and still produce nothing readable; make that a CodecUnavailable."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    ok = cap.isOpened() and cap.grab()
    cap.release()
    if not ok:
        raise CodecUnavailable(f"OpenCV wrote {path.name} but cannot read it back")


def write_video(
    path: str | os.PathLike,
    scenes: list[tuple[str, float]],
    fps: float = 10,
    size: tuple[int, int] = DEFAULT_SIZE,
    codec: str | None = None,
    seed: int = 0,
) -> list[Scene]:
    """Write scenes back to back; returns their ground-truth spans in seconds.

    ``codec`` is a FourCC, by default chosen from the extension (``CODECS``); others that work here: "XVID"
    (.avi), "MJPG"/"FFV1" (.mkv), "VP90" (.webm). A scene lasts round(duration * fps) frames, so spans are
    multiples of 1 / fps. For portrait video pass ``size=PORTRAIT_SIZE``.
    """
    path = Path(path)
    w, h = size
    codec = codec or CODECS.get(path.suffix.lower(), "mp4v")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), float(fps), (w, h))
    if not writer.isOpened():
        raise CodecUnavailable(f"OpenCV cannot write {codec!r} into {path.suffix}")
    rng = np.random.default_rng(seed)
    truth, frame_index = [], 0
    try:
        for name, duration_s in scenes:
            count = round(duration_s * fps)
            for i in range(count):
                writer.write(SCENES[name](i, w, h, rng))
            truth.append(Scene(name, frame_index / fps, (frame_index + count) / fps))
            frame_index += count
    finally:
        writer.release()
    _check_written(path)
    return truth


def write_corrupt_video(
    path: str | os.PathLike, frames: int = 30, bad_frame: int = 15, fps: float = 10
) -> int:
    """An MJPG .avi whose frame ``bad_frame`` has its JPEG data wiped; decoders skip that one frame.

    Returns the number of frames written (one of which will not decode).
    """
    path = Path(path)
    if path.suffix.lower() != ".avi":
        raise ValueError("write_corrupt_video writes an MJPG .avi")
    write_video(path, [("field", frames / fps)], fps=fps, codec="MJPG")
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]  # JPEG SOI markers
    if len(starts) < frames:
        raise CodecUnavailable("could not find the JPEG frames inside the AVI")
    start = starts[bad_frame]
    end = starts[bad_frame + 1] if bad_frame + 1 < len(starts) else len(data)
    data[start : start + min(400, end - start - 8)] = bytes(min(400, end - start - 8))
    path.write_bytes(data)
    return frames


def write_truncated_video(path: str | os.PathLike, fraction: float = 0.5) -> None:
    """A valid .mp4 cut to ``fraction`` of its bytes, like an interrupted upload (its index is lost)."""
    path = Path(path)
    write_video(path, [("field", 2.0)], fps=10)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def write_not_a_video(path: str | os.PathLike) -> None:
    """A text file with a video extension."""
    Path(path).write_text("This is a shopping list, not a video.\n" * 20)


def write_gif(
    path: str | os.PathLike, scenes: list[tuple[str, float]], fps: float = 10, size=DEFAULT_SIZE
) -> list[Scene]:
    """An animated GIF, written by OpenCV (>= 4.11) or else Pillow. Returns the scene spans."""
    w, h = size
    rng = np.random.default_rng(0)
    frames, truth, n = [], [], 0  # frames are BGR
    for name, duration_s in scenes:
        count = round(duration_s * fps)
        frames += [SCENES[name](i, w, h, rng) for i in range(count)]
        truth.append(Scene(name, n / fps, (n + count) / fps))
        n += count
    delay_ms = round(1000 / fps)  # GIF stores hundredths of a second: keep fps a divisor of 100
    if hasattr(cv2, "imwriteanimation"):
        anim = cv2.Animation()
        anim.frames, anim.durations, anim.loop_count = frames, [delay_ms] * len(frames), 0
        if cv2.imwriteanimation(str(path), anim):
            return truth
    try:
        from PIL import Image
    except ImportError as exc:
        raise CodecUnavailable("neither OpenCV nor Pillow can write animated GIFs here") from exc
    images = [Image.fromarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=delay_ms, loop=0)
    return truth


# --- variants that need the ffmpeg command (tests only; skip when it is missing) ----------------------------


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def _ffmpeg(*args: str) -> None:
    if not have_ffmpeg():
        raise CodecUnavailable("ffmpeg is not installed")
    result = subprocess.run(["ffmpeg", "-y", "-loglevel", "error", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise CodecUnavailable(f"ffmpeg failed: {result.stderr.strip()[:200]}")


def write_rotated_video(path: str | os.PathLike, rotation_deg: int = 90, size=DEFAULT_SIZE) -> None:
    """A landscape stream tagged with rotation metadata (as phones record portrait video); needs ffmpeg.

    The top-left 10 % of the stored picture is white, the rest black, so tests can see where it ends up.
    """
    path = Path(path)
    w, h = size
    plain = path.with_name(f"unrotated-{path.name}")
    writer = cv2.VideoWriter(str(plain), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
    frame = np.zeros((h, w, 3), np.uint8)
    frame[: h // 4, : w // 4] = 255
    for _ in range(10):
        writer.write(frame)
    writer.release()
    try:
        _ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", f"rotate={rotation_deg}", str(path))
    finally:
        plain.unlink(missing_ok=True)


def write_vfr_video(path: str | os.PathLike, size=DEFAULT_SIZE) -> list[float]:
    """A variable-frame-rate .mkv: 2 s at 10 fps then 2 s at 25 fps (its header claims neither). Needs ffmpeg.

    Returns the presentation timestamps of its frames in seconds.
    """
    path = Path(path)
    plain = path.with_name(f"cfr-{path.name}.mp4")
    write_video(plain, [("field", 2.0), ("studio", 5.0)], fps=10, size=size)  # 20 + 50 frames
    times_ms = [100 * n for n in range(20)] + [2000 + 40 * n for n in range(50)]
    expr = "if(lt(N,20),N*100,2000+(N-20)*40)"
    try:
        _ffmpeg(
            "-i", str(plain), "-vf", f"settb=1/1000,setpts='{expr}'", "-vsync", "passthrough",
            "-enc_time_base", "1:1000", "-c:v", "mjpeg", "-q:v", "3", str(path),
        )  # fmt: skip
    finally:
        plain.unlink(missing_ok=True)
    return [t / 1000 for t in times_ms]
