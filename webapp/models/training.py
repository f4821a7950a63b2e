"""Frame sets and trained model versions (scoring runs are in ``webapp.models.runs``).

Files live under ``MEDIA_ROOT`` at paths built from row ids only: ``frames/<video>/<spec>.npy`` (+ ``.json``)
and ``models/<category>/v<N>/`` (``weights.safetensors`` + ``model.json``).
Rules (one active version per category, version numbering, re-runs overwriting their own files) are methods
here so that views, tasks, management commands and the admin all follow them.
"""

from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from webapp.media_layout import frameset_file, media_path, model_dir, remove_after_commit

CALIBRATION_SAMPLE = 2000  # held-out losses kept in the database for histograms; model.json keeps them all


def directory_size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# --- frame sets -------------------------------------------------------------------------------------------


class FrameSet(models.Model):
    """Frames of one whole video at one sampling spec (fps, height, width): one .npy + .json pair."""

    video = models.ForeignKey("webapp.Video", on_delete=models.CASCADE, related_name="framesets")
    spec_slug = models.CharField(max_length=64)
    fps = models.FloatField(null=True, blank=True)  # None: every decoded frame
    height = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    path = models.CharField(max_length=255)  # relative to MEDIA_ROOT
    n_frames = models.PositiveIntegerField(default=0)
    corrupt_frames = models.PositiveIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["video_id", "spec_slug"]
        constraints = [
            models.UniqueConstraint(fields=["video", "spec_slug"], name="frameset_unique_video_spec"),
        ]

    def __str__(self) -> str:
        return f"{self.video_id}/{self.spec_slug} ({self.n_frames} frames)"

    @property
    def absolute_path(self) -> Path:
        return media_path(self.path)

    def spec(self):
        from scoring.frames import SamplingSpec

        return SamplingSpec(self.fps, self.height, self.width)

    def load(self):
        """The frames as ``scoring.frames.FrameSet`` (memory-mapped, read-only)."""
        from scoring.frames import load_frameset

        return load_frameset(self.absolute_path)

    def is_usable(self) -> bool:
        return self.absolute_path.is_file() and self.absolute_path.with_suffix(".json").is_file()

    @staticmethod
    def relative_path_for(video, spec) -> str:
        return frameset_file(video.pk, spec.slug)

    @classmethod
    def existing(cls, video, spec) -> "FrameSet | None":
        """The stored frame set of ``video`` at ``spec`` if its files are all there."""
        found = cls.objects.filter(video=video, spec_slug=spec.slug).first()
        return found if found is not None and found.is_usable() else None

    @classmethod
    def extraction_jobs(cls, videos, spec, requested_by) -> list:
        """Unsent EXTRACT_FRAMES jobs (cpu queue) for the ready videos with no frame set at ``spec`` yet."""
        from webapp.models.jobs import Job

        jobs = []
        for video in {v.pk: v for v in videos}.values():
            if not video.is_ready or cls.existing(video, spec) is not None:
                continue
            jobs.append(Job.start(
                Job.Kind.EXTRACT_FRAMES, requested_by, title=f"Extract frames of {video.title} ({spec.slug})",
                params={"video_id": video.pk, "fps": spec.fps, "height": spec.height, "width": spec.width},
                video=video, enqueue=False,
            ))  # fmt: skip
        return jobs

    @classmethod
    def record(cls, video, spec, frames) -> "FrameSet":
        """Save ``frames`` (a scoring FrameSet) atomically and create or update the row; re-runs overwrite."""
        from scoring.frames import save_frameset

        relative = cls.relative_path_for(video, spec)
        save_frameset(frames, media_path(relative))
        defaults = {
            "fps": spec.fps, "height": spec.height, "width": spec.width, "path": relative,
            "n_frames": len(frames.frames), "corrupt_frames": int(frames.corrupt_frames),
            "size_bytes": media_path(relative).stat().st_size,
        }  # fmt: skip
        row, _ = cls.objects.update_or_create(video=video, spec_slug=spec.slug, defaults=defaults)
        return row


# --- trained models ---------------------------------------------------------------------------------------


class TrainedModelQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TrainedModelQuerySet":
        return self if user.is_staff else self.filter(category__owner=user)

    def ready(self) -> "TrainedModelQuerySet":
        return self.filter(status=TrainedModel.Status.READY)

    def active(self) -> "TrainedModelQuerySet":
        return self.filter(is_active=True, status=TrainedModel.Status.READY)


