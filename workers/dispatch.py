"""Maps job kinds to Celery tasks and sends a job's task to its queue."""

import logging

from workers.celery import app

logger = logging.getLogger(__name__)

TASK_BY_KIND: dict[str, str] = {
    "system_check": "workers.tasks.system_check_task",
    "probe_video": "workers.tasks.probe_video_task",
    "extract_frames": "workers.training_tasks.extract_frames_task",
    "train": "workers.training_tasks.train_category_task",
    "score": "workers.training_tasks.score_video_task",
    "heatmap": "workers.report_tasks.heatmap_task",
    "recalibrate": "workers.training_tasks.recalibrate_task",
    "render": "workers.report_tasks.render_task",
}


def register_task(kind: str, task_name: str) -> None:
    TASK_BY_KIND[kind] = task_name


def dispatch_job(job_id: int) -> None:
    """Send the job's task; a broker failure fails the job instead of leaving it queued forever."""
    from webapp.models import Job

    job = Job.objects.get(pk=job_id)
    task_name = TASK_BY_KIND.get(job.kind)
    if task_name is None:
        job.fail(f"No task handles jobs of kind {job.kind!r}.")
        return
    try:
        result = app.send_task(task_name, args=[job.pk], queue=job.queue)
    except Exception as exc:  # noqa: BLE001 - kombu raises many types when Redis is down
        logger.exception("could not enqueue job %s", job.pk)
        job.fail(f"Could not reach the task queue: {exc}")
        return
    Job.objects.filter(pk=job.pk).update(celery_task_id=result.id)
