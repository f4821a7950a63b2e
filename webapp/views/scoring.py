"""Scoring pages: score one video (video page) or many (library) against chosen model versions, the list of
runs, and one run's page (live progress, then a score timeline and the segment table)."""

import numpy as np
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp import charts
from webapp.models import ScoringRun, Video
from webapp.training_forms import ScoreForm
from webapp.views.reports import visible_run_or_404

RUNS_PER_PAGE = 50


@require_POST
def score_start(request):
    """Queue one scoring run per chosen video; one video goes to its run page, several to the runs list."""
    form = ScoreForm(request.POST, owner=scoring_owner(request))
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label or field if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect_back(request, "run_list")
    runs = [
        ScoringRun.start(video, form.cleaned_data["models"], request.user, form.temporal_params(),
                         form.sampling_fps())
        for video in form.cleaned_data["videos"]
    ]  # fmt: skip
    if len(runs) == 1:
        return redirect("run_detail", run_id=runs[0].pk)
    messages.success(request, f"Queued {len(runs)} scoring runs.")
    return redirect("run_list")


def scoring_owner(request):
    """Whose videos and models the form may use: staff score any user's video with that user's models."""
    if request.user.is_staff:
        ids = [v for v in request.POST.getlist("videos") if v.isdigit()]
        video = Video.objects.filter(pk__in=ids).select_related("owner").first()
        if video is not None:
            return video.owner
    return request.user


def redirect_back(request, fallback: str):
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(fallback)


def run_list(request):
    runs = ScoringRun.objects.visible_to(request.user).select_related("video", "job", "owner")
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "scoring/run_list.html", {"page": page})


def run_detail(request, run_id: int):
    run = visible_run_or_404(request, run_id)
    segments = list(run.segments.all())
    context = {
        "run": run,
        "job": run.job,
        "segments": segments,
        "timeline_json": timeline_figure(run, segments)
        if run.status == ScoringRun.Status.SUCCEEDED
        else None,
    }
    return render(request, "scoring/run_detail.html", context)


def timeline_figure(run: ScoringRun, segments) -> str | None:
    """The score timeline (issue 6's builder), threshold at 1.0 and out segments shaded; None without data."""
    try:
        arrays = run.load_arrays()
    except (OSError, ValueError):
        return None
    colours = [
        m.get("colour") or charts.PALETTE[k % len(charts.PALETTE)] for k, m in enumerate(run.model_versions)
    ]
    out = [charts.Shading(s.start_s, s.end_s) for s in segments if s.label == "out"]
    fig = charts.score_timeline(
        arrays["timestamps_s"],
        np.atleast_2d(arrays["scores"]),
        [str(name) for name in arrays["categories"]],
        out,
        smoothed=arrays["smoothed"],
        colours=colours,
    )
    return fig.to_json()
