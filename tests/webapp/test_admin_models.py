"""Admin for trained model versions: permissions, activation, archive, delete with files, downloads,
comparison and orphaned-file clean-up."""

import io
import json
import os
import time
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse

from tests.webapp.model_helpers import ready_model
from webapp.models import Category, Job, TrainedModel
from webapp.orphans import find_orphans

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:webapp_trainedmodel_changelist"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def category(owner):
    return Category.objects.create(owner=owner, name="soccer")


def run_action(client, action: str, models):
    data = {"action": action, "_selected_action": [m.pk for m in models]}
    return client.post(reverse(CHANGELIST), data)


def age(path, seconds: float = 7200) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_non_staff_user_is_refused(owner_client, category):
    model = ready_model(category)
    for url in (
        reverse(CHANGELIST),
        reverse("admin:model_export", args=[model.pk]),
        reverse("admin:model_card", args=[model.pk]),
        reverse("admin:model_import"),
        reverse("admin:model_orphans"),
    ):
        response = owner_client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_the_list_shows_versions_with_their_size_on_disk(staff_client, category):
    ready_model(category)
    response = staff_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert b"soccer" in response.content and b"Size" in response.content and b"KB</td>" in response.content


def test_make_active_keeps_exactly_one_active_version(staff_client, category):
    first, second = ready_model(category), ready_model(category)
    assert TrainedModel.objects.get(pk=first.pk).is_active
    run_action(staff_client, "make_active", [second])
    assert list(TrainedModel.objects.filter(is_active=True)) == [second]


def test_make_active_refuses_two_versions_of_one_category(staff_client, category):
    first, second = ready_model(category), ready_model(category)
    run_action(staff_client, "make_active", [first, second])
    assert list(TrainedModel.objects.filter(is_active=True).values_list("pk", flat=True)) == [first.pk]


def test_archive_deactivates_the_version(staff_client, category):
    model = ready_model(category)
    run_action(staff_client, "archive", [model])
    model.refresh_from_db()
    assert model.status == "archived" and not model.is_active


def test_delete_with_files_lists_what_goes_then_removes_the_folder(
    staff_client, category, django_capture_on_commit_callbacks
):
    model = ready_model(category)
    folder = model.directory
    assert (folder / "weights.safetensors").is_file()
    page = run_action(staff_client, "delete_with_files", [model]).content.decode()
    assert f"the weights and calibration of {model.label}" in page and "Yes, delete 1 version" in page
    assert TrainedModel.objects.filter(pk=model.pk).exists(), "nothing goes before the confirmation"
    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion commits
        staff_client.post(
            reverse(CHANGELIST),
            {"action": "delete_with_files", "_selected_action": [model.pk], "confirm": "yes"},
        )
    assert not TrainedModel.objects.filter(pk=model.pk).exists()
    assert not folder.exists()


def test_download_zip_and_card(staff_client, category):
    model = ready_model(category)
    response = staff_client.get(reverse("admin:model_export", args=[model.pk]))
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == ["manifest.json", "model.json", "weights.safetensors"]
    card = json.loads(staff_client.get(reverse("admin:model_card", args=[model.pk])).content)
    assert card["category"] == "soccer" and card["version"] == 1 and card["threshold"] == 0.05


def test_compare_shows_two_versions_side_by_side(staff_client, category):
    first, second = ready_model(category, 0.05), ready_model(category, 0.07)
    response = run_action(staff_client, "compare", [first, second])
    assert response.status_code == 200
    for text in (b"soccer v1", b"soccer v2", b"0.07"):
        assert text in response.content


def test_orphan_clean_up_removes_only_unreferenced_files(staff_client, category):
    model = ready_model(category)
    media = settings.MEDIA_ROOT
    orphans = [media / "models" / str(category.pk) / "v9", media / "runs" / "999", media / "frames" / "999"]
    for folder in orphans:
        folder.mkdir(parents=True)
        (folder / "data.bin").write_bytes(b"x" * 10)
        age(folder)
    age(model.directory)
    assert sorted(o.path for o in find_orphans()) == sorted(p.resolve() for p in orphans)
    page = staff_client.get(reverse("admin:model_orphans"))
    assert b"runs/999" in page.content
    staff_client.post(reverse("admin:model_orphans"))
    assert not any(p.exists() for p in orphans)
    assert (model.directory / "weights.safetensors").is_file()


def test_recent_unreferenced_files_are_left_alone(category):
    folder = settings.MEDIA_ROOT / "runs" / "998"
    folder.mkdir(parents=True)
    assert find_orphans() == []


def test_staff_see_api_tokens_without_their_secret(staff_client, owner):
    from webapp.models import ApiToken

    _, raw = ApiToken.issue(owner, "laptop")
    page = staff_client.get(reverse("admin:webapp_apitoken_changelist"))
    assert page.status_code == 200 and b"laptop" in page.content and raw.encode() not in page.content


def test_recalibrate_asks_for_parameters_then_queues_one_job_per_version(staff_client, category, staff):
    first, second = ready_model(category), ready_model(category)
    page = run_action(staff_client, "recalibrate", [first, second])
    assert page.status_code == 200 and b"Start recalibration" in page.content
    assert not Job.objects.filter(kind="recalibrate").exists(), "nothing starts before the form is sent"

    data = {"action": "recalibrate", "_selected_action": [first.pk, second.pk], "apply": "1"}
    response = staff_client.post(reverse(CHANGELIST), {**data, "percentile": "97.5", "use_negatives": "on"})

    assert response.status_code == 302
    jobs = Job.objects.filter(kind="recalibrate").order_by("id")
    assert sorted(j.params["model_id"] for j in jobs) == [first.pk, second.pk]
    assert jobs[0].params["percentile"] == 97.5 and jobs[0].params["use_negatives"] is True
    assert jobs[0].queue == "gpu" and jobs[0].owner == staff and jobs[0].params["method"] is None


def test_recalibrate_refuses_a_bad_percentile_and_versions_that_are_not_ready(staff_client, category):
    model = ready_model(category)
    data = {"action": "recalibrate", "_selected_action": [model.pk], "apply": "1", "percentile": "101"}
    response = staff_client.post(reverse(CHANGELIST), data)
    assert response.status_code == 200 and b"less than or equal to 100" in response.content
    model.archive()
    response = staff_client.post(reverse(CHANGELIST), {**data, "percentile": "90"}, follow=True)
    assert b"Only ready versions can be recalibrated" in response.content
    assert not Job.objects.filter(kind="recalibrate").exists()
