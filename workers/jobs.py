"""The one way tasks run a Job: claim it, heartbeat it, report progress, and always finish it.

A task body is a function ``work(job, report) -> dict`` (the dict becomes ``job.result``). ``report`` is a
:class:`ProgressReporter`; it raises :class:`JobCancelled` when the user cancelled the job.
"""

import logging
import threading
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.signals import task_failure
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from webapp.events import publish_job_event
from webapp.models import Job, JobCancelled, Video

logger = logging.getLogger(__name__)


class InputError(Exception):
    """The job's input is unusable (bad file, deleted row, wrong parameter): fail with this message."""


def job_video(job: Job, missing_message: str) -> Video:
    """The video a job works on; ``missing_message`` fails the job when the video was deleted meanwhile."""
    video_id = job.video_id or job.params.get("video_id")
    video = Video.objects.filter(pk=video_id).first() if video_id else None
    if video is None:
        raise InputError(missing_message)
    return video


class ProgressReporter:
    """Turns progress callbacks into throttled Job updates and channel-layer events."""

    def __init__(self, job: Job, min_interval_s: float = 0.5):
        self.job = job
        self.min_interval_s = min_interval_s
        self._last_write = 0.0
        self._last_stage: str | None = None

    def __call__(
        self, progress: float, stage: str | None = None, extra: dict | None = None, force: bool = False
    ) -> None:
        now = time.monotonic()
        stage_changed = stage is not None and stage != self._last_stage
        if not (force or stage_changed or extra or now - self._last_write >= self.min_interval_s):
            return
        self._last_write = now
        self._last_stage = stage if stage is not None else self._last_stage
        if self.job.cancellation_requested():
            raise JobCancelled()
        self.job.save_progress(progress, stage)
        publish_job_event(self.job, extra)


class Heartbeat:
    """Writes the job's heartbeat from a side thread, so long steps without progress are not swept."""

    def __init__(self, job: Job, interval_s: float):
        self.job = job
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-job-{job.pk}", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                self.job.heartbeat()
        except Exception:  # noqa: BLE001 - a lost heartbeat only means the sweep may fail the job
            logger.warning("heartbeat for job %s stopped", self.job.pk, exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 5)


def run_job(job_id: int, work: Callable[[Job, ProgressReporter], dict | None]) -> None:
    """Claim the job and run ``work``; every outcome ends in succeeded, failed or cancelled."""
    close_old_connections()
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("job %s no longer exists", job_id)
        return
    if not job.claim():
        logger.info("job %s not claimed (status %s)", job_id, job.status)
        return
    job.publish()
    try:
        with Heartbeat(job, settings.JOB_HEARTBEAT_S):
            result = work(job, ProgressReporter(job))
    except JobCancelled:
        job.mark_cancelled()
    except InputError as exc:
        job.fail(str(exc))
    except SoftTimeLimitExceeded:
        job.fail_time_limit()
    except Exception as exc:  # noqa: BLE001 - whatever the task raised, the job must end failed
        logger.exception("job %s failed", job_id)
        job.fail(f"{type(exc).__name__}: {exc}", row_reason=unexpected_failure(job, exc))
    else:
        job.succeed(result or {})
    finally:
        close_old_connections()


def unexpected_failure(job: Job, exc: BaseException) -> str:
    """What the job's row shows after an error nobody foresaw: "Training failed (KeyError: 'x')."."""
    activity = job.spec.row.activity if job.spec.row is not None else "The job"
    return f"{activity} failed unexpectedly ({type(exc).__name__}: {exc})."


def sweep_stale_jobs() -> list[int]:
    """Fail or retry jobs whose worker stopped heartbeating (killed, out of memory, lost its host); a job
    that ran past its kind's hard time limit is failed for that, never retried."""
    swept = []
    for job in Job.objects.stale():
        started_s = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
        if job.spec.hard_s and started_s > job.spec.hard_s:
            job.fail_time_limit()
        elif job.attempts < job.max_attempts and job.requeue_after_worker_loss():
            job.publish()
        else:
            job.fail(
                "The worker running this job stopped responding (killed or out of memory) "
                f"after {job.attempts} attempt(s)."
            )
        swept.append(job.pk)
    return swept


@task_failure.connect
def fail_job_past_hard_time_limit(sender=None, exception=None, args=None, **kwargs) -> None:
    """The worker killed a task past its hard time limit (Python could not be interrupted, e.g. inside a
    decoder): its job and row end failed now, rather than when the sweep notices the silent heartbeat."""
    if not isinstance(exception, TimeLimitExceeded) or not args:
        return
    job = Job.objects.filter(pk=args[0]).first()
    if job is not None:
        job.fail_time_limit()
