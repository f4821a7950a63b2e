"""Celery app and thin tasks; see workers/celery.py."""

from workers.celery import app as celery_app

__all__ = ["celery_app"]
