"""Celery tasks. Each is thin: it takes a job id, and ``run_job`` does claiming, progress and failure."""

import os
import tempfile
import time

from celery import shared_task
from django.conf import settings
from django.db import connection

from workers.jobs import ProgressReporter, run_job, sweep_stale_jobs
from workers.probing import make_previews_work, probe_video_work


@shared_task
def system_check_task(job_id: int) -> None:
    run_job(job_id, check_system)


@shared_task
def probe_video_task(job_id: int) -> None:
    """Probe an uploaded video (cpu queue): facts, poster, thumbnail strip; ready or failed with a reason."""
    run_job(job_id, probe_video_work)


@shared_task
def make_previews_task(job_id: int) -> None:
    """The preview store pages read (cpu queue), for a video probed before the store existed."""
    run_job(job_id, make_previews_work)


@shared_task
def sweep_stale_jobs_task() -> list[int]:
    return sweep_stale_jobs()


@shared_task
def purge_abandoned_uploads_task() -> int:
    """Remove unfinished uploads idle for UPLOAD_EXPIRE_DAYS, with their partial files."""
    from webapp.models import Upload

    return Upload.purge_abandoned()


def check_system(job, report: ProgressReporter) -> dict:
    """Checks each part a real job needs, reporting one step at a time; raises on the first broken part."""
    steps = [
        ("Database", check_database),
        ("Media storage", check_media_storage),
        ("Compute device", check_compute_device),
    ]
    pause_s = float(job.params.get("pause_s", 0.2))
    results = {}
    for index, (name, check) in enumerate(steps):
        report(index / len(steps), f"Checking {name.lower()}", force=True)
        results[name] = check()
        time.sleep(pause_s)  # lets a user watch the bar move; also gives cancel a chance between steps
    report(1.0, "All checks passed", force=True)
    return {"checks": results}


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return f"{connection.vendor} OK"


def check_media_storage() -> str:
    root = settings.MEDIA_ROOT
    os.makedirs(root, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-") as handle:
        handle.write(b"ok")
    return f"{root} writable"


def check_compute_device() -> str:
    from scoring.device import choose_device

    return str(choose_device())
