"""Jobs started from the video report: an occlusion map of one frame (gpu queue) and a rendered video with
the out segments cut, or only them (cpu queue); plus the download of a finished render."""

from dataclasses import asdict

from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from webapp import report_images
from webapp.media import ranged_file_response
from webapp.media_layout import media_path, render_file
from webapp.models import Job
from webapp.report_data import params_from_query
from webapp.views.reports import frame_index_or_404, report_data_or_404, visible_run_or_404


def job_payload(job: Job) -> dict:
    return {"job_id": job.pk, "status": job.status, "progress": job.progress, "stage": job.stage,
            "url": f"/jobs/{job.pk}/"}  # fmt: skip


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
