"""The worker side: Celery tasks (``workers/celery.py`` holds the application) and the management commands
that run a job's work in their own process (``train_category``, ``score_video``,
``import_videos --process-here``).

This package is also a Django app (for those commands), so importing it must not set Django up: the Celery
application lives in ``workers.celery``, which ``celery -A workers`` finds by that name.
"""
