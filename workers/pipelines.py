"""Jobs that must run one after another on different queues: frame extraction (cpu), then training or scoring
(gpu). They are sent as one Celery chain, so a GPU worker never sits decoding video."""

import logging

from celery import chain

from workers.celery import app
from workers.dispatch import TASK_BY_KIND

logger = logging.getLogger(__name__)


def dispatch_in_order(job_ids: list[int]) -> None:
    """Send the jobs' tasks as a chain, each on its job's queue. ``run_job`` never raises, so every job runs
    whatever the previous one's outcome; a later job that needs a failed extraction fails with its reason."""
    from webapp.models import Job

    jobs = [Job.objects.get(pk=pk) for pk in job_ids]
    signatures = [
        app.signature(TASK_BY_KIND[job.kind], args=[job.pk], queue=job.queue, immutable=True) for job in jobs
    ]
    try:
        result = chain(*signatures).apply_async()
    except Exception as exc:  # noqa: BLE001 - kombu raises many types when Redis is down
        logger.exception("could not enqueue jobs %s", job_ids)
        for job in jobs:
            job.fail(f"Could not reach the task queue: {exc}")
        return
    for job in reversed(jobs):  # the chain's result is its last task; .parent walks back to the first
        Job.objects.filter(pk=job.pk).update(celery_task_id=result.id)
        result = result.parent
        if result is None:
            break
