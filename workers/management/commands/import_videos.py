"""Import video files already on the server: ``manage.py import_videos PATH... [--category NAME]``."""

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from webapp.media_layout import UPLOADS, media_path
from webapp.models import Category, ReferenceClip, Video
from webapp.models.videos import HASH_BLOCK_BYTES, VIDEO_EXTENSIONS
from workers.jobs import run_job
from workers.probing import probe_video_work


@dataclass
class ImportReport:
    imported: list[Video] = field(default_factory=list)
    duplicates: list[tuple[Path, Video]] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)


def find_videos(paths: list[str]) -> list[Path]:
    """Files named on the command line are taken as they are; folders are searched recursively for videos."""
    found: list[Path] = []
    for name in paths:
        path = Path(name).expanduser()
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [
                    Path(root) / f
                    for f in sorted(files)
                    if Path(f).suffix.lower().lstrip(".") in VIDEO_EXTENSIONS
                ]
        else:
            raise CommandError(f"{name}: no such file or folder")
    return list(dict.fromkeys(path.resolve() for path in found))


def copy_with_hash(source: Path, target: Path, progress: tqdm) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as dst:
        while block := src.read(HASH_BLOCK_BYTES):
            digest.update(block)
            dst.write(block)
            progress.update(len(block))
    return digest.hexdigest()


class Command(BaseCommand):
    help = (
        "Copy video files (or folders of them, recursively) into the library of a user and queue their "
        "processing; files already in that library (same SHA-256) are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="video files or folders")
        parser.add_argument(
            "--category", metavar="NAME", help="add each video to this category (created if new)"
        )
        parser.add_argument(
            "--user", metavar="USERNAME", default=os.environ.get("OFFSIDE_IMPORT_USER"),
            help="owner of the imported videos (default: $OFFSIDE_IMPORT_USER, else the only superuser)",
        )  # fmt: skip
        parser.add_argument(
            "--process-here", action="store_true",
            help="probe the videos in this process instead of queueing jobs for the worker",
        )  # fmt: skip
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args, paths, category, user, process_here, no_progress, **options):
        self.process_here = process_here
        owner = self.resolve_owner(user)
        files = find_videos(paths)
        if not files:
            raise CommandError("No video files found.")
        target_category = self.resolve_category(owner, category) if category else None
        report = self.import_files(owner, files, target_category, process_here, no_progress)
        self.print_report(report, target_category)
        if report.errors and not report.imported and not report.duplicates:
            raise CommandError("Nothing was imported.")

    def resolve_owner(self, username: str | None):
        users = get_user_model().objects
        if username:
            owner = users.filter(username=username).first()
            if owner is None:
                raise CommandError(f"No user called {username!r}.")
            return owner
        superusers = list(users.filter(is_superuser=True)[:2])
        if len(superusers) != 1:
            raise CommandError("Say whose library to import into with --user USERNAME.")
        return superusers[0]

    def resolve_category(self, owner, name: str) -> Category:
        name = " ".join(name.split())
        category = Category.objects.filter(owner=owner, name__iexact=name).first()
        if category is None:
            category = Category.objects.create(owner=owner, name=name)
            self.stdout.write(f"Created category {name!r}.")
        return category

    def import_files(self, owner, files, category, process_here, no_progress) -> ImportReport:
        report = ImportReport()
        total = sum(path.stat().st_size for path in files)
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, disable=no_progress,
                  desc="Importing", file=self.stderr._out, dynamic_ncols=True) as progress:  # fmt: skip
            for path in files:
                progress.set_postfix_str(path.name[-40:], refresh=False)
                try:
                    self.import_one(owner, path, category, report, progress)
                except OSError as exc:
                    report.errors.append((path, exc.strerror or str(exc)))
        if process_here:
            self.process(report.imported, no_progress)
        return report

    def import_one(self, owner, path: Path, category, report: ImportReport, progress: tqdm) -> None:
        staging = media_path(f"{UPLOADS}/import-{uuid.uuid4().hex}.part")
        staging.parent.mkdir(parents=True, exist_ok=True)
        try:
            digest = copy_with_hash(path, staging, progress)
            existing = Video.duplicate_of(owner, digest)
            if existing is not None:
                report.duplicates.append((path, existing))
                video = existing
            else:
                with transaction.atomic():
                    video = Video.create_from_file(owner, staging, path.name, digest)
                    video.start_probe(enqueue=not self.process_here)
                report.imported.append(video)
        finally:
            staging.unlink(missing_ok=True)
        if (
            category is not None
            and not ReferenceClip.objects.filter(
                category=category, video=video, start_s=None, end_s=None
            ).exists()
        ):
            ReferenceClip.objects.create(category=category, video=video)

    def process(self, videos: list[Video], no_progress: bool) -> None:
        for video in tqdm(
            videos, desc="Processing", unit="video", disable=no_progress, file=self.stderr._out
        ):
            job = video.jobs.order_by("-pk").first()
            run_job(job.pk, probe_video_work)

    def print_report(self, report: ImportReport, category) -> None:
        for path, video in report.duplicates:
            self.stdout.write(f"Skipped {path}: already in the library as #{video.pk} {video.title!r}.")
        for path, reason in report.errors:
            self.stderr.write(f"Could not import {path}: {reason}")
        for video in report.imported:
            video.refresh_from_db()
            line = f"Imported #{video.pk} {video.title!r} ({video.status})"
            self.stdout.write(line + (f": {video.error}" if video.error else ""))
        where = f" into category {category.name!r}" if category else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.imported)} imported, {len(report.duplicates)} already present, "
                f"{len(report.errors)} failed{where}."
            )
        )
