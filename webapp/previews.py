"""The pictures of a video that pages show, read from its preview store (``scoring.previews``), never decoded
inside a request.

The probe job writes the store (``frames/<video>/previews/``, deleted with the video). A video probed before
the store existed has none: the first page that wants a picture queues a ``previews`` job (one per probe;
when it failed, the page says why instead of queueing it again) and shows that the pictures are on their way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse

from scoring.previews import PreviewIndex, load_previews
from webapp.models import Job, Video


@dataclass(frozen=True)
class PreviewState:
    """Either ``index`` (the store is complete), or the ``job`` making it (queued, running or failed)."""

    index: PreviewIndex | None
    job: Job | None = None

    @property
    def ready(self) -> bool:
        return self.index is not None

    @property
    def message(self) -> str:
        """What a page says while there is no picture to show."""
        if self.ready:
            return ""
        if self.job is not None and self.job.status == Job.Status.FAILED:
            return f"The frame previews of this video could not be made: {self.job.error} Process it again."
        return "The frame previews of this video are being made on the worker; they appear in a moment."

    def frame(self, t_s: float) -> bytes | None:
        """The stored JPEG nearest ``t_s`` seconds, None while not ready (or when the store is empty)."""
        return self.index.jpeg_at(t_s) if self.index is not None else None


def preview_rate() -> tuple[float, int]:
    """(frames per second, most frames) of a preview store, from settings."""
    return float(settings.OFFSIDE_PREVIEW_FPS), int(settings.OFFSIDE_PREVIEW_MAX_FRAMES)


def video_previews(video: Video, requested_by=None) -> PreviewState:
    """The video's store, queueing the job that makes it when a ready video has none and no job since its
    last probe tried (``requested_by`` owns that job; the video's owner by default)."""
    index = load_previews(video.previews_directory)
    if index is not None or not video.is_ready:
        return PreviewState(index)
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()  # one job, however many requests
        jobs = Job.objects.filter(video=video, kind=Job.Kind.PREVIEWS)
        if video.probed_at is not None:
            jobs = jobs.filter(created_at__gte=video.probed_at)
        job = jobs.order_by("-pk").first()
        # A succeeded job whose store is gone (removed by hand) or a cancelled one: make it again.
        if job is None or job.status in (Job.Status.CANCELLED, Job.Status.SUCCEEDED):
            job = Job.start(
                Job.Kind.PREVIEWS, requested_by or video.owner, title=f"Frame previews of {video.title}",
                params={"video_id": video.pk}, video=video,
            )  # fmt: skip
    return PreviewState(None, job)


def jpeg_response(jpeg: bytes, cache_seconds: int = 86400) -> HttpResponse:
    """A preview JPEG (a few KB, so no Range support is needed)."""
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = f"private, max-age={cache_seconds}"
    return response


def not_ready_response(message: str) -> HttpResponse:
    """503 (try again in a few seconds, never cached) for a picture whose preview store is not there yet."""
    response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response
