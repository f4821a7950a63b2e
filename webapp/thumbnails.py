"""Frame thumbnails for the frame browser: decoded on demand with scoring.frames and cached on disk.

Cache: ``MEDIA_ROOT/frames/<video id>/thumbs/<t_ms>_w<width>.jpg`` (deleted with the video). The browser asks
for a grid of frames sampled at the training rate; a cache miss decodes the next ``BATCH`` sample times in one
pass (one seek, one decoder) and caches them all, so a grid of 60 frames costs a handful of decodes.
"""

import logging
from pathlib import Path

from webapp.models import Video
from webapp.models.videos import decode_limits

logger = logging.getLogger(__name__)

THUMB_WIDTH = 192
BATCH = 12


def thumbnail_path(video: Video, t_ms: int, width: int = THUMB_WIDTH) -> Path:
    return video.frames_directory / "thumbs" / f"{int(t_ms)}_w{int(width)}.jpg"


def frame_thumbnail(video: Video, t_ms: int, sample_fps: float | None = None) -> Path | None:
    """Path of the cached JPEG of the frame at ``t_ms``; None when that frame does not decode.

    With ``sample_fps`` the frames at t_ms + k * 1000 / sample_fps (k < BATCH) are made in the same pass.
    """
    path = thumbnail_path(video, t_ms)
    if path.is_file():
        return path
    from scoring.frames import VideoDecodeError

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if sample_fps:
            cache_batch(video, t_ms, sample_fps)
        if not path.is_file():
            cache_single(video, t_ms)
    except VideoDecodeError:
        logger.info("frame at %s ms of video %s does not decode", t_ms, video.pk)
        return None
    return path


def cache_single(video: Video, t_ms: int) -> None:
    from scoring.files import write_jpeg
    from scoring.frames import read_frame_at

    frame = read_frame_at(  # (H, W, 3) RGB
        video.original_path, t_ms / 1000.0, max_width=THUMB_WIDTH, past_end="last", limits=decode_limits()
    )
    write_jpeg(frame, thumbnail_path(video, t_ms))


def cache_batch(video: Video, t_ms: int, sample_fps: float) -> None:
    """Decode the next BATCH sample times from t_ms in one pass and cache each under its own time."""
    from scoring.files import write_jpeg
    from scoring.frames import SamplingSpec, extract_frames

    duration_ms = round((video.duration_s or 0) * 1000)
    targets = [t_ms + round(k * 1000 / sample_fps) for k in range(BATCH)]
    targets = [t for t in targets if t <= duration_ms]
    height = max(1, round(THUMB_WIDTH * (video.height or 9) / (video.width or 16)))
    spec = SamplingSpec(fps=sample_fps, height=height, width=THUMB_WIDTH)
    end_s = (targets[-1] + 500 / sample_fps) / 1000
    frameset = extract_frames(
        video.original_path, spec, start_s=t_ms / 1000, end_s=end_s, limits=decode_limits()
    )
    times_ms = [round(t * 1000) for t in frameset.timestamps_s]
    for target in targets:
        # The sampler keeps the first frame at or after each target time: take the nearest one kept.
        index = min(range(len(times_ms)), key=lambda i: abs(times_ms[i] - target))
        if abs(times_ms[index] - target) <= 1000 / sample_fps:
            write_jpeg(frameset.frames[index], thumbnail_path(video, target))
