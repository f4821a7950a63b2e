"""Training a category's model version as a job: gather clip frames, train, calibrate, save.

Stages (and their share of the progress bar): "Extracting frames" (0-10 %), "Training" and "Calibrating"
(10-95 %, epochs of the final model then of the leave-one-clip-out calibration models), "Saving".
"""

import time

from django.conf import settings

from webapp.models import TrainedModel
from webapp.models.training import epoch_facts, thin_calibration
from workers.framesets import ready_clip_frames, sampling_spec
from workers.jobs import InputError

EXTRACT_SHARE = 0.10
TRAIN_END = 0.95


def load_model_row(job, work: str = "training") -> TrainedModel:
    """The job's model version; ``InputError`` naming the ``work`` that cannot run when it was deleted."""
    model_id = job.params.get("model_id")
    model = TrainedModel.objects.select_related("category").filter(pk=model_id).first()
    if model is None:
        raise InputError(f"The category (or this model version) was deleted before {work} could run.")
    return model


def training_options(config: dict):
    """``scoring.pipeline.TrainingOptions`` from a model row's config JSON; missing keys take the defaults the
    quality benchmark chose (``default_model_config``), not the bare dataclass ones."""
    from scoring.model import VAEConfig
    from scoring.pipeline import CalibrationOptions, TrainingOptions, default_model_config
    from scoring.training import TrainConfig

    try:
        return TrainingOptions(
            model=VAEConfig.from_dict({**default_model_config().to_dict(), **config.get("model", {})}),
            train=TrainConfig.from_dict(config.get("train", {})),
            calibration=CalibrationOptions(**config.get("calibration", {})),
        )
    except (TypeError, ValueError) as exc:
        raise InputError(f"Invalid training options: {exc}") from exc


def gather_clips(category, spec, report) -> tuple[list, list, dict]:
    """(positive ClipFrames, negative ClipFrames, lineage) of the category's clips on ready videos."""
    clips = list(category.clips.select_related("video"))
    if not any(not c.is_negative for c in clips):
        raise InputError(f"The category “{category.name}” has no reference clips: add some, then train.")
    positives, negatives, used, skipped = [], [], [], []

    def on_progress(fraction):
        report(EXTRACT_SHARE * fraction, "Extracting frames")

    for clip, frames in ready_clip_frames(clips, spec, on_progress):
        if frames is None:
            skipped.append({"clip_id": clip.pk, "video_id": clip.video_id, "reason": clip.video.status})
            continue
        (negatives if clip.is_negative else positives).append(frames)
        used.append(clip_lineage(clip, len(frames.frames)))
    if not any(len(c.frames) for c in positives):
        raise InputError(f"No frames could be taken from the reference clips of “{category.name}”.")
    lineage = {
        "clips": used, "skipped": skipped,
        "sampling": {"fps": spec.fps, "height": spec.height, "width": spec.width},
        "n_frames": sum(len(c.frames) for c in positives),
        "n_negative_frames": sum(len(c.frames) for c in negatives),
    }  # fmt: skip
    return positives, [c for c in negatives if len(c.frames)], lineage


def clip_lineage(clip, frames: int) -> dict:
    return {
        "clip_id": clip.pk, "video_id": clip.video_id, "video_title": clip.video.title,
        "video_sha256": clip.video.sha256, "start_s": clip.start_s, "end_s": clip.end_s,
        "is_negative": clip.is_negative, "frames": frames, "from_run_id": clip.from_run_id,
    }  # fmt: skip


