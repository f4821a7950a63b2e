"""Videos and the helpers that keep their files safe (paths from ids only, display-only client names).

Files live under ``MEDIA_ROOT`` at paths built from row ids only (never from client-supplied names):
``videos/<id>/original.<ext>``, ``videos/<id>/poster.jpg``, ``videos/<id>/strip.jpg``, derived frames under
``frames/<id>/`` (the preview store pages read in ``frames/<id>/previews/``) and unfinished uploads under
``uploads/<uuid>.part``.
"""

import hashlib
import re
import shutil
import unicodedata
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from webapp.media_layout import frames_dir, media_path, previews_dir, remove_after_commit, video_dir

HASH_BLOCK_BYTES = 1024 * 1024
VIDEO_EXTENSIONS = frozenset(
    {
        "mp4",
        "m4v",
        "mov",
        "mkv",
        "webm",
        "avi",
        "mpg",
        "mpeg",
        "ts",
        "mts",
        "m2ts",
        "wmv",
        "flv",
        "ogv",
        "3gp",
    }
)
CONTENT_TYPES = {
    "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "mkv": "video/x-matroska",
    "webm": "video/webm", "avi": "video/x-msvideo", "mpg": "video/mpeg", "mpeg": "video/mpeg",
    "ts": "video/mp2t", "mts": "video/mp2t", "m2ts": "video/mp2t", "ogv": "video/ogg", "3gp": "video/3gpp",
    "wmv": "video/x-ms-wmv", "flv": "video/x-flv",
}  # fmt: skip


