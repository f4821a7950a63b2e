"""Resumable uploads (protocol in docs/UPLOAD.md): bytes arrive in order at an offset until the declared size,
then the file is hashed and becomes a Video (or points at the duplicate the owner already has)."""

import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from webapp.media_layout import media_path, upload_part
from webapp.models.videos import (
    HASH_BLOCK_BYTES,
    Video,
    format_bytes,
    safe_display_name,
    sha256_of_file,
)

# Longest file name an upload may declare, on the page and in the API alike (the column's length).
MAX_FILENAME_CHARS = 255
HEAD_BYTES = 1024 * 1024  # how much of the file head_sha256 covers


class UploadError(Exception):
    """A chunk or upload request the protocol refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, offset: int | None = None, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.offset = offset
        self.field = field  # the request field at fault, where there is one


class UploadQuerySet(models.QuerySet):
    def abandoned(self, older_than_days: float) -> "UploadQuerySet":
        """Unfinished uploads nobody has sent a byte to for ``older_than_days``."""
        cutoff = timezone.now() - timedelta(days=older_than_days)
        return self.filter(status=Upload.Status.RECEIVING, updated_at__lt=cutoff)


class Upload(models.Model):
    """One resumable upload (see docs/UPLOAD.md): bytes arrive in order at ``offset`` until ``size``."""

    class Status(models.TextChoices):
        RECEIVING = "receiving"
        COMPLETE = "complete"
        DUPLICATE = "duplicate"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    filename = models.CharField(max_length=MAX_FILENAME_CHARS)
    size_bytes = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVING)
    sha256 = models.CharField(max_length=64, blank=True)
    # SHA-256 of the file's first HEAD_BYTES (the whole file if shorter), as the client declared it: with the
    # name and size it finds this upload again from another browser (docs/UPLOAD.md).
    head_sha256 = models.CharField(max_length=64, blank=True)
    video = models.ForeignKey(Video, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads")
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"], name="upload_owner_status")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.size_bytes})"

    @property
    def part_path(self) -> Path:
        return media_path(upload_part(self.pk))

    @property
    def is_receiving(self) -> bool:
        return self.status == self.Status.RECEIVING

    @classmethod
    def begin(cls, owner, filename: str, size_bytes, head_sha256: str | None = None) -> "Upload":
        """A new upload of ``filename`` (1..MAX_FILENAME_CHARS characters) of ``size_bytes`` (a JSON integer:
        ``true`` or ``1.5`` are refused, not rounded); UploadError says what is wrong (also for a malformed
        ``head_sha256``)."""
        if not 1 <= len(filename) <= MAX_FILENAME_CHARS:
            message = f"The file name must have 1 to {MAX_FILENAME_CHARS} characters."
            raise UploadError(message, status=422, field="filename")
        if isinstance(size_bytes, bool) or not isinstance(size_bytes, int):
            raise UploadError("The file size must be a whole number of bytes.", status=422, field="size")
        size, head = checked_size(size_bytes), checked_head(head_sha256)
        name = safe_display_name(filename, MAX_FILENAME_CHARS)
        upload = cls.objects.create(owner=owner, filename=name, size_bytes=size, head_sha256=head)
        upload.part_path.parent.mkdir(parents=True, exist_ok=True)
        upload.part_path.touch()
        return upload

    @classmethod
    def resume_or_begin(
        cls, owner, filename: str, size_bytes, head_sha256: str | None
    ) -> tuple["Upload", bool]:
        """The owner's unfinished upload of the same file (same name, size and ``head_sha256``: begun in
        another browser, or by an earlier run of a script), else a new one. Returns (upload, resumed)."""
        head = checked_head(head_sha256)
        if head:
            same = cls.objects.filter(
                owner=owner, status=cls.Status.RECEIVING, filename=safe_display_name(filename, 255),
                size_bytes=checked_size(size_bytes), head_sha256=head,
            )  # fmt: skip
            earlier = same.order_by("-offset", "-updated_at").first()
            if earlier is not None:
                return earlier, True
        return cls.begin(owner, filename, size_bytes, head), False

    def _lock(self, offset: int) -> None:
        """Take the upload for one chunk; refuse while another chunk is being written or on a wrong offset."""
        now = timezone.now()
        taken = (
            Upload.objects.filter(pk=self.pk, status=self.Status.RECEIVING, offset=offset)
            .filter(models.Q(locked_until__isnull=True) | models.Q(locked_until__lt=now))
            .update(locked_until=now + timedelta(minutes=10))
        )
        self.refresh_from_db()
        if not taken:
            if not self.is_receiving:
                raise UploadError("This upload is already complete.", status=409, offset=self.offset)
            raise UploadError(
                f"Offset mismatch or chunk in progress: the server has {self.offset} bytes.",
                status=409, offset=self.offset,
            )  # fmt: skip

    def append(self, offset: int, stream, length: int | None) -> int:
        """Write the chunk read from ``stream`` at ``offset``; returns the new offset.

        Reads in blocks (constant memory). Bytes actually received are kept even if the stream ends early, so
        an interrupted chunk resumes where it stopped.
        """
        remaining = self.size_bytes - offset
        if length is not None and length > remaining:
            raise UploadError(
                f"The chunk ends past the declared size of {self.size_bytes} bytes.",
                status=413,
                offset=offset,
            )
        self._lock(offset)
        written = 0
        try:
            written = write_stream_at(self.part_path, offset, stream, remaining, length)
        finally:
            Upload.objects.filter(pk=self.pk).update(
                offset=F("offset") + written, locked_until=None, updated_at=timezone.now()
            )
            self.refresh_from_db()
        return self.offset

    def finish(self) -> tuple["Video", bool]:
        """Hash the complete file, then either create the video (and queue its probe) or point at the
        duplicate already in the owner's library. Returns (video, is_duplicate)."""
        if self.offset != self.size_bytes:
            raise UploadError(f"The upload is incomplete ({self.offset} of {self.size_bytes} bytes).", 409)
        digest = sha256_of_file(self.part_path)
        existing = Video.duplicate_of(self.owner, digest)
        with transaction.atomic():
            if existing is not None:
                self.part_path.unlink(missing_ok=True)
                video, status = existing, self.Status.DUPLICATE
            else:
                video = Video.create_from_file(self.owner, self.part_path, self.filename, digest)
                video.start_probe()
                status = self.Status.COMPLETE
            Upload.objects.filter(pk=self.pk).update(status=status, sha256=digest, video=video)
        self.refresh_from_db()
        return video, existing is not None

    def discard(self) -> None:
        self.part_path.unlink(missing_ok=True)
        self.delete()

    @classmethod
    def purge_abandoned(cls, older_than_days: float | None = None) -> int:
        """Delete uploads idle for UPLOAD_EXPIRE_DAYS with their partial files; returns how many."""
        days = settings.UPLOAD_EXPIRE_DAYS if older_than_days is None else older_than_days
        uploads = list(cls.objects.abandoned(days))
        for upload in uploads:
            upload.discard()
        return len(uploads)

    def as_json(self) -> dict:
        data = {
            "id": str(self.pk), "filename": self.filename, "size": self.size_bytes, "offset": self.offset,
            "status": self.status, "sha256": self.sha256 or None, "video": None,
        }  # fmt: skip
        if self.video_id:
            video = self.video
            data["video"] = {
                "id": video.pk, "title": video.title, "status": video.status, "error": video.error,
                "url": f"/videos/{video.pk}/", "probe_job_id": video.jobs.order_by("-pk").values_list(
                    "pk", flat=True
                ).first(),
            }  # fmt: skip
        return data


