"""Segment exports over HTTP: the report's links and the API answer with the bytes ``scoring.markers`` writes
(the command line writes the same), named so a player finds them beside the video."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from scoring.markers import FORMATS, MarkerSource, marker_format, write_markers

EXPORT_MEDIA_TYPES = sorted({f.media_type for f in FORMATS.values()})


def marker_source(run, **about) -> MarkerSource:
    """What the marker files say about the run's video: its rate, name and start timecode."""
    video = run.video
    return MarkerSource(
        fps=video.fps or 25.0,
        title=video.title,
        clip_name=video.original_name or video.title,
        start_timecode=video.start_timecode or None,
        duration_s=video.duration_s,
        about={"run": run.pk, "reviewed": run.is_reviewed, **about},
    )


def export_response(
    run, fmt: str, keep: str = "in", segments: Sequence | None = None, **about
) -> HttpResponse:
    """The run's segments (``segments``, else the reviewed ones when present, else the machine's) in format
    ``fmt`` as a download. Raises ValueError for an unknown format or ``keep``, or a malformed start
    timecode."""
    chosen = marker_format(fmt)
    source = marker_source(run, **about)
    body = write_markers(chosen.name, run.final_segments() if segments is None else segments, source, keep)
    response = HttpResponse(body, content_type=f"{chosen.media_type}; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, chosen.filename(source, keep))
    return response
