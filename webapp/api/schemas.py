"""Request and response bodies of the JSON API (pydantic models through django-ninja)."""

from datetime import datetime
from uuid import UUID

from ninja import Field, Schema
from pydantic import StrictInt

from webapp.models import TrainedModel
from webapp.models.uploads import MAX_FILENAME_CHARS
from webapp.thresholds import false_alarms


class ErrorDetail(Schema):
    code: str
    message: str
    details: dict | list | None = None


class ErrorOut(Schema):
    error: ErrorDetail


class VideoOut(Schema):
    id: int
    title: str
    original_name: str
    status: str
    error: str
    size_bytes: int
    sha256: str
    duration_s: float | None
    fps: float | None
    width: int | None
    height: int | None
    codec: str
    pix_fmt: str
    sample_aspect_ratio: str
    rotation_deg: int
    interlaced: bool
    variable_frame_rate: bool
    has_audio: bool
    discontinuities: int
    start_timecode: str
    probe_warning: str = Field(
        "", description='What a usable file got wrong: "file ends early: header says 8.0 s, decoded 4.0 s"'
    )
    created_at: datetime


class UploadIn(Schema):
    filename: str = Field(..., min_length=1, max_length=MAX_FILENAME_CHARS)
    size: StrictInt = Field(..., ge=0)  # strict: true, false and 1.5 are refused, not coerced
    head_sha256: str | None = Field(
        None, pattern="^[0-9a-fA-F]{64}$", description="SHA-256 of the first MiB (whole file if shorter)"
    )


class UploadOut(Schema):
    id: UUID
    filename: str
    offset: int
    size: int
    status: str
    sha256: str | None = None  # of the whole file, once the last byte arrived
    video: dict | None = None  # {"id", "title", "status", ...} once the last byte arrived
    resumed: bool = False  # true when beginning found the same file's unfinished upload


class CategoryIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=5000)
    colour: str = Field("#1f7a4d", pattern=r"^#[0-9a-fA-F]{6}$")


class CategoryPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=5000)
    colour: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")


class CategoryOut(Schema):
    id: int
    name: str
    description: str
    colour: str
    created_at: datetime
    updated_at: datetime


class ClipIn(Schema):
    video_id: int = Field(..., ge=1)
    start_s: float | None = Field(None, ge=0, le=1e7)
    end_s: float | None = Field(None, ge=0, le=1e7)
    is_negative: bool = False


class ClipOut(Schema):
    id: int
    category_id: int
    video_id: int
    start_s: float | None
    end_s: float | None
    is_negative: bool
    overlap_warning: str = Field("", description="names the clips of the same video this one overlaps")


class TrainIn(Schema):
    """All optional: the defaults train a sensible model."""

    epochs: int | None = Field(None, ge=1, le=1000)
    latent_dim: int | None = Field(None, ge=2, le=512)
    input_height: int | None = Field(None, ge=16, le=512)
    input_width: int | None = Field(None, ge=16, le=512)
    beta: float | None = Field(None, ge=0, le=100)
    fps: float | None = Field(None, ge=0.05, le=60)
    batch_size: int | None = Field(None, ge=1, le=4096)
    lr: float | None = Field(None, ge=1e-6, le=1)
    percentile: float | None = Field(None, ge=50, le=100)
    method: str | None = Field(None, pattern="^(auto|percentile|f1)$")
    holdout: str | None = Field(None, pattern="^(clips|blocks)$")
    fold_epochs: int | None = Field(None, ge=1, le=1000)


class ModelOut(Schema):
    id: int
    category_id: int
    version: int
    status: str = Field(
        description="queued, training, ready, failed, cancelled or archived; the same word "
        "as the version's page (a cancelled training is cancelled, with the reason in error)"
    )
    is_active: bool
    error: str
    threshold: float | None
    auroc: float | None
    n_frames: int
    device: str
    trained_at: datetime | None
    job_id: int | None
    false_alarms_per_hour: float | None = Field(
        None, description="out segments per hour of in-category video at the threshold (held-out frames)"
    )

    @staticmethod
    def resolve_false_alarms_per_hour(obj) -> float | None:
        alarms = false_alarms(obj) if isinstance(obj, TrainedModel) else None
        return alarms.per_hour if alarms else None


class ScoreIn(Schema):
    """Score one video against model versions: ``model_ids``, or the active versions of ``category_ids``."""

    video_id: int = Field(..., ge=1)
    model_ids: list[int] = Field(default_factory=list, max_length=50)
    category_ids: list[int] = Field(default_factory=list, max_length=50)
    fps: float | None = Field(None, ge=0.05, le=60)
    window_s: float | None = Field(None, ge=0, le=60)
    high: float | None = Field(None, ge=0.01, le=100)
    low: float | None = Field(None, ge=0.01, le=100)
    min_segment_s: float | None = Field(None, ge=0, le=600)
    snap_to_cuts_s: float | None = Field(None, ge=0, le=10)


class RunOut(Schema):
    id: int
    video_id: int
    status: str = Field(description="queued, running, succeeded, failed or cancelled, as on the run's page")
    error: str
    n_frames: int
    model_versions: list[dict]
    summary: dict
    job_id: int | None
    created_at: datetime
    finished_at: datetime | None
    reviewed_at: datetime | None = None  # set while a person's corrections replace the machine's segments


class ReviewedSegmentIO(Schema):
    start_s: float
    end_s: float
    label: str = Field(..., pattern="^(in|out)$")
    category: str = Field("", max_length=100)
    mean_score: float = 0.0  # the machine's mean score over the span (ignored when sent)


class ReviewIn(Schema):
    segments: list[ReviewedSegmentIO] = Field(..., min_length=1, max_length=100_000)


class SegmentOut(Schema):
    index: int
    start_s: float
    end_s: float
    label: str
    category: str
    mean_score: float


class FramesOut(Schema):
    categories: list[str]
    timestamps_s: list[float]
    scores: list[list[float]]  # (n_categories, n_frames), 1.0 is each category's threshold
    out: list[bool] | None = None


class JobOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    progress: float
    stage: str
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
