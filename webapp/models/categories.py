"""Categories (what a model learns) and reference clips (a video, or a time range of one, that shows it)."""

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.db.models.signals import post_delete
from django.dispatch import receiver

from scoring.segments import format_timecode
from webapp.media_layout import category_models_dir, remove_after_commit
from webapp.models.videos import Video

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1f7a4d.")


class CategoryQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CategoryQuerySet":
        return self if user.is_staff else self.filter(owner=user)


class Category(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    colour = models.CharField(max_length=7, default="#1f7a4d", validators=[colour_validator])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(Lower("name"), "owner", name="category_unique_name_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_visible_to(self, user) -> bool:
        return user.is_authenticated and (user.is_staff or self.owner_id == user.pk)

    def name_taken(self, name: str) -> bool:
        others = Category.objects.filter(owner_id=self.owner_id, name__iexact=name.strip())
        return others.exclude(pk=self.pk).exists() if self.pk else others.exists()

    def frame_summary(self, fps: float) -> dict:
        """Frames at the training rate over positive and negative clips (unprobed videos count as 0)."""
        summary = {"positive_frames": 0, "negative_frames": 0, "positive_clips": 0, "negative_clips": 0}
        for clip in self.clips.select_related("video"):
            kind = "negative" if clip.is_negative else "positive"
            summary[f"{kind}_clips"] += 1
            summary[f"{kind}_frames"] += clip.frame_count_at(fps)
        return summary


class ReferenceClip(models.Model):
    """A video, or a time range of one, that shows its category (or, if negative, shows what it is not)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="clips")
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="clips")
    start_s = models.FloatField(null=True, blank=True)
    end_s = models.FloatField(null=True, blank=True)
    is_negative = models.BooleanField(default=False)
    # The scoring run whose (reviewed) segments this clip came from: a correction the models learn from.
    from_run = models.ForeignKey(
        "webapp.ScoringRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="clips_made"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["is_negative", "created_at", "id"]
        indexes = [models.Index(fields=["video", "category"], name="clip_video_category")]

    def __str__(self) -> str:
        return f"{self.video.title} {self.range_label} → {self.category.name}"

    @property
    def is_whole_video(self) -> bool:
        return self.start_s is None and self.end_s is None

    @property
    def begin_s(self) -> float:
        return self.start_s or 0.0

    @property
    def finish_s(self) -> float | None:
        return self.end_s if self.end_s is not None else self.video.duration_s

    @property
    def span_s(self) -> float:
        finish = self.finish_s
        return max(finish - self.begin_s, 0.0) if finish is not None else 0.0

    @property
    def range_label(self) -> str:
        if self.is_whole_video:
            return "whole video"
        end = format_timecode(self.end_s) if self.end_s is not None else "end"
        return f"{format_timecode(self.begin_s)} – {end}"

    def frame_count_at(self, fps: float) -> int:
        """Frames sampled from the clip at ``fps`` (never more than the video really has in that span)."""
        if not self.video.is_ready or self.span_s <= 0:
            return 0
        sampled = math.ceil(self.span_s * fps - 1e-6)
        if self.video.fps:
            sampled = min(sampled, max(1, round(self.span_s * self.video.fps)))
        return int(sampled)

    def sample_times(self, fps: float) -> list[float]:
        return [self.begin_s + k / fps for k in range(self.frame_count_at(fps))]

    def overlapping_clips(self) -> list["ReferenceClip"]:
        """Other clips of the same video in the same category that share time with this one (their frames
        would count twice in training, or as both positive and negative)."""
        if not (self.video_id and self.category_id):
            return []
        others = ReferenceClip.objects.filter(category_id=self.category_id, video_id=self.video_id)
        return [
            other
            for other in others.exclude(pk=self.pk).select_related("video")
            if other.begin_s < _open_end(self) and self.begin_s < _open_end(other)
        ]

    @property
    def overlap_warning(self) -> str:
        """For people: which clips of this video in the category the clip overlaps ("" when none)."""
        overlapping = self.overlapping_clips()
        spans = [f"{o.range_label} ({'negative' if o.is_negative else 'reference'})" for o in overlapping]
        if not spans:
            return ""
        return f"It overlaps {', '.join(spans)} of the same video: those frames count twice."

    def clean(self) -> None:
        errors = {}
        if self._duplicates_a_clip():
            errors["video"] = f"{self.video.title} ({self.range_label}) is already a clip of this category."
        if self.video_id and self.category_id and self.video.owner_id != self.category.owner_id:
            errors["video"] = "The video and the category must belong to the same user."
        if self.video_id and self.video.status == Video.Status.FAILED:
            errors["video"] = "This video could not be read, so it cannot be a reference clip."
        if self.start_s is not None or self.end_s is not None:
            errors.update(self._range_errors())
        if errors:
            raise ValidationError(errors)

    def _duplicates_a_clip(self) -> bool:
        same = ReferenceClip.objects.filter(
            category_id=self.category_id, video_id=self.video_id, start_s=self.start_s, end_s=self.end_s
        )
        return bool(self.video_id and self.category_id) and same.exclude(pk=self.pk).exists()

    def _range_errors(self) -> dict:
        if not self.video.is_ready:
            return {"start_s": "Pick a time range once the video is ready (its duration is not known yet)."}
        duration = self.video.duration_s or 0.0
        start = self.begin_s
        end = self.end_s if self.end_s is not None else duration
        if start < 0 or start >= duration:
            return {"start_s": f"The start must be between 0 and {duration:.2f} s."}
        if end > duration + 0.5:
            return {"end_s": f"The end is past the end of the video ({duration:.2f} s)."}
        if end <= start:
            return {"end_s": "The end must come after the start."}
        return {}


@receiver(post_delete, sender=Category)
def remove_category_files(sender, instance: Category, **kwargs) -> None:
    """The category's folder of model versions (each version also removes its own when deleted alone)."""
    remove_after_commit(category_models_dir(instance.pk))


def _open_end(clip: ReferenceClip) -> float:
    """The clip's end in seconds; infinity while the video's duration is unknown."""
    return clip.finish_s if clip.finish_s is not None else math.inf
