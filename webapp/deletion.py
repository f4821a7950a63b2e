"""What deleting a video, a category or a model version takes with it, for the confirmation pages.

Each ``*_deletion`` function returns a ``DeletionPlan``: the rows and files removed with the row (counts, and
sizes on disk read from the media layout of ``webapp.media_layout``) and what stays. The pages list it before
asking, so nobody deletes 40 GB of runs thinking they delete one clip.
"""

from dataclasses import dataclass, field

from django.db.models import Count
from django.template.defaultfilters import filesizeformat, pluralize

from webapp.media_layout import frames_dir, media_path, video_dir
from webapp.models import Category, Job, ScoringRun, TrainedModel, Video
from webapp.models.training import directory_size


@dataclass(frozen=True)
class Removed:
    """One kind of thing deleted with the row: ``text`` ("3 scoring runs: 41 segments, 2 rendered videos")
    and the bytes its files take on disk (``None`` for rows without files)."""

    text: str
    size_bytes: int | None = None

    @property
    def size_text(self) -> str:
        return "" if self.size_bytes is None else filesizeformat(self.size_bytes)


@dataclass
class DeletionPlan:
    """``removed``: what goes with the row; ``kept``: what stays (sentences); ``total_bytes``: disk freed."""

    subject: str
    removed: list[Removed] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(item.size_bytes or 0 for item in self.removed)


def counted(count: int, noun: str, plural: str = "s") -> str:
    return f"{count} {noun}{pluralize(count, plural)}"


def stay(count: int, noun: str, where: str) -> str:
    """ "The job that worked on it stays in the job list." / "The 3 jobs ... stay ..." """
    if count == 1:
        return f"The {noun} {where.format(verb='stays', its='its')}."
    return f"The {count} {noun}s {where.format(verb='stay', its='their')}."


def size_of(relative: str) -> int:
    return directory_size(media_path(relative))


def runs_removed(runs) -> Removed | None:
    """The scoring runs in ``runs`` with their segments, rendered videos and heatmaps (``runs/<id>/``)."""
    runs = list(runs.annotate(n_segments=Count("segments")))
    if not runs:
        return None
    segments = sum(run.n_segments for run in runs)
    renders = sum(len(list((run.directory / "renders").glob("*.mp4"))) for run in runs)
    text = f"{counted(len(runs), 'scoring run')}: {counted(segments, 'segment')}"
    if renders:
        text += f", {counted(renders, 'rendered video')}"
    text += ", their scores and heatmaps"
    return Removed(text, sum(directory_size(run.directory) for run in runs))


def clips_text(clips) -> str:
    clips = list(clips.select_related("category"))
    negatives = sum(clip.is_negative for clip in clips)
    names = sorted({clip.category.name for clip in clips})
    text = counted(len(clips), "reference clip")
    if negatives:
        text += f" ({negatives} negative)"
    return text + (f" in {', '.join(names)}" if names else "")


def jobs_kept(jobs) -> list[str]:
    count = jobs.count()
    return [stay(count, "job", "that worked on it {verb} in the job list")] if count else []


def video_deletion(video: Video) -> DeletionPlan:
    """Deleting ``video``: its file, poster and thumbnails, frame sets, reference clips, scoring runs."""
    plan = DeletionPlan(f"video “{video.title}”")
    plan.removed.append(
        Removed(f"the video file {video.original_name or video.title}, its poster and thumbnails",
                size_of(video_dir(video.pk)))
    )  # fmt: skip
    framesets = video.framesets.count()
    frames_bytes = size_of(frames_dir(video.pk))
    if framesets or frames_bytes:
        text = "cached frames"
        if framesets:
            text = f"{counted(framesets, 'extracted frame set')} and page caches"
        plan.removed.append(Removed(text, frames_bytes))
    if video.clips.exists():
        plan.removed.append(Removed(clips_text(video.clips.all())))
    if (runs := runs_removed(ScoringRun.objects.filter(video=video))) is not None:
        plan.removed.append(runs)
    trained_on = [m.label for m in TrainedModel.objects.filter(category__owner=video.owner_id)
                  if any(c.get("video_id") == video.pk for c in m.lineage.get("clips", []))]  # fmt: skip
    if trained_on:
        plan.kept.append(
            f"Model versions trained on it keep their weights ({', '.join(trained_on)}); "
            "their lineage names it."
        )
    plan.kept += jobs_kept(Job.objects.filter(video=video))
    return plan


def versions_text(models: list[TrainedModel]) -> str:
    labels = [f"v{m.version}{' (active)' if m.is_active else ''}" for m in models]
    return f"{counted(len(models), 'model version')} ({', '.join(labels)}) with their weights"


def category_deletion(category: Category) -> DeletionPlan:
    """Deleting ``category``: its reference clips and every model version with its weights."""
    plan = DeletionPlan(f"category “{category.name}”")
    if category.clips.exists():
        plan.removed.append(Removed(clips_text(category.clips.all())))
    models = list(category.models.order_by("version"))
    if models:
        plan.removed.append(Removed(versions_text(models), sum(directory_size(m.directory) for m in models)))
    if category.clips.exists():
        plan.kept.append("The videos of its clips stay in your library.")
    runs = ScoringRun.objects.filter(trained_models__category=category).distinct().count()
    if runs:
        plan.kept.append(stay(runs, "scoring run", "made with its versions {verb}, with {its} segments"))
    plan.kept += jobs_kept(Job.objects.filter(category=category))
    return plan


def version_deletion(model: TrainedModel) -> DeletionPlan:
    """Deleting one version: its weights and calibration files; runs scored with it stay."""
    plan = DeletionPlan(model.label)
    weights = Removed(f"the weights and calibration of {model.label}", directory_size(model.directory))
    plan.removed.append(weights)
    if model.is_active:
        plan.kept.append(f"{model.category.name} has no active version afterwards: make another one active.")
    runs = model.scoring_runs.count()
    if runs:
        plan.kept.append(stay(runs, "scoring run", "made with it {verb}, with {its} segments"))
    plan.kept += jobs_kept(Job.objects.filter(pk=model.job_id)) if model.job_id else []
    return plan
