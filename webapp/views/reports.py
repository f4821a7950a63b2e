"""Interactive reports: one scoring run (video report), one model version (model report), and the category
overview. Figures come from ``webapp.charts``; pictures from ``webapp.report_images``; only the owner (or
staff) sees anything, everyone else gets 404."""

from dataclasses import asdict

import numpy as np
from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from scoring import markers
from scoring.latent import interpolation, prior_samples
from scoring.review import ReviewedSegment
from scoring.segments import format_timecode
from webapp import charts, exports, model_analysis, report_images
from webapp.access import visible_or_404
from webapp.models import Category, Job, ScoringRun, TrainedModel
from webapp.previews import not_ready_response, video_previews
from webapp.report_data import (
    RunData,
    drift_warnings,
    full_arrays,
    histogram_figure,
    params_from_query,
    plotly_json,
)
from webapp.report_data import timeline_figure as run_timeline_figure


def visible_run_or_404(request, run_id: int) -> ScoringRun:
    runs = ScoringRun.objects.select_related("video", "job", "owner")
    return visible_or_404(runs, request.user, run_id, "scoring run")


def report_data_or_404(request, run_id: int) -> RunData:
    run = visible_run_or_404(request, run_id)
    if run.status != ScoringRun.Status.SUCCEEDED or not run.arrays_path:
        raise Http404("This run has no scores yet.")
    try:
        return RunData.load(run)
    except (OSError, ValueError, KeyError) as exc:
        raise Http404("The scores of this run are missing from storage.") from exc


def visible_model_or_404(request, model_id: int) -> TrainedModel:
    model = visible_or_404(TrainedModel.objects.select_related("category"), request.user, model_id, "model")
    if not model.is_ready:  # reports exist for ready versions only
        raise Http404("No such model.")
    return model


# --- video report -------------------------------------------------------------------------------------------


@require_GET
def video_report(request, run_id: int):
    data = report_data_or_404(request, run_id)
    run = data.run
    segments = run.final_segments()
    models = list(run.trained_models.all())
    context = {
        "run": run,
        "video": run.video,
        "segments": segments,
        "params": asdict(data.params),
        "categories": list(zip(data.categories, data.colours(), strict=True)),
        "timeline_json": plotly_json(run_timeline_figure(data, segments)),
        "histogram_json": plotly_json(histogram_figure(data, models)) if models else None,
        "drift": drift_warnings(data, segments),
        "review_segments": [ReviewedSegment.of(s).to_dict() for s in segments],
        "marker_formats": [(name, f.title) for name, f in markers.FORMATS.items()],
        "renders": Job.objects.filter(kind=Job.Kind.RENDER, params__run_id=run.pk).order_by("-pk")[:5],
    }
    return render(request, "reports/video_report.html", context)


@require_GET
@gzip_page
def video_report_data(request, run_id: int):
    """The full per-frame arrays (base64 typed arrays) for zooming and the what-if control."""
    return JsonResponse(full_arrays(report_data_or_404(request, run_id)))


@require_GET
def segments_export(request, run_id: int, fmt: str):
    """The run's segments in a marker format (``scoring.markers.FORMATS``; "edl" is CMX 3600): the reviewed
    segments when there are any, else the machine's; with what-if parameters in the query, the segments those
    parameters give (decided by the same code as the scoring job)."""
    if fmt not in markers.FORMATS and fmt not in markers.ALIASES:
        raise Http404("Unknown export format.")
    data = report_data_or_404(request, run_id)
    try:
        params = params_from_query(request.GET, data.params)
    except (TypeError, ValueError) as exc:
        return HttpResponseBadRequest(f"Invalid parameters: {exc}")
    segments = None if params == data.params else data.decide(params)[1]
    keep = request.GET.get("keep", "in")
    if keep not in ("in", "out"):
        return HttpResponseBadRequest("keep must be 'in' or 'out'.")
    try:
        return exports.export_response(
            data.run, fmt, keep, segments, categories=data.categories, params=asdict(params)
        )
    except ValueError as exc:
        return HttpResponseBadRequest(f"Cannot write {fmt}: {exc}")


