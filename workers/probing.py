"""Probing an uploaded video: stream facts, a poster, a thumbnail strip and the preview store pages read, or
a clear failure reason; and the job that makes the preview store of a video probed before it existed."""

import logging
from pathlib import Path

from scoring.files import write_jpeg
from webapp.media_layout import frames_dir, media_path, remove
from webapp.models import Video
from webapp.models.videos import decode_limits
from webapp.previews import preview_rate
from workers.jobs import InputError, job_video

logger = logging.getLogger(__name__)

POSTER_MAX_WIDTH = 480
STRIP_COUNT = 10
STRIP_HEIGHT = 72

# Leading bytes of containers we recognise: a file that starts like one but cannot be read is truncated or
# damaged, anything else is not a video at all.
CONTAINER_SIGNATURES = (
    (4, b"ftyp", "MP4/QuickTime"),
    (4, b"moov", "QuickTime"),
    (4, b"mdat", "QuickTime"),
    (4, b"wide", "QuickTime"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"RIFF", "AVI"),
    (0, b"\x00\x00\x01\xba", "MPEG program stream"),
    (0, b"FLV", "Flash video"),
    (0, b"OggS", "Ogg"),
    (0, b"\x30\x26\xb2\x75", "Windows Media"),
    (0, b"GIF8", "GIF"),
)


def recognised_container(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(16)
    for offset, magic, name in CONTAINER_SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    if len(head) >= 1 and head[0] == 0x47 and path.stat().st_size >= 188:
        with path.open("rb") as handle:
            handle.seek(188)
            if handle.read(1) == b"\x47":
                return "MPEG transport stream"
    return None


def unreadable_reason(path: Path, error: Exception) -> str:
    """The reason shown to the user for a decoder failure: empty, not a video, truncated, undecodable, audio
    only, a codec this server cannot decode, or a limit (the last three say so themselves)."""
    from scoring.frames import NoFrameDecodedError, NoVideoStreamError, UnsupportedCodecError, VideoLimitError

    if isinstance(error, NoVideoStreamError):
        return "Audio only: no video stream in this file (a cover picture is not a video)."
    if isinstance(error, UnsupportedCodecError | VideoLimitError):
        text = str(error).split(": ", 1)[-1]  # without the server's path
        return text[0].upper() + text[1:] + "."
    if not path.exists():
        return "The uploaded file is missing from storage."
    if path.stat().st_size == 0:
        return "The file is empty (0 bytes)."
    container = recognised_container(path)
    if isinstance(error, NoFrameDecodedError):
        kind = f"{container} file" if container else "file"
        codec = getattr(error, "codec", None)
        what = f"the {codec} stream" if codec else "the stream"
        return (
            f"No frame of this {kind} could be decoded: {what} is damaged or its codec is not supported here."
        )
    if container is None:
        return "Not a video: the file's content is not a video container this server can read."
    return (
        f"The file looks like {container} but cannot be read: it is truncated or damaged "
        "(an interrupted copy or download?)."
    )


def make_poster(video: Video, duration_s: float) -> str:
    from scoring.frames import read_frame_at

    t_s = min(1.0, duration_s * 0.1)
    frame = read_frame_at(
        video.original_path, t_s, max_width=POSTER_MAX_WIDTH, past_end="last", limits=decode_limits()
    )
    relative = f"{video.directory_relative}/poster.jpg"
    write_jpeg(frame, video.directory / "poster.jpg")
    return relative


def make_strip(video: Video, duration_s: float) -> str:
    from scoring.frames import thumbnail_strip

    limits = decode_limits()
    strip = thumbnail_strip(video.original_path, STRIP_COUNT, STRIP_HEIGHT, duration_s, limits=limits)
    relative = f"{video.directory_relative}/strip.jpg"
    write_jpeg(strip, video.directory / "strip.jpg")
    return relative


def probe_video_work(job, report) -> dict:
    """The body of probe_video_task: probe, render poster and strip, mark the video ready. An unusable file
    raises ``InputError`` with the reason the video then shows (``run_job`` fails the video with its job)."""
    video = job_video(job, "The video was deleted before it could be processed.")
    report(0.05, "Reading the video", force=True)
    info, poster, strip = probe_and_render(video, report)
    video.mark_ready(info, poster, strip)
    if info.warning:
        logger.warning("video %s: %s", video.pk, info.warning)
    report(1.0, "Ready", force=True)
    return {
        "video_id": video.pk, "duration_s": info.duration_s, "fps": info.fps, "frame_count": info.frame_count,
        "width": info.width, "height": info.height, "codec": info.codec, "rotation_deg": info.rotation_deg,
        "interlaced": info.interlaced, "discontinuities": info.discontinuities,
        "start_timecode": info.start_timecode, "warning": info.warning,
    }  # fmt: skip


def probe_and_render(video: Video, report):
    """Probe (writing the preview store in the same decoding pass), then poster and strip."""
    from scoring.frames import NoFrameDecodedError, VideoDecodeError, probe_video
    from scoring.previews import writing_previews

    path = video.original_path
    try:
        with writing_previews(video.previews_directory, *preview_rate()) as previews:
            info = probe_video(path, limits=decode_limits(), on_frame=previews.offer)
            if info.frame_count < 1 or info.duration_s <= 0:
                raise NoFrameDecodedError("no frame could be decoded", codec=info.codec)
        remove_legacy_thumbnails(video)
        report(0.6, "Making the poster image")
        poster = make_poster(video, info.duration_s)
        report(0.75, "Making the thumbnail strip")
        strip = make_strip(video, info.duration_s)
    except VideoDecodeError as exc:
        raise InputError(unreadable_reason(path, exc)) from exc
    return info, poster, strip


def remove_legacy_thumbnails(video: Video) -> None:
    """Frames an earlier version decoded in requests (``frames/<video>/thumbs/``): the store replaces them."""
    remove(media_path(f"{frames_dir(video.pk)}/thumbs"))


def make_previews_work(job, report) -> dict:
    """The body of make_previews_task: the preview store of a video probed before the store existed (or
    whose store was lost), in one decoding pass on the worker."""
    from scoring.frames import VideoDecodeError
    from scoring.previews import make_previews

    video = job_video(job, "The video was deleted before its frame previews could be made.")
    report(0.0, "Making frame previews", force=True)
    fps, max_frames = preview_rate()
    try:
        index = make_previews(
            video.original_path,
            video.previews_directory,
            fps,
            max_frames,
            limits=decode_limits(),
            on_progress=lambda fraction: report(fraction, "Making frame previews"),
        )
    except VideoDecodeError as exc:
        raise InputError(unreadable_reason(video.original_path, exc)) from exc
    remove_legacy_thumbnails(video)
    report(1.0, "Frame previews ready", force=True)
    return {"video_id": video.pk, "previews": len(index), "fps": index.fps, "width": index.width}
