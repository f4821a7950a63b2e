"""Scoring a video against one or more model versions as a job: frames, per-frame scores, segments.

Stages: "Loading models", "Extracting frames" (0-30 %), "Scoring" (30-95 %), "Saving".
"""

from django.conf import settings

from webapp.models import ScoringRun, TrainedModel
from workers.framesets import ensure_frameset, sampling_spec
from workers.jobs import InputError

EXTRACT_SHARE = 0.30
SCORE_END = 0.95


def load_run(job) -> ScoringRun:
    run = ScoringRun.objects.select_related("video").filter(pk=job.params.get("run_id")).first()
    if run is None:
        raise InputError("The video (or this scoring run) was deleted before it could be scored.")
    return run


def run_models(run: ScoringRun) -> list[TrainedModel]:
    """The run's model versions in the order chosen; a clear error when one was deleted or is not ready."""
    by_id = {m.pk: m for m in run.trained_models.select_related("category")}
    models = []
    for snapshot in run.model_versions:
        model = by_id.get(snapshot["model_id"])
        label = f"{snapshot['category']} v{snapshot['version']}"
        if model is None:
            raise InputError(f"The model {label} was deleted (or its category was) before scoring could run.")
        if not model.is_ready:
            raise InputError(f"The model {label} is {model.status}, not ready.")
        models.append(model)
    if not models:
        raise InputError("This scoring run has no model to score with.")
    return models


def load_trained(models: list[TrainedModel]) -> list:
    from scoring.checkpoint import CheckpointError
    from scoring.device import choose_device

    device = choose_device(settings.OFFSIDE_DEVICE or None)
    loaded = []
    for model in models:
        try:
            loaded.append(model.load(device))
        except CheckpointError as exc:
            raise InputError(f"The weights of {model.label} cannot be read: {exc}") from exc
    return loaded


def temporal_params(run: ScoringRun):
    from scoring.segments import TemporalParams

    try:
        return TemporalParams(**run.temporal_params)
    except (TypeError, ValueError) as exc:
        raise InputError(f"Invalid smoothing parameters: {exc}") from exc


def score_run(run: ScoringRun, report) -> None:
    from scoring.pipeline import score_frames

    report(0.0, "Loading models", force=True)
    trained = load_trained(run_models(run))
    params = temporal_params(run)
    spec = sampling_spec(run.sampling.get("fps"), run.sampling["height"], run.sampling["width"])
    row = ensure_frameset(run.video, spec, lambda f: report(EXTRACT_SHARE * f, "Extracting frames"))
    report(EXTRACT_SHARE, "Scoring", force=True)
    on_progress = lambda f: report(EXTRACT_SHARE + (SCORE_END - EXTRACT_SHARE) * f, "Scoring")  # noqa: E731
    result = score_frames(row.load(), trained, params, on_progress=on_progress)
    report(SCORE_END, "Saving", force=True)
    if not ScoringRun.objects.filter(pk=run.pk).exists():  # the video (and so the run) was deleted meanwhile
        raise InputError("The video was deleted while it was being scored; nothing was saved.")
    run.save_result(result)


def score_video_work(job, report) -> dict:
    """Body of score_video_task: params ``run_id`` (a queued ScoringRun row)."""
    run = load_run(job)
    score_run(run, report)
    summary = run.summary
    return {
        "run_id": run.pk, "video_id": run.video_id, "frames": run.n_frames,
        "segments": summary.get("segments"),
        "out_segments": summary.get("out_segments"), "out_fraction": summary.get("out_fraction"),
        "url": job.params.get("page_url", ""),
    }  # fmt: skip