class EpochProgress:
    """``on_progress`` for ``scoring.pipeline.train_category``: progress bar, per-epoch loss events, curves.

    Every epoch end writes the job (an event with ``extra``), which also checks for cancellation: a cancelled
    job stops within one epoch (and within 20 steps when the throttle lets a batch report through).
    """

    def __init__(self, model: TrainedModel, report, n_folds: int, epochs_total: int):
        self.model, self.report, self.n_folds, self.epochs_total = model, report, n_folds, epochs_total
        self.epochs: list[dict] = []
        self.started = time.monotonic()

    def stage(self, fold: int) -> str:
        return "Training" if fold == 0 else f"Calibrating (fold {fold} of {self.n_folds})"

    def __call__(self, epoch: int, step: int, metrics: dict) -> bool:
        fold = int(metrics.get("fold", 0))
        fraction = EXTRACT_SHARE + (TRAIN_END - EXTRACT_SHARE) * float(metrics.get("progress", 0.0))
        if "val_loss" not in metrics:
            self.report(fraction, self.stage(fold))
            return False
        # elapsed_s: measured time since training began, so the ETA follows real epoch durations
        point = {"fold": fold, "epoch": int(epoch), "elapsed_s": round(time.monotonic() - self.started, 3)}
        for key in ("train_loss", "val_loss", "train_recon", "train_kl"):
            if key in metrics:
                point[key] = float(metrics[key])
        self.epochs.append(point)
        self.model.save_curves(self.epochs, self.epochs_total)
        facts = epoch_facts(self.epochs, self.epochs_total)
        del facts["epochs"]  # the page has the points so far; an event adds one
        self.report(fraction, self.stage(fold), extra={**point, **facts})
        return False


def fold_count(options, positives) -> int:
    return len(positives) if options.calibration.holdout == "clips" and len(positives) >= 2 else 0


def run_training(model: TrainedModel, positives, negatives, options, report):
    from scoring.pipeline import train_category

    n_folds = fold_count(options, positives)
    epochs_total = options.train.epochs + n_folds * options.calibration.fold_epochs
    progress = EpochProgress(model, report, n_folds, epochs_total)
    report(EXTRACT_SHARE, "Training", force=True)
    device = settings.OFFSIDE_DEVICE or None
    trained = train_category(model.category.name, positives, negatives, options, progress, device)
    return trained, progress.epochs


def write_checkpoint(model: TrainedModel, trained) -> None:
    """Write into a new temporary folder, then swap it in: a retried job overwrites its version's folder."""
    from scoring.checkpoint import save_checkpoint
    from scoring.files import replacing_directory

    with replacing_directory(model.directory) as folder:
        save_checkpoint(trained, folder)


def store_result(model: TrainedModel, trained, epochs: list[dict], lineage: dict, options) -> None:
    calibration = trained.calibration.to_dict()
    meta = trained.metadata
    model.mark_ready({
        "config": {**model.config, **options.to_dict(), "sampling": lineage["sampling"]},
        "lineage": {**lineage, "n_frames": meta.get("n_frames", lineage["n_frames"])},
        "curves": {
            "epochs": epochs, "best_epoch": meta.get("best_epoch"), "history": meta.get("history", []),
        },
        "calibration": thin_calibration(calibration), "threshold": calibration["threshold"],
        "auroc": calibration.get("auroc"), "n_frames": int(meta.get("n_frames", 0)),
        "device": str(meta.get("device", ""))[:100], "duration_s": meta.get("duration_s"),
    })  # fmt: skip


def ensure_still_exists(model: TrainedModel) -> None:
    """The category (and with it this version) may be deleted while training: write no orphan files then."""
    if not TrainedModel.objects.filter(pk=model.pk).exists():
        raise InputError("The category was deleted while it was being trained; nothing was saved.")


def train_category_work(job, report) -> dict:
    """Body of train_category_task: params ``model_id`` (a queued TrainedModel row)."""
    model = load_model_row(job)
    options = training_options(model.config)
    fps = model.config.get("sampling", {}).get("fps") or settings.OFFSIDE_TRAIN_FPS
    spec = sampling_spec(fps, options.model.height, options.model.width)
    report(0.0, "Extracting frames", force=True)
    positives, negatives, lineage = gather_clips(model.category, spec, report)
    trained, epochs = run_training(model, positives, negatives, options, report)
    report(TRAIN_END, "Saving", force=True)
    ensure_still_exists(model)
    write_checkpoint(model, trained)
    store_result(model, trained, epochs, lineage, options)
    return {
        "model_id": model.pk, "category": model.category.name, "version": model.version,
        "threshold": model.threshold, "auroc": model.auroc, "frames": model.n_frames,
        "active": model.is_active, "url": job.params.get("page_url", ""),
    }  # fmt: skip
