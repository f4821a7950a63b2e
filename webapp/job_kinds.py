"""The table of job kinds: the single place that knows how each kind of job runs and what it changes.

A kind names its Celery task (sent by name, so ``webapp`` never imports ``workers``), its queue, its time
limits and the row it works on (the video a probe reads, the model version a training fills, the scoring
run a score fills) with the statuses that row takes while the job runs and when it ends. ``webapp.models.Job``
applies these rules in the same transaction as the job's own change, however the job ends: its work returns
or raises, the user cancels it, the sweep fails it after its worker died, or it runs past its time limit.
"""

from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

HOUR_S = 3600


@dataclass(frozen=True)
class RowRule:
    """How the row a job works on follows the job.

    ``model`` is the row's model ("webapp.Video"), ``id_param`` the key of ``Job.params`` holding its id.
    The row moves to ``running`` when the job is claimed, to ``succeeded``, ``failed`` or ``cancelled`` (the
    last two with the reason in its ``error`` field) when the job ends that way, and back to ``queued`` when a
    failed or cancelled job is retried; every page and the API show that one status. It only moves
    out of ``unfinished`` statuses, so a finished row (a ready version) is never overwritten by a late event.
    ``finished_field`` is a timestamp field set when the job ends. ``activity`` starts the row's failure
    text ("Training was cancelled.").
    """

    model: str
    id_param: str
    activity: str
    queued: str
    running: str
    succeeded: str
    failed: str
    cancelled: str
    unfinished: tuple[str, ...]
    finished_field: str | None = None

    def rows(self, job, statuses):
        row_id = job.params.get(self.id_param)
        if row_id is None:
            return None
        return apps.get_model(self.model).objects.filter(pk=row_id, status__in=statuses)

    def start(self, job) -> None:
        rows = self.rows(job, self.unfinished)
        if rows is not None:
            rows.update(status=self.running, error="")

    def status_after(self, job_status: str) -> str:
        """The row's status once its job ended with ``job_status`` (succeeded, failed or cancelled)."""
        return {"succeeded": self.succeeded, "failed": self.failed, "cancelled": self.cancelled}[job_status]

    def end(self, job, job_status: str, reason: str) -> None:
        rows = self.rows(job, self.unfinished)
        if rows is None:
            return
        fields = {"status": self.status_after(job_status), "error": ""}
        if job_status != "succeeded":
            fields["error"] = reason[:2000]
        if self.finished_field:
            fields[self.finished_field] = timezone.now()
        rows.update(**fields)

    def requeue(self, job) -> None:
        rows = self.rows(job, (self.failed, self.cancelled, *self.unfinished))
        if rows is not None:
            rows.update(status=self.queued, error="")


@dataclass(frozen=True)
class JobKind:
    """How one kind of job runs: Celery task name, queue, time limits (seconds) and its row's rule.

    At ``soft_s`` the task gets ``SoftTimeLimitExceeded`` (its job ends failed with a time-limit reason); at
    ``hard_s`` the worker kills a task stuck where Python cannot interrupt it (a hung decoder) and the job
    ends failed the same way.
    """

    task: str
    queue: str
    soft_s: int
    hard_s: int
    row: RowRule | None = None

    def time_limit_reason(self) -> str:
        return f"It ran longer than its time limit ({format_limit(self.soft_s)}) and was stopped."


def format_limit(seconds: int) -> str:
    if seconds >= HOUR_S:
        return f"{seconds / HOUR_S:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds} s"


VIDEO_ROW = RowRule(
    model="webapp.Video", id_param="video_id", activity="Processing", queued="uploaded",
    running="processing", succeeded="ready", failed="failed", cancelled="failed",
    unfinished=("uploaded", "processing"),
    finished_field="probed_at",
)  # fmt: skip
MODEL_ROW = RowRule(
    model="webapp.TrainedModel", id_param="model_id", activity="Training", queued="queued",
    running="training", succeeded="ready", failed="failed", cancelled="cancelled",
    unfinished=("queued", "training"),
)  # fmt: skip
RUN_ROW = RowRule(
    model="webapp.ScoringRun", id_param="run_id", activity="Scoring", queued="queued", running="running",
    succeeded="succeeded", failed="failed", cancelled="cancelled", unfinished=("queued", "running"),
    finished_field="finished_at",
)  # fmt: skip

# Limits are generous for the work a kind does on a long match (90 min of 1080p); a job past them is hung.
JOB_KINDS: dict[str, JobKind] = {
    "system_check": JobKind("workers.tasks.system_check_task", "cpu", soft_s=120, hard_s=180),
    "probe_video": JobKind("workers.tasks.probe_video_task", "cpu", soft_s=900, hard_s=960, row=VIDEO_ROW),
    "previews": JobKind("workers.tasks.make_previews_task", "cpu", soft_s=900, hard_s=960),
    "extract_frames": JobKind("workers.training_tasks.extract_frames_task", "cpu", 4 * HOUR_S,
                              4 * HOUR_S + 300),
    "train": JobKind("workers.training_tasks.train_category_task", "gpu", 24 * HOUR_S, 24 * HOUR_S + 600,
                     row=MODEL_ROW),
    "score": JobKind("workers.training_tasks.score_video_task", "gpu", 8 * HOUR_S, 8 * HOUR_S + 300,
                     row=RUN_ROW),
    "heatmap": JobKind("workers.report_tasks.heatmap_task", "gpu", soft_s=1800, hard_s=1900),
    "recalibrate": JobKind("workers.training_tasks.recalibrate_task", "gpu", 2 * HOUR_S, 2 * HOUR_S + 300),
    "render": JobKind("workers.report_tasks.render_task", "cpu", 6 * HOUR_S, 6 * HOUR_S + 300),
}  # fmt: skip
# Periodic tasks that are no job's work (see CELERY_BEAT_SCHEDULE); their modules load in the worker too.
PERIODIC_TASK_MODULES = ("workers.tasks",)


def job_kind(kind: str) -> JobKind:
    """The rules of ``kind``; ``KeyError`` names the kind when no task handles it."""
    try:
        return JOB_KINDS[kind]
    except KeyError:
        raise KeyError(f"No task handles jobs of kind {kind!r}.") from None


def register_job_kind(kind: str, spec: JobKind) -> None:
    """Add a kind (extensions and the test worker's tasks); the worker must load its task's module too."""
    JOB_KINDS[kind] = spec


def task_modules() -> list[str]:
    """Modules the worker imports so that every kind's task (and each periodic task) is registered."""
    modules = {spec.task.rsplit(".", 1)[0] for spec in JOB_KINDS.values()}
    return sorted(modules | set(PERIODIC_TASK_MODULES))
