"""Bodies of the report's jobs: the occlusion map of one frame, and a video cut to its in (or out) segments.

Rendering uses ffmpeg: one ``select``/``aselect`` filter keeps the frames (and audio samples) inside the kept
segments and re-times them, so the result plays the kept segments back to back; ``-progress`` lines drive the
progress bar.
"""

import shutil
import subprocess
from pathlib import Path

from webapp.models import ScoringRun, TrainedModel
from webapp.report_data import RunData
from workers.jobs import InputError

FFMPEG_TIMEOUT_S = 6 * 3600


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
    keep = job.params.get("keep", "in")
    segments = data.run.final_segments() if params == data.params else data.decide(params)[1]
    return [(s.start_s, s.end_s) for s in segments if s.label == keep and s.end_s > s.start_s]


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


def has_audio(path: Path) -> bool:
    # ffmpeg with no output file lists the streams on stderr (and exits non-zero, which is expected here).
    probe = subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    return any("Stream #" in line and "Audio:" in line for line in probe.stderr.splitlines())


def ffmpeg_command(source: Path, target: Path, ranges: list[tuple[float, float]], audio: bool) -> list[str]:
    inside = "+".join(f"between(t,{a:.6f},{b - 1e-6:.6f})" for a, b in ranges)
    command = [ffmpeg_executable(), "-hide_banner", "-nostdin", "-y", "-i", str(source),
               "-vf", f"select='{inside}',setpts=N/FRAME_RATE/TB"]  # fmt: skip
    if audio:
        command += ["-af", f"aselect='{inside}',asetpts=N/SR/TB", "-c:a", "aac"]
    else:
        command += ["-an"]
    return command + ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                      "-progress", "pipe:1", "-nostats", str(target)]  # fmt: skip


def run_ffmpeg(command: list[str], total_s: float, report) -> None:
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            if line.startswith("out_time_us=") and line.strip()[12:].isdigit():
                report(min(int(line.strip()[12:]) / 1e6 / max(total_s, 1e-6), 0.99), "Rendering")
        stderr = process.stderr.read()
        if process.wait(timeout=FFMPEG_TIMEOUT_S) != 0:
            raise RuntimeError(f"ffmpeg failed: {stderr[-1500:]}")


def render_work(job, report) -> dict:
    """params: run_id, keep ("in" = cut the out segments, "out" = only them), temporal_params."""
    data = load_run_data(job)
    ranges = kept_ranges(data, job)
    if not ranges:
        raise InputError(f"No {job.params.get('keep', 'in')} segments to keep: nothing to render.")
    source = data.run.video.original_path
    target = data.run.directory / "renders" / f"{job.pk}.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.tmp.mp4")
    total_s = sum(b - a for a, b in ranges)
    report(0.0, "Rendering", force=True)
    run_ffmpeg(ffmpeg_command(source, tmp, ranges, has_audio(source)), total_s, report)
    tmp.replace(target)
    url = f"/runs/{data.run.pk}/renders/{job.pk}.mp4"
    return {"url": url, "segments": len(ranges), "duration_s": total_s, "size_bytes": target.stat().st_size}
