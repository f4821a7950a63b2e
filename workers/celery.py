"""The Celery application of the worker: the web side's application (``webapp.job_queue``) plus its tasks.

The modules to import come from the table of job kinds (``webapp.job_kinds``), so every kind's task is
registered without import side effects.
"""

import os

import django
from django.apps import apps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
# Idle OpenMP threads sleep instead of spinning (read once when torch loads libgomp, so set before any task
# module imports torch): spinning threads doubled the VAE's CPU time on a shared machine (docs/BENCHMARKS.md,
# "Scoring throughput"). An explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
if not apps.ready:
    # Task modules import Django models, so a worker process must finish Django's set-up first.
    django.setup()

from webapp.job_queue import app  # noqa: E402 - needs Django set up first

__all__ = ["app"]