class TrainedModel(models.Model):
    """One version of a category's VAE: config, lineage, curves, calibration, and its weights on disk."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        TRAINING = "training"
        READY = "ready"
        FAILED = "failed"
        CANCELLED = "cancelled"
        ARCHIVED = "archived"

    category = models.ForeignKey("webapp.Category", on_delete=models.CASCADE, related_name="models")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    is_active = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # {"model": VAEConfig, "train": TrainConfig, "calibration": CalibrationOptions, "sampling": {"fps": ...}}
    config = models.JSONField(default=dict, blank=True)
    # {"clips": [{clip_id, video_id, video_title, start_s, end_s, is_negative, frames}], "n_frames", ...}
    lineage = models.JSONField(default=dict, blank=True)
    # {"epochs": [{fold, epoch, train_loss, train_recon, train_kl, val_loss}, ...], "best_epoch": n}
    curves = models.JSONField(default=dict, blank=True)
    # scoring.calibration.Calibration.to_dict(), held-out losses thinned to CALIBRATION_SAMPLE
    calibration = models.JSONField(default=dict, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    auroc = models.FloatField(null=True, blank=True)
    n_frames = models.PositiveIntegerField(default=0)
    device = models.CharField(max_length=100, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    weights_dir = models.CharField(max_length=255, blank=True)  # relative to MEDIA_ROOT
    size_bytes = models.BigIntegerField(default=0)
    job = models.ForeignKey(
        "webapp.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="trained_models"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)

    objects = TrainedModelQuerySet.as_manager()

    class Meta:
        ordering = ["category_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["category", "version"], name="model_unique_category_version"),
            models.UniqueConstraint(
                fields=["category"], condition=Q(is_active=True), name="model_one_active_per_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category.name} v{self.version}"

    @property
    def label(self) -> str:
        return f"{self.category.name} v{self.version}"

    @property
    def directory_relative(self) -> str:
        return model_dir(self.category_id, self.version)

    @property
    def directory(self) -> Path:
        return media_path(self.directory_relative)

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def sampling_spec(self):
        """Frames this version trains on: the sampling rate and the network's input size."""
        from scoring.frames import SamplingSpec

        height, width = model_input_size(self.config)
        return SamplingSpec(self.sampling_fps, height, width)

    @property
    def sampling_fps(self) -> float:
        return float(self.config.get("sampling", {}).get("fps") or settings.OFFSIDE_TRAIN_FPS)

    def is_visible_to(self, user) -> bool:
        return user.is_authenticated and (user.is_staff or self.category.owner_id == user.pk)

    # --- creation and state changes -----------------------------------------------------------------------

    @classmethod
    def create_next_version(cls, category, config: dict, attempts: int = 5) -> "TrainedModel":
        """A new queued version numbered after the category's highest; retried if another request raced us."""
        for _ in range(attempts):
            try:
                with transaction.atomic():
                    latest = cls.objects.filter(category=category).aggregate(v=Max("version"))["v"] or 0
                    return cls.objects.create(category=category, version=latest + 1, config=config)
            except IntegrityError:
                continue
        raise IntegrityError(f"could not allocate a version number for category {category.pk}")

    @classmethod
    def start_training(cls, category, requested_by, config: dict, enqueue: bool = True) -> "TrainedModel":
        """Queue a new version of ``category`` and its training job (gpu queue); returns the version."""
        from webapp.models.jobs import Job

        with transaction.atomic():
            model = cls.create_next_version(category, config)
            # Inline runs (management commands) extract in their own process; queued ones on the cpu queue.
            videos = [c.video for c in category.clips.select_related("video")] if enqueue else []
            extractions = FrameSet.extraction_jobs(videos, model.sampling_spec(), requested_by)
            job = Job.start(
                Job.Kind.TRAIN, requested_by, title=f"Train {category.name} v{model.version}",
                params={"model_id": model.pk, "page_url": reverse("model_detail", args=[model.pk])},
                category=category, after=extractions, enqueue=enqueue,
            )  # fmt: skip
            cls.objects.filter(pk=model.pk).update(job=job)
            model.job = job
        return model

    def start_recalibration(self, requested_by, percentile=None, method=None, use_negatives=False):
        """Queue a RECALIBRATE job for this version (gpu queue: it may run the network over negatives)."""
        from webapp.models.jobs import Job

        params = {
            "model_id": self.pk, "percentile": percentile, "method": method, "use_negatives": use_negatives,
            "page_url": reverse("model_detail", args=[self.pk]),
        }  # fmt: skip
        return Job.start(
            Job.Kind.RECALIBRATE,
            requested_by,
            title=f"Recalibrate {self.label}",
            params=params,
            category=self.category,
        )

    def save_curves(self, epochs: list[dict], epochs_total: int | None = None) -> None:
        """Called once per epoch while training, so a reloaded page (or a socket's snapshot) has the curve so
        far; ``epochs_total`` counts the epochs of the final model and of every calibration fold."""
        self.curves = {**self.curves, "epochs": epochs}
        if epochs_total is not None:
            self.curves["epochs_total"] = int(epochs_total)
        TrainedModel.objects.filter(pk=self.pk).update(curves=self.curves)

    def epoch_facts(self) -> dict:
        return epoch_facts(self.curves.get("epochs", []), self.curves.get("epochs_total"))

    def mark_ready(self, facts: dict) -> None:
        """Store what training produced (``facts`` are field values) and become active if nothing else is."""
        facts = {**facts, "status": self.Status.READY, "error": "", "trained_at": timezone.now()}
        facts["size_bytes"] = directory_size(self.directory)
        facts["weights_dir"] = self.directory_relative
        TrainedModel.objects.filter(pk=self.pk).update(**facts)
        self.refresh_from_db()
        if not TrainedModel.objects.filter(category_id=self.category_id, is_active=True).exists():
            self.activate()

    def store_calibration(self, calibration: dict, note: dict) -> None:
        """Adopt a recalibration (``Calibration.to_dict()``) already written to model.json; ``note`` joins the
        row's recalibration history. Scoring runs made before keep the threshold they were scored with."""
        history = [*self.calibration.get("recalibrations", []), note]
        config = {**self.config, "calibration": {**self.config.get("calibration", {}),
                  "percentile": calibration["percentile"], "method": calibration["method"]}}  # fmt: skip
        facts = {
            "calibration": {**thin_calibration(calibration), "recalibrations": history},
            "threshold": calibration["threshold"], "auroc": calibration.get("auroc"), "config": config,
            "size_bytes": directory_size(self.directory),
        }  # fmt: skip
        TrainedModel.objects.filter(pk=self.pk).update(**facts)
        for name, value in facts.items():
            setattr(self, name, value)

    def activate(self) -> None:
        """Make this (ready) version the category's one active version."""
        if self.status != self.Status.READY:
            raise ValueError(f"{self.label} is {self.status}; only a ready version can be active")
        with transaction.atomic():
            # Deactivate first: the partial unique constraint allows one active row at any instant.
            others = TrainedModel.objects.filter(category_id=self.category_id, is_active=True)
            others.exclude(pk=self.pk).update(is_active=False)
            TrainedModel.objects.filter(pk=self.pk).update(is_active=True)
        self.is_active = True

    def archive(self) -> None:
        TrainedModel.objects.filter(pk=self.pk).update(status=self.Status.ARCHIVED, is_active=False)
        self.status, self.is_active = self.Status.ARCHIVED, False

    def delete_files(self) -> None:
        remove_after_commit(self.directory_relative)

    def load(self, device=None):
        """The trained network and calibration as ``scoring.checkpoint.TrainedCategory``."""
        from scoring.checkpoint import load_checkpoint

        return load_checkpoint(self.directory, device or "cpu")

    def calibration_losses(self) -> np.ndarray:
        return np.asarray(self.calibration.get("held_out_losses") or [], dtype=np.float64)

    def snapshot(self) -> dict:
        """What a scoring run remembers about the model, even if the version is deleted later."""
        return {
            "model_id": self.pk, "category_id": self.category_id, "category": self.category.name,
            "version": self.version, "threshold": self.threshold, "colour": self.category.colour,
        }  # fmt: skip


