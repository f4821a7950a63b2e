"""The Celery application, configured from Django settings (namespace CELERY)."""

import os

import django
from celery import Celery
from django.apps import apps
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
if not apps.ready:
    # Task modules import Django models, so a worker process must finish Django's set-up first.
    django.setup()

app = Celery("offside")
app.config_from_object("django.conf:settings", namespace="CELERY")
# "cpu" takes decoding and probing, "gpu" takes training and scoring; one local worker consumes both.
app.conf.task_queues = [Queue("cpu"), Queue("gpu")]
app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
