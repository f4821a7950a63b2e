"""The JSON API: authentication (token and session + CSRF), ownership, error shape, rate limits, CRUD."""

import json
import re

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client

from tests.webapp.model_helpers import ready_model
from tests.webapp.videos_helpers import make_row
from webapp.models import ApiToken, Category, Job, ReferenceClip, TrainedModel, Video

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    cache.clear()
    yield
    cache.clear()


def token_client(user) -> Client:
    _, raw = ApiToken.issue(user, "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def api(owner):
    return token_client(owner)


@pytest.fixture
def video(owner, tmp_path):
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"not really a video")
    video = Video.create_from_file(owner, source, "clip.mp4", sha256="abc", move=True)
    Video.objects.filter(pk=video.pk).update(status=Video.Status.READY, duration_s=10.0, fps=10.0)
    return Video.objects.get(pk=video.pk)


@pytest.fixture
def category(owner, video):
    category = Category.objects.create(owner=owner, name="soccer")
    ReferenceClip.objects.create(category=category, video=video)
    return category


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]


def test_without_credentials_it_answers_401_json_not_a_login_redirect(client):
    assert_error(client.get("/api/videos"), 401, "not_authenticated")
    wrong = Client(headers={"Authorization": "Bearer off_wrong"})
    assert_error(wrong.get("/api/videos"), 401, "not_authenticated")


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_answers_404_json_to_everyone(client, api, method):
    for caller in (client, api):
        response = getattr(caller, method)("/api/no/such/thing")
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert_error(response, 404, "not_found")
    assert "/api/docs" in api.get("/api/jobs").json()["error"]["message"]  # only /api/jobs/<id> exists
    root = getattr(api, method)("/api/")
    assert root.status_code == 404 and root.json()["error"]["code"] == "not_found"


def test_a_method_a_path_does_not_have_answers_405_json_with_allow(api, video):
    response = api.put(f"/api/videos/{video.pk}", "{}", content_type="application/json")
    assert_error(response, 405, "method_not_allowed")
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "DELETE"}


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/runs" in schema.json()["paths"]
    assert client.get("/api/docs").status_code == 200


def test_a_token_lists_only_its_owners_videos(api, video, other_user):
    assert [v["id"] for v in api.get("/api/videos").json()] == [video.pk]
    assert token_client(other_user).get("/api/videos").json() == []
    assert_error(token_client(other_user).get(f"/api/videos/{video.pk}"), 404, "not_found")
    assert ApiToken.objects.get(owner=video.owner).last_used_at is not None


def test_the_management_command_prints_a_working_token(owner, capsys):
    call_command("create_api_token", owner.username, name="script")
    raw = capsys.readouterr().out.strip()
    assert ApiToken.user_for(raw) == owner
    assert ApiToken.objects.get(owner=owner).key_hash != raw


def test_the_readme_token_example_works_on_a_fresh_install(capsys):
    from django.conf import settings

    from webapp.services import create_first_admin

    readme = (settings.BASE_DIR / "README.md").read_text()
    username = re.search(r"manage.py create_api_token (\S+)", readme)[1]
    create_first_admin()  # what the first `make run` does on an empty database
    call_command("create_api_token", username, name="laptop")
    assert ApiToken.user_for(capsys.readouterr().out.strip()).username == username
    with pytest.raises(CommandError, match="No user called 'olivia'; users: admin"):
        call_command("create_api_token", "olivia")


