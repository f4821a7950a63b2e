"""Scoring runs (a video scored against model versions) and their segments.

Per-frame arrays live in ``MEDIA_ROOT/runs/<run>/scores.npz``; segments are rows. A retried job replaces its
run's file and rows, never duplicates them.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from scoring.files import replacing
from scoring.review import ReviewedSegment, ReviewError, check_tiling, from_dicts, with_mean_scores
from scoring.segments import TimecodedSpan
from webapp.media_layout import media_path, remove_after_commit, run_dir
from webapp.models.training import FrameSet, TrainedModel, model_input_size


class ScoringRunQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ScoringRunQuerySet":
        return self if user.is_staff else self.filter(owner=user)


class ScoringRun(models.Model):
    """One video scored against one or more model versions; per-frame arrays in a file, segments as rows."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    video = models.ForeignKey("webapp.Video", on_delete=models.CASCADE, related_name="scoring_runs")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scoring_runs")
    trained_models = models.ManyToManyField(TrainedModel, related_name="scoring_runs")
    model_versions = models.JSONField(default=list, blank=True)  # TrainedModel.snapshot() of each, in order
    temporal_params = models.JSONField(default=dict, blank=True)  # scoring.segments.TemporalParams fields
    sampling = models.JSONField(default=dict, blank=True)  # {"fps", "height", "width"}
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    arrays_path = models.CharField(max_length=255, blank=True)  # relative to MEDIA_ROOT
    n_frames = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)  # out_fraction, out_duration_s, per-category stats
    # A person's corrections (scoring.review.ReviewedSegment dicts), kept beside the machine's Segment rows.
    reviewed_segments = models.JSONField(default=list, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey(
        "webapp.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="scoring_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScoringRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="run_owner_created")]

    def __str__(self) -> str:
        return f"Run #{self.pk} of video {self.video_id}"

    @property
    def directory_relative(self) -> str:
        return run_dir(self.pk)

    @property
    def directory(self) -> Path:
        return media_path(self.directory_relative)

    @property
    def category_names(self) -> list[str]:
        return [m["category"] for m in self.model_versions]

    @property
    def is_reviewed(self) -> bool:
        return bool(self.reviewed_segments)

    def final_segments(self) -> list:
        """What exports and renders use: the reviewed segments (``scoring.review.ReviewedSegment``) when a
        person corrected the run, else the machine's rows, in time order."""
        if self.is_reviewed:
            return [ReviewedSegment(**row) for row in self.reviewed_segments]
        return list(self.segments.order_by("index"))

    def save_review(self, rows) -> list[ReviewedSegment]:
        """Store a person's corrections (JSON objects with start_s, end_s, label, category) beside the
        machine's segments, each with the machine's mean score over its span. Raises ``ReviewError`` unless
        they tile the scored span back to back, every one at least a frame long."""
        arrays = self.load_arrays()
        times = np.asarray(arrays["timestamps_s"], dtype=np.float64)
        best = np.atleast_2d(arrays["scores"]).min(axis=0)
        machine = list(self.segments.order_by("index"))
        if not machine:
            raise ReviewError("This run has no segments to review.")
        frame_s = float(np.median(np.diff(times))) if len(times) > 1 else 0.04
        span = (machine[0].start_s, machine[-1].end_s)
        segments = from_dicts(rows)
        check_tiling(segments, *span, tolerance_s=frame_s / 2)
        ends = [s.end_s for s in segments[:-1]] + [span[1]]  # exactly back to back, first to last time
        starts = [span[0], *ends[:-1]]
        closed = [replace(s, start_s=a, end_s=b) for s, a, b in zip(segments, starts, ends, strict=True)]
        reviewed = with_mean_scores(closed, times, best)
        fields = {"reviewed_segments": [s.to_dict() for s in reviewed], "reviewed_at": timezone.now()}
        ScoringRun.objects.filter(pk=self.pk).update(**fields)
        self.reviewed_segments, self.reviewed_at = fields["reviewed_segments"], fields["reviewed_at"]
        return reviewed

    def discard_review(self) -> None:
        """Back to the machine's segments for exports and renders."""
        ScoringRun.objects.filter(pk=self.pk).update(reviewed_segments=[], reviewed_at=None)
        self.reviewed_segments, self.reviewed_at = [], None

    def is_visible_to(self, user) -> bool:
        return user.is_authenticated and (user.is_staff or self.owner_id == user.pk)

    @classmethod
    def start(cls, video, trained_models, requested_by, temporal_params: dict, fps: float, enqueue=True):
        """Queue a scoring run of ``video`` against ``trained_models`` (ready versions) and its gpu job."""
        from scoring.frames import SamplingSpec
        from webapp.models.jobs import Job

        trained_models = list(trained_models)
        sizes = [model_input_size(m.config) for m in trained_models]
        sampling = {"fps": fps, "height": max(h for h, _ in sizes), "width": max(w for _, w in sizes)}
        names = ", ".join(m.category.name for m in trained_models)
        with transaction.atomic():
            run = cls.objects.create(
                video=video, owner=requested_by, temporal_params=temporal_params, sampling=sampling,
                model_versions=[m.snapshot() for m in trained_models],
            )  # fmt: skip
            run.trained_models.set(trained_models)
            spec = SamplingSpec(fps, sampling["height"], sampling["width"])
            job = Job.start(
                Job.Kind.SCORE, requested_by, title=f"Score {video.title} ({names})",
                params={"run_id": run.pk, "page_url": reverse("run_detail", args=[run.pk])}, video=video,
                after=FrameSet.extraction_jobs([video], spec, requested_by) if enqueue else (),
                enqueue=enqueue,
            )  # fmt: skip
            cls.objects.filter(pk=run.pk).update(job=job)
            run.job = job
        return run

    def save_result(self, result) -> None:
        """Store a ``scoring.scorer.ScoreResult``: arrays to ``scores.npz``, segments replace earlier ones."""
        relative = f"{self.directory_relative}/scores.npz"
        write_arrays(media_path(relative), result)
        segments = [
            Segment(
                run=self, index=k, start_s=s.start_s, end_s=s.end_s, label=s.label,
                mean_score=s.mean_score, category=dominant_label(result, s),
            )
            for k, s in enumerate(result.segments)
        ]  # fmt: skip
        with transaction.atomic():
            Segment.objects.filter(run=self).delete()  # a retried job replaces its rows, never duplicates
            Segment.objects.bulk_create(segments)
            fields = {
                "status": self.Status.SUCCEEDED, "error": "", "arrays_path": relative,
                "n_frames": len(result.timestamps_s), "summary": summarise(result),
                "finished_at": timezone.now(),
            }  # fmt: skip
            ScoringRun.objects.filter(pk=self.pk).update(**fields)
        self.refresh_from_db()

    def load_arrays(self) -> dict[str, np.ndarray]:
        """The per-frame arrays written by ``save_result`` (never unpickles)."""
        with np.load(media_path(self.arrays_path), allow_pickle=False) as data:
            return {key: data[key] for key in data.files}

    def delete_files(self) -> None:
        remove_after_commit(self.directory_relative)