def frame_index_or_404(data: RunData, index: int, model_index: str | None) -> int:
    if not 0 <= index < len(data.timestamps_s):
        raise Http404("No such frame.")
    if model_index in (None, ""):
        return int(np.argmin(data.scores[:, index]))  # the category the frame looks most like
    try:
        k = int(model_index)
    except ValueError as exc:
        raise Http404("No such model.") from exc
    if not 0 <= k < len(data.categories):
        raise Http404("No such model.")
    return k


MODEL_GONE = (
    "The model version of this run was deleted: its reconstructions, error maps and occlusion are gone."
)


def run_model_row(data: RunData, k: int) -> TrainedModel | None:
    """The run's k-th model version, or None once it was deleted (or is no longer usable)."""
    model = TrainedModel.objects.filter(pk=data.run.model_versions[k]["model_id"]).first()
    return model if model is not None and model.is_ready else None


def run_model(data: RunData, k: int):
    """The loaded network of the run's k-th model version (404 once that version was deleted)."""
    model = run_model_row(data, k)
    if model is None:
        raise Http404(MODEL_GONE)
    return model.load()


def frameset_frames(data: RunData):
    frameset = data.frameset()
    if frameset is None or frameset.n_frames != len(data.timestamps_s):
        return None
    return frameset.load().frames


@require_GET
def frame_image(request, run_id: int, index: int, kind: str):
    """frame / recon / error PNG of one scored frame, made on first request from the video's preview store
    (never a decoded video frame; see ``webapp.report_images``) and cached; 503 while the store is being
    made. Occlusion PNGs are made by a job and served here once it has finished."""
    if kind not in report_images.KINDS:
        raise Http404("Unknown image.")
    data = report_data_or_404(request, run_id)
    k = frame_index_or_404(data, index, request.GET.get("m"))
    path = report_images.heatmap_path(data.run, index, k, kind)
    if kind == "occlusion":
        if not path.is_file():
            raise Http404("Compute the occlusion map first.")
    elif report_images.cached_frame_set(data.run, index, k) is None:
        previews = video_previews(data.run.video, requested_by=request.user)
        try:
            preview = previews.frame(float(data.timestamps_s[index]))
        except OSError as exc:
            raise Http404("The frame previews of this video are damaged; process it again.") from exc
        if preview is None:
            return not_ready_response(previews.message)
        limit = settings.OFFSIDE_REPORT_IMAGE_CACHE_FILES
        model = run_model_row(data, k)
        if model is None and kind != "frame":  # the frame itself needs no model: it stays viewable
            raise Http404(MODEL_GONE)
        trained = model.load() if model is not None else None
        path = report_images.render_frame_set(
            data.run, trained, frameset_frames(data), index, preview, k, limit
        )[kind]
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def frame_info(request, run_id: int, index: int):
    """Time, timecode and per-category scores of one frame, for the panel beside the pictures."""
    data = report_data_or_404(request, run_id)
    k = frame_index_or_404(data, index, request.GET.get("m"))
    t_s = float(data.timestamps_s[index])
    previews = video_previews(data.run.video, requested_by=request.user)
    return JsonResponse({
        "index": index, "t_s": t_s, "timecode": format_timecode(t_s), "model_index": k,
        "scores": {name: float(data.scores[j, index]) for j, name in enumerate(data.categories)},
        "occlusion_ready": report_images.heatmap_path(data.run, index, k, "occlusion").is_file(),
        # False once the run's model version was deleted: only the frame itself can still be shown.
        "model_available": run_model_row(data, k) is not None, "model_message": MODEL_GONE,
        # The pictures come from the video's preview store; until the worker has made it, the page follows
        # ``previews_job_id`` and shows ``previews_message``.
        "images_ready": previews.ready, "previews_message": previews.message,
        "previews_job_id": previews.job.pk if previews.job is not None and not previews.ready else None,
    })  # fmt: skip


