"""The video library: list (search, sort, pagination), detail with player, media files, delete, re-probe."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from webapp.access import visible_or_404
from webapp.deletion import video_deletion
from webapp.forms import ClipForm
from webapp.media import ranged_file_response
from webapp.media_layout import media_path
from webapp.models import Category, Job, ReferenceClip, Video
from webapp.previews import jpeg_response, not_ready_response, video_previews

VIDEOS_PER_PAGE = 25
SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "title": ("title", "id"),
    "duration": ("-duration_s", "-id"),
    "size": ("-size_bytes", "-id"),
}


def visible_video_or_404(request, video_id: int) -> Video:
    return visible_or_404(Video.objects.select_related("owner"), request.user, video_id, "video")


def library_queryset(request, sort: str, query: str, status: str):
    videos = Video.objects.visible_to(request.user).search(query).with_latest_probe_job()
    if status in Video.Status.values:
        videos = videos.filter(status=status)
    clips = ReferenceClip.objects.select_related("category").only(
        "id", "video_id", "is_negative", "category__id", "category__name", "category__colour"
    )
    return (
        videos.select_related("owner")
        .prefetch_related(Prefetch("clips", queryset=clips))
        .order_by(*SORTS[sort])
    )


def video_list(request):
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    query = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    page = Paginator(library_queryset(request, sort, query, status), VIDEOS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for video in page.object_list:
        video.category_list = list({clip.category.pk: clip.category for clip in video.clips.all()}.values())
    context = {
        "page": page, "sort": sort, "q": query, "status": status, "sorts": list(SORTS),
        "statuses": Video.Status.choices,
        "query_string": urlencode({"q": query, "sort": sort, "status": status}),
    }  # fmt: skip
    return render(request, "videos/list.html", context)


def video_detail(request, video_id: int):
    video = visible_video_or_404(request, video_id)
    clips = video.clips.select_related("category").order_by("category__name", "start_s")
    jobs = Job.objects.filter(video=video).select_related("owner")[:20]
    owner_categories = Category.objects.filter(owner=video.owner_id)
    form = ClipForm(owner=video.owner, video=video, initial=clip_initial(request, owner_categories))
    context = {
        "video": video, "clips": clips, "jobs": jobs, "clip_form": form, "categories": owner_categories,
        "train_fps": settings.OFFSIDE_TRAIN_FPS,
    }  # fmt: skip
    return render(request, "videos/detail.html", context)


def clip_initial(request, categories) -> dict:
    wanted = request.GET.get("category", "")
    if wanted.isdigit() and categories.filter(pk=int(wanted)).exists():
        return {"category": int(wanted)}
    return {}


@require_http_methods(["GET", "POST"])
def video_delete(request, video_id: int):
    video = visible_video_or_404(request, video_id)
    if request.method == "POST":
        title = video.title
        video.delete()  # files and derived data go with it (see remove_video_files)
        messages.success(request, f"Deleted “{title}” with its files and derived data.")
        return redirect("video_list")
    return render(request, "videos/confirm_delete.html", {"video": video, "plan": video_deletion(video)})


@require_POST
def video_rename(request, video_id: int):
    video = visible_video_or_404(request, video_id)
    try:
        video.rename(request.POST.get("title", ""))
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("video_detail", video_id=video.pk)


@require_POST
def video_reprobe(request, video_id: int):
    video = visible_video_or_404(request, video_id)
    if video.status == Video.Status.PROCESSING:
        messages.info(request, "This video is being processed already.")
    else:
        video.start_probe(requested_by=request.user)
        messages.success(request, f"Processing of “{video.title}” queued again.")
    return redirect("video_detail", video_id=video.pk)


@require_http_methods(["GET", "HEAD"])
def video_file(request, video_id: int):
    """The original file, seekable (HTTP Range), for the player and for downloads."""
    video = visible_video_or_404(request, video_id)
    path = video.original_path
    if not path.is_file():
        raise Http404("The video file is missing from storage.")
    response = ranged_file_response(request, path, video.content_type)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="video-{video.pk}.{video.extension}"'
    return response


def derived_image(request, video_id: int, field: str):
    video = visible_video_or_404(request, video_id)
    relative = getattr(video, field)
    if not relative:
        raise Http404("Not made yet.")
    path = media_path(relative)
    if not path.is_file():
        raise Http404("Not made yet.")
    return ranged_file_response(request, path, "image/jpeg", cache_seconds=86400)


@require_http_methods(["GET", "HEAD"])
def video_poster(request, video_id: int):
    return derived_image(request, video_id, "poster_path")


@require_http_methods(["GET", "HEAD"])
def video_strip(request, video_id: int):
    return derived_image(request, video_id, "strip_path")


@require_http_methods(["GET", "HEAD"])
def video_frame(request, video_id: int, t_ms: int):
    """A small JPEG of the video near ``t_ms`` milliseconds for browsing: the preview store's sample nearest
    that time (``webapp.previews``; samples are ``OFFSIDE_PREVIEW_FPS`` apart, so this can be a frame or so
    from the one on screen at t, which the frame command and the report's frame view give exactly), never a
    frame decoded here. 503 with Retry-After while the store is being made."""
    video = visible_video_or_404(request, video_id)
    if not video.is_ready or t_ms > round((video.duration_s or 0) * 1000):
        raise Http404("No such frame.")
    previews = video_previews(video, requested_by=request.user)
    if not previews.ready:
        return not_ready_response(previews.message)
    try:
        jpeg = previews.frame(t_ms / 1000)
    except OSError as exc:
        raise Http404("The frame previews of this video are damaged; process it again.") from exc
    if jpeg is None:
        raise Http404("That frame could not be decoded.")
    return jpeg_response(jpeg)
