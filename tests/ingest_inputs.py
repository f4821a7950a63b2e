"""Small equivalents of the real-world ingest situations of ``shared/regressions/README.md`` (ffmpeg-made).

The frame-index clip draws its frame number N in binary across the top 60 px (bit b, LSB first, is white in
the 32-px column starting at x = 32 b), so a test can read which frame a decoder returned. Builders raise
``CodecUnavailable`` when this machine's ffmpeg lacks an encoder (CI installs Debian's, which has them all).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from tests.synthetic import _ffmpeg

FPS = "30000/1001"
RATE = 30000 / 1001
INDEX_W, INDEX_H, BIT_W, BITS_H = 320, 180, 32, 60


def frame_number(rgb: np.ndarray) -> int:
    """N drawn by ``index_clip`` in a frame read at its own size (H, W, 3)."""
    h, w = rgb.shape[:2]
    row = rgb[int(BITS_H / 2 * h / INDEX_H)]
    return sum(1 << b for b in range(10) if row[int((BIT_W * b + BIT_W / 2) * w / INDEX_W)].mean() > 128)


def expected_number(t_s: float, offset: int = 0) -> int:
    """The frame on screen at t in the index clip: the last with PTS <= t (t rounded as the README does)."""
    return math.floor(round(t_s * RATE, 6)) + offset


def index_clip(path: Path, seconds: float = 12.0, gop: int = 300) -> Path:
    """A 29.97 fps H.264 MP4 with a long GOP and B-frames; frame N shows N in binary (see module doc)."""
    bits = f"geq=lum='255*mod(floor(N/pow(2\\,floor(X/{BIT_W})))\\,2)*lt(Y\\,{BITS_H})':cb=128:cr=128"
    source = f"color=c=black:s={INDEX_W}x{INDEX_H}:r={FPS}:d={seconds},format=yuv420p,{bits}"
    _ffmpeg("-f", "lavfi", "-i", source,
            "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-bf", "3", "-pix_fmt", "yuv420p",
            str(path))  # fmt: skip
    return path


def cut_faststart(path: Path, seconds: float = 8.0, keep: float = 0.5) -> Path:
    """An H.264 MP4 with its index (moov) first, cut to ``keep`` of its bytes: the header still promises
    ``seconds`` of video, only about ``keep`` of it decodes (an interrupted copy of a streaming file)."""
    whole = path.with_name(f"whole-{path.name}")
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=160x90:r=25:d={seconds}", "-c:v", "libx264", "-preset",
            "ultrafast", "-g", "25", "-movflags", "+faststart", str(whole))  # fmt: skip
    path.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * keep)])
    return path


def coloured_part(path: Path, colour: str, seconds: float, extra: tuple[str, ...] = ()) -> Path:
    """A plain-colour H.264 part with a tone, as a TS recording (each part's timestamps start anew)."""
    _ffmpeg("-f", "lavfi", "-i", f"color=c={colour}:s=160x90:r={FPS}:d={seconds}",
            "-f", "lavfi", "-i", f"sine=f=440:d={seconds}", "-shortest",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac", *extra,
            "-f", "mpegts", str(path))  # fmt: skip
    return path


def joined_ts(folder: Path) -> Path:
    """Three TS recordings joined with ``cat``: green 0-2 s, red ("the ad") 2-4 s, green 4-6 s."""
    parts = [coloured_part(folder / f"part{i}.ts", c, 2.0) for i, c in enumerate(("green", "red", "green"))]
    joined = folder / "joined.ts"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    return joined


def wrapped_ts(folder: Path) -> Path:
    """A TS recording whose 33-bit PTS wraps 1 s in: it starts 1 s before 2**33 / 90 kHz."""
    offset = ("-output_ts_offset", f"{2**33 / 90000 - 1.0:.3f}")
    return coloured_part(folder / "wrap.ts", "green", 3.0, offset)


def interlaced_576i(folder: Path) -> Path:
    """A 720x576 (16:15 pixels) interlaced MPEG-2 TS: green 0-2 s then red 2-4 s, with detail in each."""
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=720x576:r=50:d=4,format=yuv420p",
            "-vf", "drawbox=c=green@0.7:t=fill:enable='lt(t,2)',drawbox=c=red@0.7:t=fill:enable='gte(t,2)',"
                   "setsar=16/15,interlace=scan=tff",
            "-c:v", "mpeg2video", "-b:v", "4M", "-flags", "+ilme+ildct", "-top", "1", "-f", "mpegts",
            str(folder / "576i.ts"))  # fmt: skip
    return folder / "576i.ts"


def field_coloured_576i(folder: Path, scan: str) -> Path:
    """Interlaced MPEG-2 whose first field in time (``scan`` tff: top, bff: bottom) is green and whose second
    is red in every frame: reading the wrong field shows red."""
    path = folder / f"fields_{scan}.ts"
    _ffmpeg("-f", "lavfi", "-i", "color=c=green:s=720x576:r=50:d=2,format=yuv420p",
            "-vf", f"drawbox=c=red:t=fill:enable='eq(mod(n\\,2)\\,1)',interlace=scan={scan}",
            "-c:v", "mpeg2video", "-b:v", "6M", "-flags", "+ilme+ildct",
            "-top", "1" if scan == "tff" else "0",
            "-f", "mpegts", str(path))  # fmt: skip
    return path
