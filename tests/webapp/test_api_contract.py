"""What the API promises beyond its happy paths: the upload reply carries the file's hash, sizes are JSON
integers, page and API take the same file names, and an id tells nothing about rows one may not see."""

import hashlib
import json

import pytest
from django.core.cache import cache
from django.test import Client

from tests.webapp.model_helpers import ready_model
from webapp.models import ApiToken, Category, Job, ReferenceClip, ScoringRun, Upload, Video
from webapp.models.uploads import MAX_FILENAME_CHARS

pytestmark = pytest.mark.django_db

MISSING_ID = 987654


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    cache.clear()


def token_client(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {ApiToken.issue(user, 'tests')[1]}"})


def begin_upload(client, url: str, filename: str, size) -> int:
    body = json.dumps({"filename": filename, "size": size})
    return client.post(url, body, content_type="application/json").status_code


def test_the_upload_reply_carries_the_files_sha256(owner):
    api = token_client(owner)
    payload = b"\x00\x01 not a video, but bytes all the same"
    begun = begin_upload(api, "/api/uploads", "match.mp4", len(payload))
    assert begun == 201
    upload = Upload.objects.get(owner=owner)
    reply = api.generic(
        "PATCH", f"/api/uploads/{upload.pk}", data=payload, content_type="application/offset+octet-stream",
        headers={"Upload-Offset": "0"},
    )  # fmt: skip
    assert reply.status_code == 200, reply.content
    assert reply.json()["sha256"] == hashlib.sha256(payload).hexdigest()
    assert api.get(f"/api/uploads/{upload.pk}").json()["sha256"] == hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize("size", [True, False, 1.5, "12", None])
def test_a_size_that_is_not_a_json_integer_is_refused_by_page_and_api(owner, owner_client, size):
    assert begin_upload(token_client(owner), "/api/uploads", "match.mp4", size) == 422
    assert begin_upload(owner_client, "/uploads/", "match.mp4", size) == 422
    assert not Upload.objects.exists()


def test_page_and_api_take_the_same_longest_file_name(owner, owner_client):
    longest = "a" * (MAX_FILENAME_CHARS - 4) + ".mp4"
    api = token_client(owner)
    assert begin_upload(api, "/api/uploads", longest, 10) == 201
    assert begin_upload(owner_client, "/uploads/", longest, 10) == 201
    assert set(Upload.objects.values_list("filename", flat=True)) == {longest}
    assert begin_upload(api, "/api/uploads", "a" + longest, 10) == 422
    assert begin_upload(owner_client, "/uploads/", "a" + longest, 10) == 422


@pytest.fixture
def foreign_ids(other_user, tmp_path) -> dict:
    """Ids of one row of each kind owned by another user."""
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"not really a video")
    video = Video.create_from_file(other_user, source, "clip.mp4", sha256="abc")
    category = Category.objects.create(owner=other_user, name="tennis")
    clip = ReferenceClip.objects.create(category=category, video=video)
    model = ready_model(category)
    run = ScoringRun.objects.create(video=video, owner=other_user)
    job = Job.objects.create(kind="system_check", owner=other_user)
    upload = Upload.begin(other_user, "clip.mp4", 10)
    return {
        "video": video.pk, "category": category.pk, "clip": clip.pk, "model": model.pk, "run": run.pk,
        "job": job.pk, "upload": upload.pk,
    }  # fmt: skip


ROUTES = [
    ("get", "/api/videos/{video}"),
    ("delete", "/api/videos/{video}"),
    ("get", "/api/categories/{category}"),
    ("patch", "/api/categories/{category}"),
    ("delete", "/api/categories/{category}"),
    ("get", "/api/categories/{category}/clips"),
    ("post", "/api/categories/{category}/clips"),
    ("get", "/api/categories/{category}/models"),
    ("post", "/api/categories/{category}/train"),
    ("delete", "/api/clips/{clip}"),
    ("get", "/api/models/{model}"),
    ("get", "/api/runs/{run}"),
    ("get", "/api/runs/{run}/segments"),
    ("get", "/api/runs/{run}/frames"),
    ("get", "/api/runs/{run}/segments.csv"),
    ("get", "/api/jobs/{job}"),
    ("post", "/api/jobs/{job}/cancel"),
    ("get", "/api/uploads/{upload}"),
    ("delete", "/api/uploads/{upload}"),
]
BODIES = {"/api/categories/{category}/clips": {"video_id": 1}}


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_another_users_id_answers_exactly_like_a_missing_one(owner, foreign_ids, method, route):
    api = token_client(owner)
    body = json.dumps(BODIES.get(route, {}))
    missing = {name: MISSING_ID for name in foreign_ids}
    missing["upload"] = "00000000-0000-4000-8000-000000000000"

    def call(ids):
        if method == "get":
            return api.get(route.format(**ids))
        return getattr(api, method)(route.format(**ids), body, content_type="application/json")

    foreign, absent = call(foreign_ids), call(missing)
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == absent.json()
