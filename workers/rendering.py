"""Bodies of the report's jobs: the occlusion map of one frame, and a video cut to its in (or out) segments.

Rendering (``scoring.render``) decodes the source through the same layer as scoring, so the kept segments
are cut on the timeline the segments were found on (joined TS, interlaced, rotated, odd-sized sources), and
the ``ffmpeg`` command encodes them back to back.
"""

import shutil

from scoring.files import replacing
from scoring.frames import VideoDecodeError
from scoring.render import render_ranges
from webapp.media_layout import media_path, render_file
from webapp.models import ScoringRun, TrainedModel
from webapp.models.videos import decode_limits
from webapp.report_data import RunData
from workers.jobs import InputError


def load_run_data(job) -> RunData:
    run = ScoringRun.objects.select_related("video").filter(pk=job.params.get("run_id")).first()
    if run is None or run.status != ScoringRun.Status.SUCCEEDED:
        raise InputError("The scoring run was deleted (or has no scores) before this job could run.")
    try:
        return RunData.load(run)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"The scores of run {run.pk} cannot be read: {exc}") from exc


def occlusion_work(job, report) -> dict:
    """params: run_id, index (frame), model_index (which of the run's models explains the frame)."""
    from webapp import report_images

    data = load_run_data(job)
    index, k = int(job.params["index"]), int(job.params["model_index"])
    if not 0 <= index < len(data.timestamps_s) or not 0 <= k < len(data.categories):
        raise InputError("No such frame or model in this run.")
    model = TrainedModel.objects.filter(pk=data.run.model_versions[k]["model_id"]).first()
    if model is None or not model.is_ready:
        raise InputError("That model version was deleted.")
    report(0.0, "Loading the model", force=True)
    trained = model.load()
    frameset = data.frameset()
    frames = (
        frameset.load().frames
        if frameset is not None and frameset.n_frames == len(data.timestamps_s)
        else None
    )
    t_s = float(data.timestamps_s[index])
    path = report_images.render_occlusion(
        data.run, trained, frames, index, t_s, k, lambda f: report(f, "Occluding patches")
    )
    return {"image_url": job.params.get("image_url", ""), "file": path.name, "t_s": t_s}


def kept_ranges(data: RunData, job) -> list[tuple[float, float]]:
    from scoring.segments import TemporalParams

    try:
        params = TemporalParams(**job.params.get("temporal_params", {}))
    except (TypeError, ValueError) as exc:
        raise InputError(f"Invalid smoothing parameters: {exc}") from exc
    return data.kept_ranges(params, job.params.get("keep", "in"))


def ffmpeg_executable() -> str:
    """The system's ffmpeg when there is one, else the static build the imageio-ffmpeg wheel ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise InputError("ffmpeg is not available on this worker.") from exc


def render_work(job, report) -> dict:
    """params: run_id, keep ("in" = cut the out segments, "out" = only them), temporal_params."""
    data = load_run_data(job)
    ranges = kept_ranges(data, job)
    if not ranges:
        raise InputError(f"No {job.params.get('keep', 'in')} segments to keep: nothing to render.")
    source = data.run.video.original_path
    target = media_path(render_file(data.run.pk, job.pk))
    total_s = sum(b - a for a, b in ranges)
    report(0.0, "Rendering", force=True)
    try:
        with replacing(target, suffix=".mp4") as tmp:
            render_ranges(source, tmp, ranges, data.run.video.fps or 25.0, ffmpeg_executable(),
                          lambda fraction: report(fraction, "Rendering"), decode_limits())  # fmt: skip
    except VideoDecodeError as exc:
        raise InputError(f"The video could not be decoded for rendering: {exc}") from exc
    url = f"/runs/{data.run.pk}/renders/{job.pk}.mp4"
    return {"url": url, "segments": len(ranges), "duration_s": total_s, "size_bytes": target.stat().st_size}
