from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """Registers the worker's management commands; the worker has no models of its own."""

    name = "workers"
    verbose_name = "Offside workers"
