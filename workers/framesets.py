"""Frame sets for training and scoring: reuse a stored one, or decode the video once and store it."""

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from webapp.models import FrameSet, Video
from webapp.models.videos import decode_limits
from workers.jobs import InputError, job_video


def sampling_spec(fps: float | None, height: int, width: int):
    from scoring.frames import SamplingSpec

    try:
        return SamplingSpec(fps, int(height), int(width))
    except (TypeError, ValueError) as exc:
        raise InputError(f"Invalid sampling parameters: {exc}") from exc


def ensure_frameset(video: Video, spec, on_progress: Callable[[float], None] | None = None) -> FrameSet:
    """The video's frame set at ``spec``, extracted now unless a complete one is already stored."""
    from scoring.frames import VideoDecodeError, extract_frames

    existing = FrameSet.existing(video, spec)
    if existing is not None:
        if on_progress is not None:
            on_progress(1.0)
        return existing
    if not video.is_ready:
        raise InputError(
            f"The video “{video.title}” is {video.status}, not ready: wait until it is processed."
        )
    try:
        frames = extract_frames(video.original_path, spec, on_progress=on_progress, limits=decode_limits())
    except VideoDecodeError as exc:
        raise InputError(f"The video “{video.title}” could not be decoded: {exc}") from exc
    return FrameSet.record(video, spec, frames)


def extract_frames_work(job, report) -> dict:
    """Body of extract_frames_task (cpu queue): params ``video_id``, ``fps``, ``height``, ``width``."""
    video = job_video(job, "The video was deleted before its frames could be extracted.")
    spec = sampling_spec(job.params.get("fps"), job.params.get("height", 54), job.params.get("width", 96))
    report(0.0, "Extracting frames", force=True)
    row = ensure_frameset(video, spec, lambda fraction: report(fraction, "Extracting frames"))
    return {
        "frameset_id": row.pk,
        "spec": row.spec_slug,
        "frames": row.n_frames,
        "corrupt": row.corrupt_frames,
    }


def clip_frames(row: FrameSet, start_s: float, end_s: float | None, source: str):
    """The frames of ``row`` whose timestamps fall in [start_s, end_s), as ``scoring.pipeline.ClipFrames``."""
    from scoring.pipeline import ClipFrames

    frames = row.load()
    times = frames.timestamps_s
    inside = times >= start_s
    if end_s is not None:
        inside &= times < end_s
    return ClipFrames(np.asarray(frames.frames[inside]), times[inside], source)


def ready_clip_frames(clips: Sequence, spec, on_progress: Callable[[float], None]) -> Iterator[tuple]:
    """(clip, its ``ClipFrames``) for each reference clip in turn, ``None`` for the frames when the clip's
    video is not ready; ``on_progress(fraction)`` follows the extraction over all of ``clips`` (0..1)."""
    for index, clip in enumerate(clips):
        if not clip.video.is_ready:
            yield clip, None
            continue

        def on_fraction(fraction, index=index):
            on_progress((index + fraction) / len(clips))

        row = ensure_frameset(clip.video, spec, on_fraction)
        yield clip, clip_frames(row, clip.begin_s, clip.end_s, f"{clip.video.title} ({clip.range_label})")
