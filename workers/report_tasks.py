"""Celery tasks started from the video report: occlusion maps (gpu queue) and video renders (cpu queue)."""

from celery import shared_task

from workers.jobs import run_job
from workers.rendering import occlusion_work, render_work


@shared_task
def heatmap_task(job_id: int) -> None:
    run_job(job_id, occlusion_work)


@shared_task
def render_task(job_id: int) -> None:
    run_job(job_id, render_work)
