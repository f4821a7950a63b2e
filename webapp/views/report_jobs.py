"""What the video report changes: the run's reviewed segments (saved or discarded), and jobs: an occlusion
map of one frame (gpu queue) and a rendered video with the out segments cut, or only them (cpu queue); plus
the download of a finished render."""

import json
from dataclasses import asdict

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from scoring.review import ReviewError
from webapp import report_images
from webapp.learning import learn_from_run
from webapp.media import ranged_file_response
from webapp.media_layout import media_path, render_file
from webapp.models import Job, TrainedModel
from webapp.report_data import params_from_query
from webapp.views.reports import frame_index_or_404, report_data_or_404, visible_run_or_404


def job_payload(job: Job) -> dict:
    return {"job_id": job.pk, "status": job.status, "progress": job.progress, "stage": job.stage,
            "url": f"/jobs/{job.pk}/"}  # fmt: skip


@require_http_methods(["POST", "DELETE"])
def run_review(request, run_id: int):
    """POST ``{"segments": [{start_s, end_s, label, category}, ...]}``: save them as the run's reviewed
    segments (every export and render then uses them); DELETE: back to the machine's. 400 names what is
    wrong with a review that does not tile the run."""
    run = report_data_or_404(request, run_id).run
    if request.method == "DELETE":
        run.discard_review()
        return JsonResponse({"reviewed": False})
    try:
        body = json.loads(request.body or b"null")
        reviewed = run.save_review(body.get("segments") if isinstance(body, dict) else None)
    except (ValueError, ReviewError) as exc:  # ValueError: not JSON
        return JsonResponse({"error": f"Could not save the review: {exc}"}, status=400)
    segments = [s.to_dict() for s in reviewed]
    return JsonResponse({"reviewed": True, "reviewed_at": run.reviewed_at.isoformat(), "segments": segments})


@require_POST
def learn(request, run_id: int):
    """The report's "learn" buttons: the run's segments become clips of the category of model ``model`` (an
    index into the run's models), then that version recalibrates or the category retrains (``how``);
    ``negatives`` also turns out ranges into negative clips."""
    data = report_data_or_404(request, run_id)
    try:
        k = int(request.POST.get("model", ""))
        snapshot = data.run.model_versions[k] if k >= 0 else None
        model = TrainedModel.objects.select_related("category").get(pk=snapshot["model_id"])
    except (ValueError, IndexError, TypeError, TrainedModel.DoesNotExist):
        messages.error(request, "That model version no longer exists.")
        return redirect("video_report", run_id=data.run.pk)
    negatives = request.POST.get("negatives") == "1"
    try:
        job, references, negative_clips = learn_from_run(
            data.run, model, request.user, request.POST.get("how"), negatives
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("video_report", run_id=data.run.pk)
    messages.success(
        request,
        f"Added {references} reference and {negative_clips} negative clips to {model.category.name}; "
        f"{job.title.lower()} is queued.",
    )
    return redirect(job.params["page_url"])


@require_POST
def start_occlusion(request, run_id: int, index: int):
    """Queue (or reuse) the occlusion-map job of one frame; answers JSON the page follows over WebSocket."""
    data = report_data_or_404(request, run_id)
    k = frame_index_or_404(data, index, request.POST.get("m"))
    image_url = f"/runs/{data.run.pk}/frames/{index}/occlusion.png?m={k}"
    if report_images.heatmap_path(data.run, index, k, "occlusion").is_file():
        return JsonResponse({"status": "succeeded", "image_url": image_url})
    params = {"run_id": data.run.pk, "index": index, "model_index": k, "image_url": image_url}
    job = Job.objects.active().filter(kind=Job.Kind.HEATMAP, params=params).first()
    if job is None:
        job = Job.start(
            Job.Kind.HEATMAP, request.user, title=f"Occlusion map of frame {index} ({data.categories[k]})",
            params=params, video=data.run.video,
        )  # fmt: skip
    return JsonResponse({**job_payload(job), "image_url": image_url}, status=202)


@require_POST
def start_render(request, run_id: int):
    """Queue a render of the video keeping the "in" segments (out cut) or only the "out" ones."""
    data = report_data_or_404(request, run_id)
    keep = request.POST.get("keep", "in")
    if keep not in ("in", "out"):
        return HttpResponseBadRequest("keep must be 'in' or 'out'")
    try:
        params = params_from_query(request.POST, data.params)
    except (TypeError, ValueError) as exc:
        return HttpResponseBadRequest(f"Invalid parameters: {exc}")
    if not data.kept_ranges(params, keep):  # refused here rather than by a job that would fail
        return JsonResponse({"error": f"No {keep} segments to keep: nothing to render."}, status=400)
    label = "without the out segments" if keep == "in" else "with only the out segments"
    job = Job.start(
        Job.Kind.RENDER, request.user, title=f"Render {data.run.video.title} {label}",
        params={"run_id": data.run.pk, "keep": keep, "temporal_params": asdict(params)}, video=data.run.video,
    )  # fmt: skip
    return JsonResponse(job_payload(job), status=202)


@require_GET
def render_download(request, run_id: int, job_id: int):
    run = visible_run_or_404(request, run_id)
    job = Job.objects.filter(pk=job_id, kind=Job.Kind.RENDER, params__run_id=run.pk).first()
    if job is None or job.status != Job.Status.SUCCEEDED:
        raise Http404("No such render.")
    path = media_path(render_file(run.pk, job.pk))
    if not path.is_file():
        raise Http404("The rendered file is missing from storage.")
    response = ranged_file_response(request, path, "video/mp4")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-{job.params.get("keep")}.mp4"'
    return response