def checked_size(size_bytes) -> int:
    try:
        size = int(size_bytes)
    except (TypeError, ValueError):
        raise UploadError("The file size must be a whole number of bytes.") from None
    if size < 0:
        raise UploadError("The file size cannot be negative.")
    if size > settings.MAX_UPLOAD_BYTES:
        raise UploadError(too_large_message(size), status=413)
    return size


def checked_head(head_sha256) -> str:
    """ "" when absent; the lower-case hex digest; UploadError for anything else."""
    head = str(head_sha256 or "").strip().lower()
    if head and (len(head) != 64 or any(ch not in "0123456789abcdef" for ch in head)):
        raise UploadError("head_sha256 must be the 64 hex digits of a SHA-256 digest.")
    return head


def too_large_message(size: int) -> str:
    limit = settings.MAX_UPLOAD_BYTES
    return (
        f"The file is {format_bytes(size)}, larger than the upload limit of {format_bytes(limit)} "
        "(MAX_UPLOAD_BYTES)."
    )


def write_stream_at(path: Path, offset: int, stream, limit: int, length: int | None) -> int:
    """Copy up to ``length`` (or ``limit``) bytes of ``stream`` to ``path`` at ``offset``; returns the count.

    The file is truncated to ``offset`` first, so the bytes of an earlier interrupted chunk never linger.
    """
    wanted = limit if length is None else length
    written = 0
    with path.open("r+b") as handle:
        handle.truncate(offset)
        handle.seek(offset)
        while written < wanted:
            block = stream.read(min(HASH_BLOCK_BYTES, wanted - written))
            if not block:
                break
            handle.write(block)
            written += len(block)
        if length is None and stream.read(1):
            handle.truncate(offset)
            raise UploadError(
                "The chunk ends past the declared size of the upload.", status=413, offset=offset
            )
    return written


@receiver(post_delete, sender=Upload)
def remove_partial_file(sender, instance: Upload, **kwargs) -> None:
    """An unfinished upload's partial file goes with its row (discard, admin, a deleted user's cascade)."""
    part_path = instance.part_path
    transaction.on_commit(lambda: part_path.unlink(missing_ok=True))
