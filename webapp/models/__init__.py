"""Offside's database models, one module per area; import them from here."""

from webapp.models.jobs import Job, JobCancelled

__all__ = ["Job", "JobCancelled"]
