"""Celery tasks: frame extraction (cpu queue); training, scoring, recalibration (gpu queue). Ids only."""

from celery import shared_task

from workers.framesets import extract_frames_work
from workers.jobs import run_job
from workers.recalibration import recalibrate_work
from workers.score_runs import score_video_work
from workers.training import train_category_work


@shared_task
def extract_frames_task(job_id: int) -> None:
    run_job(job_id, extract_frames_work)


@shared_task
def train_category_task(job_id: int) -> None:
    run_job(job_id, train_category_work)


@shared_task
def score_video_task(job_id: int) -> None:
    run_job(job_id, score_video_work)


@shared_task
def recalibrate_task(job_id: int) -> None:
    run_job(job_id, recalibrate_work)
