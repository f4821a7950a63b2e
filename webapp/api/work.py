"""API: start training and scoring (the pages' forms and model methods), model versions, jobs, results."""

from typing import Literal

from django.http import HttpResponse
from ninja import Path, Query, Router, Status

from scoring import markers
from scoring.review import ReviewError
from webapp import exports
from webapp.api.errors import ApiError, form_error
from webapp.api.library import ERRORS, visible_or_404
from webapp.api.limits import check_rate
from webapp.api.paging import Page, paged
from webapp.api.schemas import (
    ErrorOut,
    FramesOut,
    JobOut,
    ModelOut,
    ReviewedSegmentIO,
    ReviewIn,
    RunOut,
    ScoreIn,
    SegmentOut,
    TrainIn,
)
from webapp.models import Category, Job, ScoringRun, TrainedModel, Video
from webapp.training_forms import ScoreForm, TrainForm

router = Router()
LIMITED = {**ERRORS, 429: ErrorOut}
EXPORT_NAMES = [*markers.FORMATS, *markers.ALIASES]
FMT_HELP = f"one of {', '.join(EXPORT_NAMES)} (edl = cmx3600)"


# --- training and model versions ----------------------------------------------------------------------------


@router.post("/categories/{category_id}/train", response={202: ModelOut, **LIMITED}, tags=["training"])
def start_training(request, category_id: int, body: TrainIn):
    """Queue a new version of the category (rate limited); follow ``job_id`` under /api/jobs/."""
    category = visible_or_404(Category.objects.all(), request.user, category_id, "category")
    check_rate(request.user, "train")
    form = TrainForm({k: v for k, v in body.dict().items() if v is not None}, category=category)
    if not form.is_valid():
        raise form_error(form)
    return Status(202, TrainedModel.start_training(category, request.user, form.config()))


@router.get("/categories/{category_id}/models", response={200: list[ModelOut], **ERRORS}, tags=["training"])
def list_models(request, category_id: int):
    category = visible_or_404(Category.objects.all(), request.user, category_id, "category")
    return category.models.order_by("-version")


@router.get("/models/{model_id}", response={200: ModelOut, **ERRORS}, tags=["training"])
def get_model(request, model_id: int):
    return visible_or_404(TrainedModel.objects.select_related("category"), request.user, model_id, "model")


# --- scoring ------------------------------------------------------------------------------------------------


def chosen_model_ids(request, body: ScoreIn) -> list[int]:
    ids = list(body.model_ids)
    for category_id in body.category_ids:
        category = visible_or_404(Category.objects.all(), request.user, category_id, "category")
        active = TrainedModel.objects.active().filter(category=category).first()
        if active is None:
            raise ApiError(409, f"Category {category.name!r} has no active trained version yet.")
        ids.append(active.pk)
    if not ids:
        raise ApiError(422, "Give model_ids or category_ids to score against.", loc=("body", "model_ids"))
    return ids


@router.post("/runs", response={202: RunOut, **LIMITED, 409: ErrorOut}, tags=["scoring"])
def start_scoring(request, body: ScoreIn):
    """Score a video against model versions (rate limited); follow ``job_id`` under /api/jobs/."""
    video = visible_or_404(Video.objects.all(), request.user, body.video_id, "video")
    if video.status != Video.Status.READY:
        not_ready = f"Video {video.pk} is not ready (status {video.status})"
        raise ApiError(409, f"{not_ready}: only a ready video can be scored.")
    model_ids = chosen_model_ids(request, body)
    check_rate(request.user, "score")
    options = body.dict(exclude={"video_id", "model_ids", "category_ids"}, exclude_none=True)
    form = ScoreForm({**options, "videos": [video.pk], "models": model_ids}, owner=video.owner)
    if not form.is_valid():
        raise form_error(form, {"videos": ("body", "video_id"), "models": ("body", "model_ids")})
    models, fps = form.cleaned_data["models"], form.sampling_fps()
    return Status(202, ScoringRun.start(video, models, request.user, form.temporal_params(), fps))


@router.get("/runs", response={200: list[RunOut], **ERRORS}, tags=["scoring"])
def list_runs(request, response: HttpResponse, page: Query[Page]):
    """Newest first (the model's ordering), ``limit`` at a time: ``X-Total-Count`` and ``Link`` tell more."""
    return paged(request, response, ScoringRun.objects.visible_to(request.user), page)


def visible_run(request, run_id: int) -> ScoringRun:
    return visible_or_404(ScoringRun.objects.select_related("video"), request.user, run_id, "scoring run")