def epoch_facts(epochs: list[dict], epochs_total: int | None) -> dict:
    """What a training page shows of its epochs: all points so far (loss history), "epoch n of N" and the
    seconds left, from the measured mean epoch duration (``elapsed_s`` of the points) times the epochs still
    to run; None until one epoch has been timed. Early stopping may end a run before N: the ETA then errs
    long, never drifts upward while epochs keep their pace."""
    done = len(epochs)
    eta_s = None
    if epochs_total and done and epochs[-1].get("elapsed_s") is not None:
        mean_epoch_s = float(epochs[-1]["elapsed_s"]) / done
        eta_s = round(mean_epoch_s * max(int(epochs_total) - done, 0), 1)
    return {"epochs": epochs, "epochs_done": done, "epochs_total": epochs_total, "eta_s": eta_s}


def model_input_size(config: dict) -> tuple[int, int]:
    """(height, width) of a model config JSON, defaults where the user kept them."""
    from scoring.model import VAEConfig

    defaults = VAEConfig()
    model = config.get("model", {})
    return int(model.get("height", defaults.height)), int(model.get("width", defaults.width))


def thin_calibration(calibration: dict, limit: int = CALIBRATION_SAMPLE) -> dict:
    """The calibration dict with its loss lists reduced to ``limit`` evenly spaced order statistics."""
    thinned = dict(calibration)
    # which clip each held-out loss came from matters only to recalibration, which reads model.json
    groups = thinned.pop("held_out_groups", None)
    thinned["held_out_clips"] = len(set(groups)) if groups else None
    for key in ("held_out_losses", "negative_losses"):
        values = calibration.get(key)
        if values is not None and len(values) > limit:
            ordered = np.sort(np.asarray(values, dtype=np.float64))
            keep = np.linspace(0, len(ordered) - 1, limit).round().astype(int)
            thinned[key] = ordered[keep].tolist()
            thinned[f"{key}_count"] = len(values)
    for key in ("roc", "pr"):
        if thinned.get(key):
            thinned[key] = {name: finite_or_none(values) for name, values in thinned[key].items()}
    return thinned


def finite_or_none(values: list[float]) -> list[float | None]:
    """JSON has no infinity (a ROC curve's first threshold is +inf): store those points as null."""
    return [float(v) if np.isfinite(v) else None for v in values]


@receiver(post_delete, sender=TrainedModel)
def remove_model_files(sender, instance: TrainedModel, **kwargs) -> None:
    """A version's weights go with its row (deleted alone, or with its category)."""
    remove_after_commit(instance.directory_relative)


@receiver(post_delete, sender=FrameSet)
def remove_frameset_files(sender, instance: FrameSet, **kwargs) -> None:
    remove_after_commit(instance.path, str(Path(instance.path).with_suffix(".json")))
