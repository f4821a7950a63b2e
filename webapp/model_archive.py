"""Model export and import: one version's files as a zip another Offside installation can import.

An export zip holds exactly three members: ``weights.safetensors`` and ``model.json`` (the checkpoint as
``scoring.checkpoint`` writes it) and ``manifest.json`` (sha256 and size of both files, plus the database
facts of the version: sampling config, lineage, curves). Import refuses anything else with a reason: other
or nested member names, oversized archives, checksum mismatches, and checkpoints ``load_checkpoint``
rejects. The weights are safetensors and the descriptions JSON, so nothing is ever unpickled.
"""

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from scoring.checkpoint import META_FILE, WEIGHTS_FILE
from scoring.files import replacing_directory
from webapp.models import TrainedModel
from webapp.models.training import thin_calibration

MANIFEST_FILE = "manifest.json"
EXPORT_FORMAT = "offside-model-export"
EXPORT_VERSION = 1
MEMBERS = frozenset({WEIGHTS_FILE, META_FILE, MANIFEST_FILE})
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
MAX_MEMBER_BYTES = {WEIGHTS_FILE: 512 * 1024 * 1024, META_FILE: 64 * 1024 * 1024, MANIFEST_FILE: 1024 * 1024}
ROW_FIELDS = ("config", "lineage", "curves")


class ImportRefused(ValueError):
    """The uploaded file is not an Offside model export; the message says why."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- export -------------------------------------------------------------------------------------------------


def model_card(model: TrainedModel) -> dict:
    """What a person needs to judge a version: identity, config, lineage, calibration, training facts."""
    calibration = {k: v for k, v in model.calibration.items() if not isinstance(v, (list, dict))}
    return {
        "category": model.category.name,
        "version": model.version,
        "status": model.status,
        "is_active": model.is_active,
        "threshold": model.threshold,
        "auroc": model.auroc,
        "n_frames": model.n_frames,
        "device": model.device,
        "duration_s": model.duration_s,
        "trained_at": model.trained_at.isoformat() if model.trained_at else None,
        "size_bytes": model.size_bytes,
        "config": model.config,
        "lineage": model.lineage,
        "calibration": calibration,
        "best_epoch": model.curves.get("best_epoch"),
    }


def export_filename(model: TrainedModel) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in model.category.name)[:60] or "model"
    return f"offside-{safe}-v{model.version}.zip"


def export_zip(model: TrainedModel) -> bytes:
    """The zip of a ready version's checkpoint and manifest; ``FileNotFoundError`` if its files are gone."""
    files = {name: (model.directory / name).read_bytes() for name in (WEIGHTS_FILE, META_FILE)}
    manifest = {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "files": {name: {"sha256": sha256_bytes(data), "size": len(data)} for name, data in files.items()},
        "model": {field: getattr(model, field) for field in ROW_FIELDS},
        "card": model_card(model),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST_FILE, json.dumps(manifest, indent=1, default=str))
    return buffer.getvalue()


# --- import -------------------------------------------------------------------------------------------------


def check_members(archive: zipfile.ZipFile) -> None:
    """Exactly the expected member names (no folders, no paths), each within its size limit."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    unexpected = sorted(set(names) - MEMBERS)
    if unexpected:
        raise ImportRefused(f"unexpected member(s) in the archive: {', '.join(unexpected)[:200]}")
    if len(names) != len(set(names)) or set(names) != MEMBERS:
        missing = sorted(MEMBERS - set(names))
        expected = ", ".join(sorted(MEMBERS))
        raise ImportRefused(f"the archive must hold {expected} once each; missing {missing}")
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES[info.filename]:
            raise ImportRefused(f"{info.filename} is too large ({info.file_size} bytes)")


def read_archive(upload) -> dict[str, bytes]:
    """The three members of an uploaded export zip, checked against the manifest's sizes and checksums."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_ARCHIVE_BYTES:
        raise ImportRefused(f"the file is too large ({size} bytes; the limit is {MAX_ARCHIVE_BYTES})")
    try:
        with zipfile.ZipFile(upload) as archive:
            check_members(archive)
            data = {name: archive.read(name) for name in MEMBERS}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ImportRefused(f"not a zip archive ({exc})") from exc
    except RuntimeError as exc:  # encrypted members
        raise ImportRefused(f"unreadable archive ({exc})") from exc
    check_manifest(data)
    return data


def parse_manifest(raw: bytes) -> dict:
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRefused(f"{MANIFEST_FILE} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ImportRefused(f"{MANIFEST_FILE} is not an Offside model export manifest")
    if manifest.get("format_version") != EXPORT_VERSION:
        raise ImportRefused(f"unsupported export format version {manifest.get('format_version')!r}")
    return manifest


def check_manifest(data: dict[str, bytes]) -> None:
    manifest = parse_manifest(data[MANIFEST_FILE])
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ImportRefused(f"{MANIFEST_FILE} lists no files")
    for name in (WEIGHTS_FILE, META_FILE):
        expected = files.get(name)
        if not isinstance(expected, dict) or expected.get("sha256") != sha256_bytes(data[name]):
            raise ImportRefused(f"{name} does not match the manifest's checksum (altered or corrupted)")


def validate_checkpoint(data: dict[str, bytes], folder: Path):
    """Write the checkpoint into ``folder`` under our own names and load it; ``ImportRefused`` if invalid."""
    from scoring.checkpoint import CheckpointError, load_checkpoint

    for name in (WEIGHTS_FILE, META_FILE):
        (folder / name).write_bytes(data[name])
    try:
        return load_checkpoint(folder, "cpu")
    except CheckpointError as exc:
        raise ImportRefused(f"not a valid Offside model: {str(exc).replace(str(folder), '')}") from exc


def row_facts(manifest: dict, trained) -> dict:
    """Field values for the new version, from the checkpoint (authoritative) and the manifest's row facts."""
    row = manifest.get("model") if isinstance(manifest.get("model"), dict) else {}
    values = {field: row.get(field) if isinstance(row.get(field), dict) else {} for field in ROW_FIELDS}
    values["config"] = {**values["config"], "model": trained.config.to_dict()}
    values["config"]["train"] = trained.train_config.to_dict()
    calibration = trained.calibration.to_dict()
    meta = trained.metadata
    n_frames = meta.get("n_frames") if isinstance(meta.get("n_frames"), int) else 0
    duration = meta.get("duration_s") if isinstance(meta.get("duration_s"), (int, float)) else None
    return {
        **values,
        "calibration": thin_calibration(calibration),
        "threshold": calibration["threshold"],
        "auroc": calibration.get("auroc"),
        "n_frames": max(0, n_frames),
        "device": str(meta.get("device", "imported"))[:100],
        "duration_s": duration,
    }


def import_zip(upload, category) -> TrainedModel:
    """Validate an export zip and make it the next version of ``category``; else ``ImportRefused``."""
    data = read_archive(upload)
    manifest = parse_manifest(data[MANIFEST_FILE])
    with tempfile.TemporaryDirectory(prefix="offside-import-") as tmp:
        trained = validate_checkpoint(data, Path(tmp))
        facts = row_facts(manifest, trained)
        model = TrainedModel.create_next_version(category, facts["config"])
        try:
            with replacing_directory(model.directory) as folder:
                for name in (WEIGHTS_FILE, META_FILE):
                    shutil.copyfile(Path(tmp) / name, folder / name)
            model.mark_ready(facts)
        except BaseException:
            model.delete()  # its files go with it (post_delete)
            raise
    return model