def test_session_auth_needs_the_csrf_token_for_unsafe_methods(owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    assert browser.get("/api/categories").status_code == 200
    response = post_json(browser, "/api/categories", {"name": "tennis"})
    assert response.status_code in (401, 403)
    browser.get("/api/docs")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = post_json(browser, "/api/categories", {"name": "tennis"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_category_crud_and_clips(api, video, other_user):
    created = post_json(api, "/api/categories", {"name": "tennis", "colour": "#AABBCC"})
    assert created.status_code == 201
    category_id = created.json()["id"]
    assert_error(post_json(api, "/api/categories", {"name": "tennis"}), 422, "invalid")
    patched = api.patch(f"/api/categories/{category_id}", {"description": "rackets"}, "application/json")
    assert patched.json()["description"] == "rackets" and patched.json()["colour"] == "#aabbcc"
    clips = f"/api/categories/{category_id}/clips"
    clip = post_json(api, clips, {"video_id": video.pk, "start_s": 1, "end_s": 4})
    assert clip.status_code == 201 and clip.json()["end_s"] == 4 and clip.json()["overlap_warning"] == ""
    again = post_json(api, clips, {"video_id": video.pk, "start_s": 3, "end_s": 6, "is_negative": True})
    assert "It overlaps" in again.json()["overlap_warning"]
    assert_error(post_json(api, clips, {"video_id": video.pk, "start_s": 3, "end_s": 6}), 422, "invalid")
    bad = post_json(api, clips, {"video_id": video.pk, "start_s": 5, "end_s": 2})
    assert_error(bad, 422, "invalid")
    assert_error(token_client(other_user).delete(f"/api/categories/{category_id}"), 404, "not_found")
    assert api.delete(f"/api/clips/{clip.json()['id']}").status_code == 204
    assert api.delete(f"/api/categories/{category_id}").status_code == 204


def test_start_training_queues_a_version_and_a_job(api, category, settings):
    response = post_json(api, f"/api/categories/{category.pk}/train", {"epochs": 2})
    assert response.status_code == 202, response.content
    model = TrainedModel.objects.get(pk=response.json()["id"])
    assert model.config["train"] == {"epochs": 2} and response.json()["job_id"] == model.job_id
    job = api.get(f"/api/jobs/{model.job_id}").json()
    assert job["kind"] == "train" and job["status"] == "queued"
    cancelled = post_json(api, f"/api/jobs/{model.job_id}/cancel", {})
    assert cancelled.json()["status"] == "cancelled"


def test_training_is_rate_limited_per_user(api, category, settings, other_user):
    settings.OFFSIDE_API_RATE_LIMITS = {"train": 2}
    codes = [post_json(api, f"/api/categories/{category.pk}/train", {}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert_error(post_json(api, f"/api/categories/{category.pk}/train", {}), 429, "rate_limited")
    assert Job.objects.filter(kind="train").count() == 2


def test_start_scoring_uses_the_active_version_of_a_category(api, category, video, other_user):
    model = ready_model(category)
    response = post_json(api, "/api/runs", {"video_id": video.pk, "category_ids": [category.pk], "high": 2})
    assert response.status_code == 202, response.content
    run = response.json()
    assert run["model_versions"][0]["model_id"] == model.pk and run["job_id"]
    assert_error(api.get(f"/api/runs/{run['id']}/frames"), 409, "conflict")
    assert api.get(f"/api/runs/{run['id']}/segments").json() == []
    assert_error(token_client(other_user).get(f"/api/runs/{run['id']}"), 404, "not_found")
    stranger = token_client(other_user)
    foreign = post_json(stranger, "/api/runs", {"video_id": video.pk, "model_ids": [model.pk]})
    assert_error(foreign, 404, "not_found")


def test_scoring_without_models_is_a_clear_error(api, video, category):
    assert_error(post_json(api, "/api/runs", {"video_id": video.pk}), 422, "invalid")
    no_model = post_json(api, "/api/runs", {"video_id": video.pk, "category_ids": [category.pk]})
    assert_error(no_model, 409, "conflict")


def locations(response) -> list:
    return [(tuple(d["loc"]), d["msg"]) for d in response.json()["error"]["details"]]


def test_a_form_error_has_the_schema_errors_shape_and_the_clients_field_names(api, category, video):
    """Checks the forms make (a taken name, a clip past the end, a model that is not the user's) read like
    the schema's: a list of loc / msg naming the field as the client sent it."""
    taken = post_json(api, "/api/categories", {"name": "Soccer"})
    assert_error(taken, 422, "invalid")
    assert locations(taken) == [(("body", "name"), taken.json()["error"]["message"])]
    assert "already have a category" in taken.json()["error"]["message"]
    past_end = post_json(api, f"/api/categories/{category.pk}/clips", {"video_id": video.pk, "end_s": 99})
    assert_error(past_end, 422, "invalid")
    assert [loc for loc, _ in locations(past_end)] == [("body", "end_s")]
    ready_model(category)
    foreign = post_json(api, "/api/runs", {"video_id": video.pk, "model_ids": [99999]})
    assert_error(foreign, 422, "invalid")
    message = "Model version 99999 is not one of your ready versions."
    assert locations(foreign) == [(("body", "model_ids"), message)]


def test_scoring_a_video_that_is_not_ready_says_so(api, video, category):
    ready_model(category)
    Video.objects.filter(pk=video.pk).update(status=Video.Status.FAILED)
    response = post_json(api, "/api/runs", {"video_id": video.pk, "category_ids": [category.pk]})
    assert_error(response, 409, "conflict")
    message = response.json()["error"]["message"]
    assert "is not ready (status failed): only a ready video can be scored" in message


def test_a_malformed_body_gets_the_stable_error_shape(api):
    response = api.post("/api/categories", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert set(response.json()["error"]) >= {"code", "message"}


def test_a_script_run_again_resumes_its_upload_by_the_files_head(api):
    body = {"filename": "match.mp4", "size": 5000, "head_sha256": "ab" * 32}
    first = post_json(api, "/api/uploads", body)
    assert first.status_code == 201 and first.json()["resumed"] is False
    again = post_json(api, "/api/uploads", body)
    assert (
        again.status_code == 200
        and again.json()["resumed"] is True
        and again.json()["id"] == first.json()["id"]
    )
    bad = post_json(api, "/api/uploads", {**body, "head_sha256": "xyz"})
    assert_error(bad, 422, "invalid")
    # the field is named where the client wrote it: in the body, not in our view's parameter
    assert [d["loc"] for d in bad.json()["error"]["details"]] == [["body", "head_sha256"]]


def test_long_lists_come_in_pages_that_say_what_follows(api, owner, other_user):
    for title in ("first", "second", "third"):
        make_row(owner, title)
    make_row(other_user, "not-yours")
    page = api.get("/api/videos?limit=2")
    assert [v["title"] for v in page.json()] == ["third", "second"] and page["X-Total-Count"] == "3"
    link = re.fullmatch(r'<(http://testserver/api/videos\?[^>]+)>; rel="next"', page["Link"])
    assert link and "offset=2" in link.group(1) and "limit=2" in link.group(1)
    rest = api.get(link.group(1).removeprefix("http://testserver"))
    assert [v["title"] for v in rest.json()] == ["first"] and "Link" not in rest
    assert len(api.get("/api/videos").json()) == 3 and "Link" not in api.get("/api/videos")
    assert api.get("/api/runs?limit=1").json() == [] and api.get("/api/runs")["X-Total-Count"] == "0"
    for query, field in (
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("offset=162371740392929230848", "offset"),  # would overflow the database's integer
    ):
        bad = api.get(f"/api/videos?{query}")
        assert_error(bad, 422, "invalid")
        assert [d["loc"] for d in bad.json()["error"]["details"]] == [["query", field]]


def test_every_422_says_where_in_the_request(api, video):
    """Checks made in the views and models, not by the schema, still give the loc / msg list."""
    no_models = post_json(api, "/api/runs", {"video_id": video.pk, "model_ids": []})
    assert_error(no_models, 422, "invalid")
    message = "Give model_ids or category_ids to score against."
    assert locations(no_models) == [(("body", "model_ids"), message)]
    blank = post_json(api, "/api/uploads", {"filename": "   ", "size": 10})
    assert_error(blank, 422, "invalid")
    assert [loc for loc, _ in locations(blank)] == [("body", "filename")]
