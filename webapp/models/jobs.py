"""Jobs: every long piece of work (probe, extract, train, score, heatmap) is a Job row plus a Celery task.

State changes are methods here so that views, tasks and the sweep all follow the same rules.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")


class JobCancelled(Exception):
    """Raised inside a running task when the user asked to cancel its job."""


class JobQuerySet(models.QuerySet):
    def visible_to(self, user) -> "JobQuerySet":
        return self if user.is_staff else self.filter(owner=user)

    def active(self) -> "JobQuerySet":
        return self.filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING))

    def stale(self, now=None) -> "JobQuerySet":
        """Running jobs whose heartbeat stopped: their worker died or lost its database."""
        now = now or timezone.now()
        cutoff = now - timedelta(seconds=settings.JOB_STALE_AFTER_S)
        return self.filter(status=Job.Status.RUNNING).filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        )


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Kind(models.TextChoices):
        SYSTEM_CHECK = "system_check", "System check"
        PROBE_VIDEO = "probe_video", "Probe video"
        EXTRACT_FRAMES = "extract_frames", "Extract frames"
        TRAIN = "train", "Train model"
        SCORE = "score", "Score video"
        HEATMAP = "heatmap", "Heatmap"
        RECALIBRATE = "recalibrate", "Recalibrate model"
        RENDER = "render", "Render video"
        PREVIEWS = "previews", "Frame previews"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=16, default="cpu")
    celery_task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=2)
    cancel_requested = models.BooleanField(default=False)
    # Number of the last event published for this job: a page that misses one (a gap) asks for a snapshot.
    event_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the job worked on, so a video's or category's page can list "jobs that touched it".
    video = models.ForeignKey(
        "webapp.Video", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    category = models.ForeignKey(
        "webapp.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def duration_s(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()

    @property
    def display_title(self) -> str:
        return self.title or self.get_kind_display()

    def is_visible_to(self, user) -> bool:
        return user.is_authenticated and (user.is_staff or self.owner_id == user.pk)

    # --- the one way to create and send a job -----------------------------------------------------------

    @property
    def spec(self):
        """This job's kind's rules (``webapp.job_kinds.JobKind``); a kind no task handles has no row rule."""
        from webapp.job_kinds import JOB_KINDS, JobKind

        return JOB_KINDS.get(self.kind) or JobKind(task="", queue=self.queue, soft_s=0, hard_s=0)

    @classmethod
    def start(
        cls,
        kind: str,
        owner,
        *,
        title: str = "",
        params: dict | None = None,
        after=(),
        enqueue: bool = True,
        **fields,
    ) -> "Job":
        """Create a queued job of ``kind`` and send its task once the transaction commits.

        ``params`` must hold the id of the kind's row (``webapp.job_kinds``); ``fields`` are further Job
        fields (``video``, ``category``, ``max_attempts``). ``after`` are unsent jobs that must run first
        (frame extraction before training); they are sent with this one as a chain. With ``enqueue=False``
        nothing is sent (management commands run the work in their own process).
        """
        from webapp.job_kinds import job_kind

        spec = job_kind(kind)
        job = cls.objects.create(
            kind=kind, owner=owner, title=title[:200], params=params or {}, queue=spec.queue, stage="Queued",
            **fields,
        )  # fmt: skip
        if enqueue:
            job.enqueue(after)
        return job

    def enqueue(self, after=()) -> None:
        """Send the tasks of ``after`` jobs then this one's, by name, when the transaction commits; each job's
        "queued" event goes out first, so open lists show it before a worker is free to claim it."""
        from webapp.job_queue import send_jobs

        ids = [job.pk for job in after] + [self.pk]
        if after:
            waiting = f"Waiting for frame extraction ({len(after)} video(s))"
            Job.objects.filter(pk=self.pk).update(stage=waiting)
            self.stage = waiting

        def publish_and_send():
            for job in Job.objects.filter(pk__in=ids):
                job.publish()
            send_jobs(ids)

        transaction.on_commit(publish_and_send)

    # --- state changes: each one updates the job and its row in one transaction ------------------------

    def claim(self) -> bool:
        """Move queued -> running with one conditional UPDATE, so two workers never run the same job; the
        job's row (a video, a model version, a run) moves to its running status with it."""
        now = timezone.now()
        with transaction.atomic():
            claimed = Job.objects.filter(
                pk=self.pk, status=Job.Status.QUEUED, cancel_requested=False
            ).update(
                status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, finished_at=None, error="",
                attempts=F("attempts") + 1,
            )  # fmt: skip
            if claimed and self.spec.row is not None:
                self.spec.row.start(self)
        self.refresh_from_db()
        return claimed == 1

    def heartbeat(self) -> None:
        Job.objects.filter(pk=self.pk, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())

    def save_progress(self, progress: float, stage: str | None = None) -> None:
        """Persist progress of a running job; returns silently when the job is no longer running."""
        self.progress = min(max(float(progress), 0.0), 1.0)
        fields = {"progress": self.progress, "heartbeat_at": timezone.now()}
        if stage is not None:
            self.stage = stage[:200]
            fields["stage"] = self.stage
        Job.objects.filter(pk=self.pk, status=Job.Status.RUNNING).update(**fields)

    def cancellation_requested(self) -> bool:
        return Job.objects.filter(pk=self.pk, cancel_requested=True).exists()

    def _finish(self, status: str, row_reason: str = "", **fields) -> bool:
        """End a queued or running job and its row together; the final event goes out after the commit.
        Returns False (and changes nothing) when the job had already ended."""
        now = timezone.now()
        with transaction.atomic():
            updated = Job.objects.filter(
                pk=self.pk, status__in=(Job.Status.QUEUED, Job.Status.RUNNING)
            ).update(status=status, finished_at=now, heartbeat_at=now, **fields)
            row = self.spec.row if updated else None
            if row is not None:
                row.end(self, status, row_reason)
        self.refresh_from_db()
        if updated:
            self.publish()
        return updated == 1

    def succeed(self, result: dict | None = None, stage: str = "Done") -> bool:
        return self._finish(Job.Status.SUCCEEDED, progress=1.0, stage=stage, result=result or {})

    def fail(self, error: str, stage: str = "Failed", row_reason: str | None = None) -> bool:
        """Fail the job with ``error``; its row fails with ``row_reason`` (the same text by default)."""
        return self._finish(Job.Status.FAILED, row_reason or error, error=error[:5000], stage=stage)

    def mark_cancelled(self) -> bool:
        row = self.spec.row
        reason = f"{row.activity} was cancelled." if row is not None else "Cancelled."
        return self._finish(Job.Status.CANCELLED, reason, stage="Cancelled")

    def fail_time_limit(self) -> bool:
        """End a job that ran past its kind's time limit (the worker stopped it)."""
        return self.fail(self.spec.time_limit_reason(), stage="Time limit exceeded")

    def request_cancel(self) -> None:
        """Queued jobs stop at once; running ones stop at their next progress report."""
        Job.objects.filter(pk=self.pk).update(cancel_requested=True)
        self.refresh_from_db()
        if self.status == Job.Status.QUEUED:
            self.mark_cancelled()

    def requeue_after_worker_loss(self) -> bool:
        """Give a job whose worker died one more try (sent again); returns False when it was not running."""
        with transaction.atomic():
            updated = Job.objects.filter(pk=self.pk, status=Job.Status.RUNNING).update(
                status=Job.Status.QUEUED, stage="Retrying after the worker was lost", progress=0.0
            )
            if updated and self.spec.row is not None:
                self.spec.row.requeue(self)
            if updated:
                self.enqueue()
        self.refresh_from_db()
        return updated == 1

    def prepare_retry(self) -> bool:
        """Reset a failed or cancelled job (and its failed row) to be sent again with the same parameters."""
        with transaction.atomic():
            updated = Job.objects.filter(
                pk=self.pk, status__in=(Job.Status.FAILED, Job.Status.CANCELLED)
            ).update(
                status=Job.Status.QUEUED, progress=0.0, stage="Queued", error="", cancel_requested=False,
                attempts=0, started_at=None, finished_at=None, heartbeat_at=None,
            )  # fmt: skip
            if updated and self.spec.row is not None:
                self.spec.row.requeue(self)
        self.refresh_from_db()
        return updated == 1

    def publish(self) -> None:
        from webapp.events import publish_job_event

        publish_job_event(self)

    def next_event_seq(self) -> int:
        """Number the next event of this job (1, 2, ...)."""
        Job.objects.filter(pk=self.pk).update(event_seq=F("event_seq") + 1)
        self.event_seq = Job.objects.filter(pk=self.pk).values_list("event_seq", flat=True).first() or 0
        return self.event_seq

    def snapshot(self) -> dict:
        """Everything a page needs to show this job from scratch, numbered with the last event it includes:
        the job's state, its row's status, and for a training the epochs so far (n of N) with their losses."""
        self.refresh_from_db()
        event = {
            **self.as_event(),
            "type": "job.snapshot",
            "seq": self.event_seq,
            "row_status": self.row_status(),
        }
        model = self.trained_models.first() if self.kind == Job.Kind.TRAIN else None
        if model is not None:
            event.update(model.epoch_facts())
        return event

    def row_status(self) -> str | None:
        """Status of the row this job works on (a video, a version, a run), or None."""
        row = self.spec.row
        row_id = self.params.get(row.id_param) if row is not None else None
        if row_id is None:
            return None
        from django.apps import apps

        return apps.get_model(row.model).objects.filter(pk=row_id).values_list("status", flat=True).first()

    def as_event(self) -> dict:
        return {
            "type": "job.update",
            "id": self.pk,
            "kind": self.kind,
            "title": self.display_title,
            "status": self.status,
            "progress": round(self.progress, 4),
            "stage": self.stage,
            "error": self.error,
            "result": self.result,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": self.duration_s,
        }
