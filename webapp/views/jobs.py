"""Home page and job pages: lists with live status, one job's progress, cancel and retry."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.access import visible_or_404
from webapp.models import Job

JOBS_PER_PAGE = 50


def visible_job_or_404(request, job_id: int) -> Job:
    return visible_or_404(Job.objects.all(), request.user, job_id, "job")


def home(request):
    jobs = Job.objects.visible_to(request.user).select_related("owner")
    context = {
        "recent_jobs": jobs[:15],
        "active_count": jobs.active().count(),
        "failed_count": jobs.filter(status=Job.Status.FAILED).count(),
    }
    return render(request, "home.html", context)


def job_list(request):
    jobs = Job.objects.visible_to(request.user).select_related("owner")
    status = request.GET.get("status", "")
    if status in Job.Status.values:
        jobs = jobs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in Job.Kind.values:
        jobs = jobs.filter(kind=kind)
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "kind": kind,
        "statuses": Job.Status.choices,
        "kinds": Job.Kind.choices,
    }
    return render(request, "jobs/list.html", context)


def job_detail(request, job_id: int):
    job = visible_job_or_404(request, job_id)
    return render(request, "jobs/detail.html", {"job": job})


@require_POST
def job_cancel(request, job_id: int):
    job = visible_job_or_404(request, job_id)
    if job.is_finished:
        messages.info(request, f"{job.display_title} has already finished.")
    else:
        job.request_cancel()
        job.publish()
        messages.success(request, f"Cancellation of {job.display_title} requested.")
    return redirect_next(request, job)


@require_POST
def job_retry(request, job_id: int):
    job = visible_job_or_404(request, job_id)
    if job.prepare_retry():
        job.enqueue()
        job.publish()
        messages.success(request, f"{job.display_title} queued again.")
    else:
        messages.error(request, "Only failed or cancelled jobs can be retried.")
    return redirect_next(request, job)


@require_POST
def start_system_check(request):
    job = Job.start(Job.Kind.SYSTEM_CHECK, request.user, title="System check")
    return redirect("job_detail", job_id=job.pk)


def redirect_next(request, job: Job):
    """Go back to the page the button was on, if it is one of ours; else to the job."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("job_detail", job_id=job.pk)
