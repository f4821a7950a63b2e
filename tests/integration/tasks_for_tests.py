"""Tasks loaded only into the test worker (``--include``): bodies that fail the way real ones can."""

import time

from celery import shared_task

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
