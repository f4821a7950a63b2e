"""Model export and import: a round trip makes a new version; tampered or foreign files are refused."""

import io
import json
import pickle
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.webapp.model_helpers import ready_model
from webapp.model_archive import ImportRefused, export_zip, import_zip, sha256_bytes
from webapp.models import Category, TrainedModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(owner):
    return ready_model(Category.objects.create(owner=owner, name="soccer"))


@pytest.fixture
def target(other_user):
    return Category.objects.create(owner=other_user, name="football")


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def build_zip(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def with_manifest(files: dict[str, bytes]) -> dict[str, bytes]:
    """Re-sign the manifest so that only the checkpoint's own validation can catch the change."""
    manifest = json.loads(files["manifest.json"])
    for name in ("weights.safetensors", "model.json"):
        manifest["files"][name]["sha256"] = sha256_bytes(files[name])
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def refusal(files: dict[str, bytes], category) -> str:
    with pytest.raises(ImportRefused) as caught:
        import_zip(build_zip(files), category)
    assert not TrainedModel.objects.filter(category=category).exists()
    return str(caught.value)


def test_an_exported_model_imports_as_the_next_version(source, target):
    imported = import_zip(io.BytesIO(export_zip(source)), target)
    assert (imported.category, imported.version, imported.status) == (target, 1, "ready")
    assert imported.is_active and imported.threshold == pytest.approx(source.threshold)
    assert imported.config["sampling"] == {"fps": 5.0}
    assert imported.load().config.latent_dim == 4
    again = import_zip(io.BytesIO(export_zip(source)), target)
    assert again.version == 2 and not again.is_active


def test_tampered_weights_are_refused(source, target):
    files = members(export_zip(source))
    files["weights.safetensors"] = files["weights.safetensors"][:-8] + b"\0" * 8
    assert "checksum" in refusal(files, target)


def test_a_pickle_in_place_of_the_weights_is_refused_without_unpickling(source, target):
    files = members(export_zip(source))
    files["weights.safetensors"] = pickle.dumps({"boom": 1})
    assert "not a valid Offside model" in refusal(with_manifest(files), target)


def test_a_foreign_json_is_refused(source, target):
    files = members(export_zip(source))
    files["model.json"] = b'{"format": "something-else"}'
    assert "not an Offside model" in refusal(with_manifest(files), target)


def test_path_traversal_and_extra_members_are_refused(source, target):
    files = members(export_zip(source))
    assert "unexpected member" in refusal({**files, "../evil.py": b"x"}, target)
    renamed = {("sub/" + k if k == "model.json" else k): v for k, v in files.items()}
    assert "unexpected member" in refusal(renamed, target)


def test_a_missing_manifest_or_a_non_zip_is_refused(source, target):
    files = members(export_zip(source))
    del files["manifest.json"]
    assert "missing" in refusal(files, target)
    with pytest.raises(ImportRefused, match="not a zip"):
        import_zip(io.BytesIO(b"PK not really"), target)


def test_the_admin_import_form_reports_the_reason(client, staff, source, target):
    client.force_login(staff)
    upload = SimpleUploadedFile("model.zip", b"garbage", content_type="application/zip")
    response = client.post(reverse("admin:model_import"), {"category": target.pk, "archive": upload})
    assert response.status_code == 200 and b"Refused: not a zip" in response.content
    good = SimpleUploadedFile("model.zip", export_zip(source), content_type="application/zip")
    response = client.post(reverse("admin:model_import"), {"category": target.pk, "archive": good})
    assert response.status_code == 302
    assert TrainedModel.objects.filter(category=target, status="ready").count() == 1