# --- model report -------------------------------------------------------------------------------------------


def model_figures(model: TrainedModel, analysis: dict) -> dict:
    """Every figure of the model report, as JSON strings (None where the data does not exist)."""
    cal = model.calibration
    epochs = [p for p in model.curves.get("epochs", []) if p.get("fold", 0) == 0]
    history = model.curves.get("history") or epochs
    figures = {
        "curves": charts.training_curves(history, model.curves.get("best_epoch")) if history else None,
        "calibration": charts.calibration_histogram(
            model.calibration_losses(), model.threshold, cal.get("negative_losses"), cal.get("f1_threshold"),
            caption=charts.threshold_caption(cal, model.threshold, model.calibration_losses()),
        ),
        "roc": charts.roc_figure(cal["roc"]["x"], cal["roc"]["y"], cal.get("auroc")) if cal.get("roc")
        else None,
        "pr": charts.pr_figure(cal["pr"]["x"], cal["pr"]["y"], cal.get("best_f1")) if cal.get("pr") else None,
        "boxes": charts.clip_loss_boxes(
            [(c["name"], c["kind"], c["losses"]) for c in analysis["clips"]], model.threshold
        ) if analysis["clips"] else None,
        "latent": charts.latent_scatter(
            np.asarray(analysis["mu"]["reference"]), np.asarray(analysis["mu"]["negative"])
        ) if analysis["mu"]["reference"] else None,
    }  # fmt: skip
    return {name: (plotly_json(fig.to_plotly_json()) if fig else None) for name, fig in figures.items()}


@require_GET
def model_report(request, model_id: int):
    model = visible_model_or_404(request, model_id)
    try:
        analysis = model_analysis.analysis(model)
    except (OSError, ValueError) as exc:
        raise Http404(f"The weights of {model.label} cannot be read.") from exc
    context = {
        "model": model,
        "figures": model_figures(model, analysis),
        "has_frames": bool(analysis["clips"]),
    }
    return render(request, "reports/model_report.html", context)


GRIDS = ("samples", "prior", "interpolation")


@require_GET
def model_grid(request, model_id: int, grid: str):
    """Inputs and reconstructions, prior samples, or an interpolation between two reference frames."""
    if grid not in GRIDS:
        raise Http404("Unknown picture.")
    model = visible_model_or_404(request, model_id)
    path = model_analysis.report_dir(model) / f"{grid}.png"
    if not path.is_file():
        trained = model.load()
        png = grid_png(model, trained, grid)
        if png is None:
            raise Http404("No reference frames are stored for this model.")
        report_images.write_atomic(path, png)
    return FileResponse(path.open("rb"), content_type="image/png")


def grid_png(model: TrainedModel, trained, grid: str) -> bytes | None:
    from scoring.heatmaps import encode_png

    if grid == "prior":
        images = prior_samples(trained.model, 16)
        return encode_png(report_images.enlarge(report_images.tile(images, 8), images.shape[2]))
    frames = model_analysis.reference_frames(model, trained)
    if not len(frames):
        return None
    if grid == "samples":
        return report_images.pairs_grid(frames, trained.model)
    images = interpolation(trained.model, frames[0], frames[-1], 10)
    return encode_png(report_images.enlarge(report_images.tile(images, 10), images.shape[2]))


# --- category overview --------------------------------------------------------------------------------------


@require_GET
def category_overview(request):
    models = list(TrainedModel.objects.visible_to(request.user).active().select_related("category"))
    categories = list(Category.objects.visible_to(request.user).filter(clips__is_negative=False).distinct())
    figure = None
    if models and categories:
        rates = model_analysis.overview(models, categories)
        fig = charts.acceptance_matrix([m.label for m in models], [c.name for c in categories], rates)
        figure = plotly_json(fig.to_plotly_json())
    context = {"models": models, "categories": categories, "figure": figure}
    return render(request, "reports/category_overview.html", context)
