"""The Celery application as the web side sees it: a broker client that sends jobs' tasks by name.

The worker (``workers/celery.py``) uses this same application and registers the tasks; the web side never
imports them. Configuration comes from Django settings (namespace ``CELERY``).
"""

import logging

from celery import Celery, chain
from kombu import Queue

from webapp.job_kinds import job_kind, task_modules

logger = logging.getLogger(__name__)

app = Celery("offside")
app.config_from_object("django.conf:settings", namespace="CELERY")
# "cpu" takes decoding and probing, "gpu" takes training and scoring; one local worker consumes both.
app.conf.task_queues = [Queue("cpu"), Queue("gpu")]
app.conf.imports = task_modules()


def signature(job):
    """The job's task by name, on its kind's queue and with its kind's time limits; ids only."""
    spec = job_kind(job.kind)
    return app.signature(
        spec.task, args=[job.pk], queue=spec.queue, soft_time_limit=spec.soft_s, time_limit=spec.hard_s,
        immutable=True,
    )  # fmt: skip


def send_jobs(job_ids: list[int]) -> None:
    """Send the jobs' tasks as one chain (each on its own queue), so a job waiting for another's output (a
    training after frame extraction) starts after it. ``run_job`` never raises, so each job in the chain
    runs whatever the previous one's outcome. A dead broker fails the jobs rather than leave them queued."""
    from webapp.models import Job

    jobs = list(Job.objects.filter(pk__in=job_ids))
    jobs.sort(key=lambda job: job_ids.index(job.pk))
    if not jobs:
        return
    try:
        signatures = [signature(job) for job in jobs]
        result = chain(*signatures).apply_async() if len(signatures) > 1 else signatures[0].apply_async()
    except KeyError as exc:
        for job in jobs:
            job.fail(str(exc.args[0]))
        return
    except Exception as exc:  # noqa: BLE001 - kombu raises many types when Redis is down
        logger.exception("could not enqueue jobs %s", job_ids)
        for job in jobs:
            job.fail(f"Could not reach the task queue: {exc}")
        return
    for job in reversed(jobs):  # a chain's result is its last task; .parent walks back to the first
        Job.objects.filter(pk=job.pk).update(celery_task_id=result.id)
        result = result.parent
        if result is None:
            break
