"""Panels that other areas' pages include with one line: training on a category page, scoring on a video page
and on the library. Each computes its own context, so the including view needs no change."""

from django import template

from webapp import charts
from webapp.models import ScoringRun, TrainedModel, Video
from webapp.thresholds import version_trend_rows
from webapp.training_forms import ScoreForm, TrainForm

register = template.Library()
RECENT_RUNS = 10


def scoring_choices(user, owner):
    """(active versions, other ready versions) the user may score with, for the video's owner."""
    ready = TrainedModel.objects.ready().filter(category__owner=owner).select_related("category")
    ready = ready.order_by("category__name", "-version")
    active = [m for m in ready if m.is_active]
    others = [m for m in ready if not m.is_active]
    return active, others


@register.inclusion_tag("training/_category_panel.html", takes_context=True)
def category_training_panel(context, category):
    versions = list(category.models.select_related("job").order_by("-version"))
    trends = version_trend_rows(versions)
    active = next((m.version for m in versions if m.is_active), None)
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "category": category,
        "form": TrainForm(category=category),
        "versions": versions,
        "active_version": active,
        "trends_json": charts.version_trends(trends).to_json() if len(trends) > 1 else None,
        "has_clips": category.clips.filter(is_negative=False).exists(),
    }


@register.inclusion_tag("scoring/_video_panel.html", takes_context=True)
def video_scoring_panel(context, video):
    active, others = scoring_choices(context["user"], video.owner)
    runs = ScoringRun.objects.filter(video=video).select_related("job")[:RECENT_RUNS]
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "video": video,
        "active_models": active,
        "other_models": others,
        "runs": runs,
        "form": ScoreForm(owner=video.owner),
    }


@register.inclusion_tag("scoring/_library_panel.html", takes_context=True)
def library_scoring_panel(context, videos):
    user = context["user"]
    active, others = scoring_choices(user, user)
    ready = [v for v in videos if v.status == Video.Status.READY and v.owner_id == user.pk]
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "videos": ready,
        "active_models": active,
        "other_models": others,
        "form": ScoreForm(owner=user),
    }