def safe_display_name(name: str, max_length: int = 200) -> str:
    """A client file name reduced to its last component, printable characters only; used for display only."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
    return name[:max_length] or "untitled"


def safe_extension(name: str) -> str:
    """Lower-case extension of ``name`` made of [a-z0-9] only (at most 8 characters), or ``bin``."""
    suffix = Path(safe_display_name(name)).suffix.lower().lstrip(".")
    return suffix if re.fullmatch(r"[a-z0-9]{1,8}", suffix) else "bin"


def title_from_name(name: str) -> str:
    display = safe_display_name(name)
    stem = Path(display).stem if "." in display else display
    return stem[:200] or "untitled"


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def format_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def decode_limits():
    """The decoding limits of settings (pixels per frame, duration) as a ``scoring.frames.DecodeLimits``."""
    from scoring.frames import DecodeLimits

    pixels, duration_s = settings.OFFSIDE_MAX_FRAME_PIXELS, float(settings.OFFSIDE_MAX_DURATION_S)
    return DecodeLimits(max_frame_pixels=pixels, max_duration_s=duration_s)


# --- videos -------------------------------------------------------------------------------------------------


class VideoQuerySet(models.QuerySet):
    def visible_to(self, user) -> "VideoQuerySet":
        return self if user.is_staff else self.filter(owner=user)

    def search(self, text: str) -> "VideoQuerySet":
        text = text.strip()
        if not text:
            return self
        return self.filter(models.Q(title__icontains=text) | models.Q(original_name__icontains=text))

    def with_latest_probe_job(self) -> "VideoQuerySet":
        from webapp.models.jobs import Job

        latest = Job.objects.filter(video=models.OuterRef("pk"), kind=Job.Kind.PROBE_VIDEO).order_by("-pk")
        return self.annotate(probe_job_id=models.Subquery(latest.values("pk")[:1]))


class Video(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos")
    title = models.CharField(max_length=200)
    original_name = models.CharField(max_length=255, blank=True)
    extension = models.CharField(max_length=8, default="bin")
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    error = models.TextField(blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    frame_count = models.PositiveIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=16, blank=True)
    rotation_deg = models.SmallIntegerField(default=0)
    # Stream facts from the PyAV probe (scoring.frames.VideoInfo): how the file must be read and shown.
    pix_fmt = models.CharField(max_length=32, blank=True)
    sample_aspect_ratio = models.CharField(max_length=16, blank=True)  # "16:15"; "1:1" for square pixels
    interlaced = models.BooleanField(default=False)
    variable_frame_rate = models.BooleanField(default=False)
    has_audio = models.BooleanField(default=False)
    discontinuities = models.PositiveIntegerField(default=0)  # timestamp restarts/wraps bridged
    start_timecode = models.CharField(max_length=16, blank=True)  # SMPTE "HH:MM:SS:FF" (";" = drop-frame)
    # What a usable file got wrong ("file ends early: header says 8.0 s, decoded 4.0 s ..."), "" when nothing.
    probe_warning = models.TextField(blank=True)
    poster_path = models.CharField(max_length=255, blank=True)
    strip_path = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    probed_at = models.DateTimeField(null=True, blank=True)

    objects = VideoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="video_owner_created"),
            models.Index(fields=["owner", "title"], name="video_owner_title"),
            models.Index(fields=["owner", "duration_s"], name="video_owner_duration"),
            models.Index(fields=["owner", "size_bytes"], name="video_owner_size"),
            models.Index(fields=["owner", "sha256"], name="video_owner_sha256"),
            models.Index(fields=["-created_at"], name="video_created"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (#{self.pk})"

    # --- files --------------------------------------------------------------------------------------------

    @property
    def directory_relative(self) -> str:
        return video_dir(self.pk)

    @property
    def directory(self) -> Path:
        return media_path(self.directory_relative)

    @property
    def original_relative(self) -> str:
        return f"{self.directory_relative}/original.{self.extension}"

    @property
    def original_path(self) -> Path:
        return media_path(self.original_relative)

    @property
    def frames_directory(self) -> Path:
        return media_path(frames_dir(self.pk))

    @property
    def previews_directory(self) -> Path:
        """The preview store (``scoring.previews``): the only source of this video's pictures in pages."""
        return media_path(previews_dir(self.pk))

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.extension, "application/octet-stream")

    # --- facts --------------------------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def aspect_note(self) -> str:
        """How the stored picture differs from what is shown: "" for square, upright, progressive video."""
        notes = []
        if self.sample_aspect_ratio and self.sample_aspect_ratio != "1:1":
            notes.append(f"pixel aspect {self.sample_aspect_ratio}")
        if self.rotation_deg:
            notes.append(f"rotated {self.rotation_deg}°")
        if self.interlaced:
            notes.append("interlaced (deinterlaced with bwdif)")
        if self.variable_frame_rate:
            notes.append("variable frame rate")
        return ", ".join(notes)

    @property
    def resolution(self) -> str:
        return f"{self.width}×{self.height}" if self.width and self.height else ""

    def is_visible_to(self, user) -> bool:
        return user.is_authenticated and (user.is_staff or self.owner_id == user.pk)

    def clamp_time(self, t_s: float) -> float:
        return min(max(t_s, 0.0), self.duration_s or 0.0)

    # --- state changes ------------------------------------------------------------------------------------

    def start_probe(self, requested_by=None, enqueue: bool = True):
        """Create a probe job (cpu queue) for this video and queue it unless ``enqueue`` is False."""
        from webapp.models.jobs import Job

        Video.objects.filter(pk=self.pk).update(status=self.Status.UPLOADED, error="")
        self.status, self.error = self.Status.UPLOADED, ""
        return Job.start(
            Job.Kind.PROBE_VIDEO, requested_by or self.owner, title=f"Probe {self.title}",
            params={"video_id": self.pk}, video=self, enqueue=enqueue,
        )  # fmt: skip

    def rename(self, title: str) -> None:
        """Set the display title (the file on disk keeps its id-based name)."""
        title = " ".join(str(title).split())[:200]
        if not title:
            raise ValueError("A video needs a title.")
        self.title = title
        self.save(update_fields=["title"])

    def mark_ready(self, info, poster_path: str, strip_path: str) -> None:
        """Store the facts of a successful probe (``info`` is a scoring.frames.VideoInfo)."""
        fields = {
            "status": self.Status.READY, "error": "", "duration_s": float(info.duration_s),
            "fps": float(info.fps), "frame_count": int(info.frame_count), "width": int(info.width),
            "height": int(info.height), "codec": str(info.codec)[:16], "rotation_deg": int(info.rotation_deg),
            "pix_fmt": str(info.pix_fmt)[:32], "sample_aspect_ratio": str(info.sar)[:16],
            "interlaced": bool(info.interlaced), "variable_frame_rate": bool(info.variable_frame_rate),
            "has_audio": bool(info.has_audio), "discontinuities": int(info.discontinuities),
            "start_timecode": (info.start_timecode or "")[:16], "probe_warning": info.warning or "",
            "poster_path": poster_path, "strip_path": strip_path, "probed_at": timezone.now(),
        }  # fmt: skip
        Video.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    @classmethod
    def create_from_file(cls, owner, source: Path, name: str, sha256: str, move: bool = True) -> "Video":
        """Create the row and put ``source`` at the original path (moved, or copied when move=False)."""
        video = cls.objects.create(
            owner=owner, title=title_from_name(name), original_name=safe_display_name(name, 255),
            extension=safe_extension(name), sha256=sha256, size_bytes=source.stat().st_size,
        )  # fmt: skip
        video.directory.mkdir(parents=True, exist_ok=True)
        if move:
            shutil.move(source, video.original_path)
        else:
            shutil.copyfile(source, video.original_path)
        return video

    @classmethod
    def duplicate_of(cls, owner, sha256: str) -> "Video | None":
        return cls.objects.filter(owner=owner, sha256=sha256).order_by("pk").first()


@receiver(post_delete, sender=Video)
def remove_video_files(sender, instance: Video, **kwargs) -> None:
    """However a video row goes (page, admin, a deleted user's cascade), its files follow after the commit;
    its scoring runs (deleted with it) take their own folders (``webapp.models.runs``)."""
    remove_after_commit(video_dir(instance.pk), frames_dir(instance.pk))
