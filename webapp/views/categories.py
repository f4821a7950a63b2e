"""Categories and their reference clips: create, edit, delete, add and remove clips, browse sampled frames."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from webapp.access import visible_or_404
from webapp.deletion import category_deletion
from webapp.forms import CategoryForm, ClipForm
from webapp.models import Category, Job, ReferenceClip, Video
from webapp.previews import video_previews
from webapp.views.videos import visible_video_or_404

FRAMES_PER_PAGE = 60


def visible_category_or_404(request, category_id: int) -> Category:
    return visible_or_404(Category.objects.select_related("owner"), request.user, category_id, "category")


def visible_clip_or_404(request, clip_id: int) -> ReferenceClip:
    clips = ReferenceClip.objects.select_related("category", "video")
    return visible_or_404(clips, request.user, clip_id, "clip", lambda c, u: c.category.is_visible_to(u))


@require_http_methods(["GET", "POST"])
def category_list(request):
    form = CategoryForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        category = form.save()
        messages.success(request, f"Created category “{category.name}”. Now add reference clips to it.")
        return redirect("category_detail", category_id=category.pk)
    categories = (
        Category.objects.visible_to(request.user)
        .select_related("owner")
        .annotate(
            positive_count=Count("clips", filter=Q(clips__is_negative=False)),
            negative_count=Count("clips", filter=Q(clips__is_negative=True)),
        )
    )
    return render(request, "categories/list.html", {"categories": categories, "form": form})


@require_http_methods(["GET", "POST"])
def category_detail(request, category_id: int):
    category = visible_category_or_404(request, category_id)
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved “{category.name}”.")
        return redirect("category_detail", category_id=category.pk)
    fps = settings.OFFSIDE_TRAIN_FPS
    clips = list(category.clips.select_related("video").order_by("is_negative", "video__title", "start_s"))
    for clip in clips:
        clip.frames_at_train_fps = clip.frame_count_at(fps)
    context = {
        "category": category, "form": form, "clips": clips, "train_fps": fps,
        "summary": category.frame_summary(fps),
        "has_videos": Video.objects.filter(owner=category.owner_id).exists(),
        "whole_video_choices": whole_video_choices(category),
        "jobs": Job.objects.filter(category=category).select_related("owner")[:20],
    }  # fmt: skip
    return render(request, "categories/detail.html", context)


def whole_video_choices(category: Category):
    """The owner's usable videos not yet in the category as a whole video."""
    whole = category.clips.filter(start_s=None, end_s=None).values("video_id")
    usable = Video.objects.filter(owner=category.owner_id).exclude(status=Video.Status.FAILED)
    return usable.exclude(pk__in=whole).order_by("title")


@require_http_methods(["GET", "POST"])
def category_delete(request, category_id: int):
    category = visible_category_or_404(request, category_id)
    if request.method == "POST":
        name, plan = category.name, category_deletion(category)
        category.delete()
        taken = "; ".join(item.text for item in plan.removed)
        messages.success(request, f"Deleted category “{name}”" + (f" with {taken}." if taken else "."))
        return redirect("category_list")
    context = {"category": category, "plan": category_deletion(category)}
    return render(request, "categories/confirm_delete.html", context)


@require_POST
def clip_create(request):
    """Add a clip; posted from a video page (time range on the player) or a category page (whole video)."""
    category = visible_category_or_404(request, int_or_404(request.POST.get("category")))
    fixed_video = None
    if request.POST.get("from_video"):
        fixed_video = visible_video_or_404(request, int_or_404(request.POST.get("from_video")))
    form = ClipForm(request.POST, owner=category.owner, video=fixed_video)
    if form.is_valid():
        clip = form.clip
        clip.save()
        kind = "negative example" if clip.is_negative else "reference clip"
        messages.success(
            request, f"Added {clip.video.title} ({clip.range_label}) to “{category.name}” as a {kind}."
        )
        if clip.overlap_warning:
            messages.warning(request, clip.overlap_warning)
    else:
        messages.error(request, "Could not add the clip: " + "; ".join(flatten_errors(form)))
    return redirect_back(request, category)


@require_POST
def clip_delete(request, clip_id: int):
    clip = visible_clip_or_404(request, clip_id)
    category = clip.category
    clip.delete()
    messages.success(request, f"Removed {clip.video.title} ({clip.range_label}) from “{category.name}”.")
    return redirect_back(request, category)


@require_POST
def clip_toggle_negative(request, clip_id: int):
    clip = visible_clip_or_404(request, clip_id)
    clip.is_negative = not clip.is_negative
    clip.save(update_fields=["is_negative"])
    return redirect_back(request, clip.category)


def category_frames(request, category_id: int):
    """The frame browser: the frames training will sample, clip by clip, one page at a time; each picture is
    the nearest sample of its video's preview store (a video without one shows placeholders meanwhile)."""
    category = visible_category_or_404(request, category_id)
    fps = settings.OFFSIDE_TRAIN_FPS
    show = request.GET.get("show", "positive")
    clips = category.clips.select_related("video").filter(is_negative=(show == "negative"))
    samples = [(clip, t_s) for clip in clips for t_s in clip.sample_times(fps)]
    page = Paginator(samples, FRAMES_PER_PAGE).get_page(request.GET.get("page"))
    previews = {}  # video id -> PreviewState: a video without its store queues the job that makes it
    for clip, _ in page.object_list:
        if clip.video_id not in previews:
            previews[clip.video_id] = video_previews(clip.video, requested_by=request.user)
    frames = [
        {"clip": clip, "t_s": t_s, "t_ms": round(t_s * 1000), "ready": previews[clip.video_id].ready}
        for clip, t_s in page.object_list
    ]
    waiting = sorted({state.message for state in previews.values() if not state.ready})
    context = {"category": category, "page": page, "frames": frames, "train_fps": fps, "show": show,
               "previews_waiting": waiting}  # fmt: skip
    return render(request, "categories/frames.html", context)


def int_or_404(value) -> int:
    if value is None or not str(value).isdigit():
        raise Http404("No such object.")
    return int(value)


def flatten_errors(form) -> list[str]:
    return [str(message) for messages_ in form.errors.values() for message in messages_]


def redirect_back(request, category: Category):
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("category_detail", category_id=category.pk)