@router.get("/runs/{run_id}", response={200: RunOut, **ERRORS}, tags=["scoring"])
def get_run(request, run_id: int):
    return visible_run(request, run_id)


@router.get("/runs/{run_id}/segments", response={200: list[SegmentOut], **ERRORS}, tags=["results"])
def run_segments(request, run_id: int):
    return visible_run(request, run_id).segments.order_by("index")


@router.get("/runs/{run_id}/review", response={200: list[ReviewedSegmentIO], **ERRORS}, tags=["results"])
def get_review(request, run_id: int):
    """The run's reviewed segments (empty while nobody corrected the machine's)."""
    return visible_run(request, run_id).reviewed_segments


@router.put(
    "/runs/{run_id}/review",
    response={200: list[ReviewedSegmentIO], **ERRORS, 409: ErrorOut},
    tags=["results"],
)
def put_review(request, run_id: int, body: ReviewIn):
    """Replace the run's reviewed segments: they must tile the run's span back to back, each at least a
    frame long (422 says what is wrong). Every export and render then uses them."""
    run = finished_run(request, run_id)
    try:
        return [s.to_dict() for s in run.save_review([s.dict() for s in body.segments])]
    except ReviewError as exc:
        raise ApiError(422, f"Could not save the review: {exc}", loc=("body", "segments")) from exc
    except (OSError, ValueError) as exc:
        raise ApiError(409, "The run's score file is missing or unreadable.") from exc


@router.delete("/runs/{run_id}/review", response={204: None, **ERRORS}, tags=["results"])
def delete_review(request, run_id: int):
    """Back to the machine's segments."""
    visible_run(request, run_id).discard_review()
    return Status(204, None)


def finished_run(request, run_id: int) -> ScoringRun:
    run = visible_run(request, run_id)
    if run.status != ScoringRun.Status.SUCCEEDED:
        raise ApiError(409, f"The run is {run.status}; results exist once it has succeeded.")
    return run


@router.get("/runs/{run_id}/frames", response={200: FramesOut, **ERRORS, 409: ErrorOut}, tags=["results"])
def run_frames(request, run_id: int):
    """Per-frame normalised scores (1.0 = each category's threshold) and the final out decision."""
    try:
        arrays = finished_run(request, run_id).load_arrays()
    except (OSError, ValueError) as exc:
        raise ApiError(409, "The run's score file is missing or unreadable.") from exc
    scores = arrays["scores"].reshape(len(arrays["categories"]), -1)
    return {
        "categories": [str(c) for c in arrays["categories"]],
        "timestamps_s": arrays["timestamps_s"].tolist(),
        "scores": scores.tolist(),
        "out": arrays["out"].astype(bool).tolist() if "out" in arrays else None,
    }


@router.get(
    "/runs/{run_id}/segments.{fmt}",
    response={200: str, **ERRORS, 409: ErrorOut},
    tags=["results"],
    openapi_extra={
        "responses": {
            200: {"content": {t: {"schema": {"type": "string"}} for t in exports.EXPORT_MEDIA_TYPES}}
        }
    },
)
def export_segments(
    request, run_id: int, fmt: str = Path(..., description=FMT_HELP), keep: Literal["in", "out"] = "in"
):
    """Markers for players and editors, from the reviewed segments when there are any, else the machine's:
    ``kodi`` (Kodi/MPlayer EDL, breaks skipped), ``ffmetadata`` (chapters), ``vtt`` (WebVTT cues of the out
    segments), ``otio`` (OpenTimelineIO), ``cmx3600`` (CMX 3600 EDL; ``edl`` is the same; ``keep`` = in|out
    chooses its events), ``csv``, ``json``."""
    if fmt not in EXPORT_NAMES:
        raise ApiError(404, f"Unknown export format; use one of {', '.join(EXPORT_NAMES)}.")
    run = finished_run(request, run_id)
    try:
        return exports.export_response(run, fmt, keep)
    except ValueError as exc:
        raise ApiError(409, f"Cannot write {fmt}: {exc}") from exc


# --- jobs ---------------------------------------------------------------------------------------------------


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, tags=["jobs"])
def get_job(request, job_id: int):
    return visible_or_404(Job.objects.all(), request.user, job_id, "job")


@router.post("/jobs/{job_id}/cancel", response={200: JobOut, **ERRORS}, tags=["jobs"])
def cancel_job(request, job_id: int):
    job = visible_or_404(Job.objects.all(), request.user, job_id, "job")
    if job.status in (Job.Status.QUEUED, Job.Status.RUNNING):
        job.request_cancel()
        job.publish()
    return job
