"""Template helpers for videos and categories: timecodes, durations and the home page's library summary."""

from django import template
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.timesince import timesince

from scoring.segments import format_timecode
from webapp.models import Category, Video

register = template.Library()


@register.filter
def timecode(seconds) -> str:
    """12.5 -> "00:00:12.500"; 3725 -> "01:02:05.000": the one timecode format of the interface (SMPTE
    frames appear only in EDL exports)."""
    return format_timecode(max(float(seconds), 0.0)) if seconds is not None else ""


@register.filter
def duration(seconds) -> str:
    """A short human duration: "8.0 s", "3 min 05 s", "1 h 02 min"."""
    if seconds is None:
        return ""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def ago(moment) -> str:
    """How long ago ``moment`` (an aware datetime) was, for tables: "just now" under a minute (Django's
    timesince says "0 minutes"), else "3 minutes ago", "2 days, 4 hours ago"."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"


@register.simple_tag(takes_context=True)
def library_summary(context) -> dict:
    """Counts for the home page: videos by status, total footage, categories and their clips."""
    user = context["request"].user
    videos = Video.objects.visible_to(user)
    totals = videos.aggregate(
        count=Count("id"), ready=Count("id", filter=Q(status=Video.Status.READY)),
        failed=Count("id", filter=Q(status=Video.Status.FAILED)),
        pending=Count("id", filter=Q(status__in=(Video.Status.UPLOADED, Video.Status.PROCESSING))),
        seconds=Sum("duration_s"), bytes=Sum("size_bytes"),
    )  # fmt: skip
    categories = Category.objects.visible_to(user).annotate(clip_count=Count("clips")).order_by("name")
    return {
        "videos": totals,
        "recent_videos": videos.order_by("-created_at")[:6],
        "categories": categories[:12],
        "category_count": categories.count(),
    }