def write_arrays(path: Path, result) -> None:
    """scores.npz: timestamps_s (N,), categories (K,), thresholds (K,), errors/scores (K, N), smoothed (N,),
    out (N,) bool and labels (N,) as strings. Written through a unique temporary file: never half a file."""
    with replacing(path) as tmp, tmp.open("wb") as handle:
        np.savez_compressed(
            handle, timestamps_s=result.timestamps_s, categories=np.asarray(result.categories, dtype=str),
            thresholds=result.thresholds, errors=result.errors, scores=result.scores,
            smoothed=result.smoothed, out=result.out, labels=np.asarray(result.labels, dtype=str),
        )  # fmt: skip


def dominant_label(result, segment) -> str:
    """The most frequent per-frame label (a category name or "unknown") inside a segment."""
    times = result.timestamps_s
    inside = (times >= segment.start_s) & (times < segment.end_s)
    labels = np.asarray(result.labels, dtype=str)[inside]
    if len(labels) == 0:
        return ""
    values, counts = np.unique(labels, return_counts=True)
    return str(values[int(np.argmax(counts))])


def summarise(result) -> dict:
    times = np.asarray(result.timestamps_s, dtype=np.float64)
    out_s = sum(s.end_s - s.start_s for s in result.segments if s.label == "out")
    total_s = (result.segments[-1].end_s - result.segments[0].start_s) if result.segments else 0.0
    per_category = {
        name: {
            "mean_score": float(np.mean(result.scores[k])) if len(times) else None,
            "accepted_fraction": float(np.mean(result.scores[k] <= 1.0)) if len(times) else None,
        }
        for k, name in enumerate(result.categories)
    }
    return {
        "frames": len(times), "duration_s": total_s, "out_duration_s": out_s,
        "out_fraction": out_s / total_s if total_s else 0.0, "out_frames": int(np.sum(result.out)),
        "segments": len(result.segments), "out_segments": sum(1 for s in result.segments if s.label == "out"),
        "categories": per_category,
    }  # fmt: skip


class Segment(TimecodedSpan, models.Model):
    """A contiguous stretch of a scored video that is "in" (some category) or "out" (none)."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="segments")
    index = models.PositiveIntegerField()
    start_s = models.FloatField()
    end_s = models.FloatField()
    label = models.CharField(max_length=16)  # "in" | "out"
    category = models.CharField(max_length=100, blank=True)  # most frequent frame label in the segment
    mean_score = models.FloatField()

    class Meta:
        ordering = ["run_id", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="segment_unique_run_index")]

    def __str__(self) -> str:
        return f"{self.label} {self.start_s:.3f}-{self.end_s:.3f}"


@receiver(post_delete, sender=ScoringRun)
def remove_run_files(sender, instance: ScoringRun, **kwargs) -> None:
    """A run's scores, heatmaps and rendered videos go with its row (deleted alone, or with its video)."""
    remove_after_commit(instance.directory_relative)
