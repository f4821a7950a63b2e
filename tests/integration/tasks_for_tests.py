"""Tasks loaded only into the test worker (``--include``): bodies that fail the way real ones can."""

import time
from dataclasses import replace

from celery import shared_task

from webapp.job_kinds import JOB_KINDS, JobKind, register_job_kind
from workers.jobs import run_job


def explode(job, report):
    report(0.3, "About to fail", force=True)
    raise RuntimeError("the model file is unreadable")


def sleep_with_progress(job, report):
    steps = int(job.params.get("steps", 50))
    for step in range(steps):
        report(step / steps, f"Step {step + 1} of {steps}")
        time.sleep(float(job.params.get("step_s", 0.2)))
    return {"steps": steps}


@shared_task
def explode_task(job_id: int) -> None:
    run_job(job_id, explode)


@shared_task
def slow_task(job_id: int) -> None:
    run_job(job_id, sleep_with_progress)


def record_pid_then_work(job, report):
    """Publishes the pool process id so a test can kill exactly the process running this job."""
    import os

    from webapp.models import Job

    Job.objects.filter(pk=job.pk).update(params={**job.params, "pid": os.getpid()})
    return sleep_with_progress(job, report)


@shared_task
def killable_task(job_id: int) -> None:
    run_job(job_id, record_pid_then_work)


def held(work):
    """``work`` preceded by a hold: the job publishes its pool process id, then waits while its params say
    ``hold`` (the test kills the process there, mid-job), then does the real work."""
    import os

    from webapp.models import Job

    def body(job, report):
        Job.objects.filter(pk=job.pk).update(params={**job.params, "pid": os.getpid()})
        while Job.objects.filter(pk=job.pk, params__hold=True).exists():
            report(0.05, "Held by the test")
            time.sleep(0.05)
        return work(job, report)

    return body


@shared_task
def held_probe_task(job_id: int) -> None:
    from workers.probing import probe_video_work

    run_job(job_id, held(probe_video_work))


@shared_task
def held_train_task(job_id: int) -> None:
    from workers.training import train_category_work

    run_job(job_id, held(train_category_work))


# The real kinds' rules (queue, limits, row) with a task that holds first; registered in the worker (which
# loads this module with --include) and in the test process (whose sweep sends the job again).
register_job_kind("held_probe_video", replace(JOB_KINDS["probe_video"], task=f"{__name__}.held_probe_task"))
register_job_kind("held_train", replace(JOB_KINDS["train"], task=f"{__name__}.held_train_task"))


def stubborn(job, report):
    """Swallows the soft time limit like code stuck outside Python would, so the hard limit has to act."""
    from celery.exceptions import SoftTimeLimitExceeded

    report(0.1, "Not listening", force=True)
    for _ in range(1200):
        try:
            time.sleep(0.05)
        except SoftTimeLimitExceeded:
            continue
    return {}


@shared_task
def stubborn_task(job_id: int) -> None:
    run_job(job_id, stubborn)


register_job_kind("short_probe_video", replace(JOB_KINDS["held_probe_video"], soft_s=2, hard_s=30))
register_job_kind("stubborn", JobKind(f"{__name__}.stubborn_task", "cpu", soft_s=1, hard_s=3))
