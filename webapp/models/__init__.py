"""Offside's database models, one module per area; import them from here."""

from webapp.models.categories import Category, ReferenceClip
from webapp.models.jobs import Job, JobCancelled
from webapp.models.runs import ScoringRun, Segment
from webapp.models.tokens import ApiToken
from webapp.models.training import FrameSet, TrainedModel
from webapp.models.uploads import Upload, UploadError
from webapp.models.videos import Video

__all__ = [
    "ApiToken",
    "Category",
    "FrameSet",
    "Job",
    "JobCancelled",
    "ReferenceClip",
    "ScoringRun",
    "Segment",
    "TrainedModel",
    "Upload",
    "UploadError",
    "Video",
]
