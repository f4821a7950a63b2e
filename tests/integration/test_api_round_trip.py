"""The JSON API end to end with a real worker: upload (resumable, in chunks) -> category + clip -> train ->
score -> segments and exports, all with a token, as a script would."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from tests import synthetic
from tests.integration.helpers import wait_for_job, wait_until
from tests.training_fixtures import FOREIGN_SCENE_PARAMS, TINY_CONFIG
from webapp.models import ApiToken

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHUNK_BYTES = 16 * 1024


def upload_video(api: Client, path) -> int:
    """Upload ``path`` in chunks through /api/uploads and return the new video's id once it is ready."""
    data = path.read_bytes()
    begun = api.post("/api/uploads", {"filename": path.name, "size": len(data)}, "application/json")
    assert begun.status_code == 201, begun.content
    upload_id, body = begun.json()["id"], begun.json()
    for offset in range(0, len(data), CHUNK_BYTES):
        chunk = data[offset : offset + CHUNK_BYTES]
        response = api.generic(
            "PATCH", f"/api/uploads/{upload_id}", chunk, "application/offset+octet-stream",
            headers={"Upload-Offset": str(offset)},
        )  # fmt: skip
        assert response.status_code == 200, response.content
        body = response.json()
    video = body["video"]
    wait_for_job(video["probe_job_id"])
    return wait_for_video(api, video["id"])


def wait_for_video(api: Client, video_id: int) -> int:
    def processed() -> str | None:
        status = api.get(f"/api/videos/{video_id}").json()["status"]
        return status if status in ("ready", "failed") else None

    assert wait_until(processed, f"video {video_id} processed") == "ready"
    return video_id


def train_options() -> dict:
    train, model = TINY_CONFIG["train"], TINY_CONFIG["model"]
    return {
        "epochs": train["epochs"], "batch_size": train["batch_size"], "lr": train["lr"],
        "latent_dim": model["latent_dim"], "input_height": model["height"], "input_width": model["width"],
        "fps": TINY_CONFIG["sampling"]["fps"], "holdout": "blocks", "percentile": 99.0,
    }  # fmt: skip


def post(api: Client, url: str, data: dict):
    return api.post(url, json.dumps(data), content_type="application/json")


def test_upload_train_score_and_fetch_segments_through_the_api(worker, owner, tmp_path):
    cache.clear()
    api = Client(headers={"Authorization": f"Bearer {ApiToken.issue(owner)[1]}"})
    pitch, match = tmp_path / "pitch.mp4", tmp_path / "match.mp4"
    synthetic.write_video(pitch, [("field", 4.0)], fps=10, size=(96, 64))
    synthetic.write_video(match, [("field", 4.0), ("studio", 2.0), ("field", 4.0)], fps=10, size=(96, 64))
    pitch_id, match_id = upload_video(api, pitch), upload_video(api, match)

    category = post(api, "/api/categories", {"name": "soccer"}).json()
    assert post(api, f"/api/categories/{category['id']}/clips", {"video_id": pitch_id}).status_code == 201
    model = post(api, f"/api/categories/{category['id']}/train", train_options())
    assert model.status_code == 202, model.content
    job = wait_for_job(model.json()["job_id"])
    assert job.status == "succeeded", job.error
    assert api.get(f"/api/jobs/{job.pk}").json()["status"] == "succeeded"
    assert api.get(f"/api/models/{model.json()['id']}").json()["is_active"]

    run = post(
        api, "/api/runs", {"video_id": match_id, "category_ids": [category["id"]], **FOREIGN_SCENE_PARAMS}
    )
    assert run.status_code == 202, run.content
    job = wait_for_job(run.json()["job_id"])
    assert job.status == "succeeded", job.error
    segments = api.get(f"/api/runs/{run.json()['id']}/segments").json()
    out = [s for s in segments if s["label"] == "out"]
    assert len(out) == 1 and out[0]["start_s"] == pytest.approx(4.0, abs=0.6)
    frames = api.get(f"/api/runs/{run.json()['id']}/frames").json()
    assert frames["categories"] == ["soccer"] and len(frames["scores"][0]) == len(frames["timestamps_s"])
    csv = api.get(f"/api/runs/{run.json()['id']}/segments.csv")
    assert csv.status_code == 200 and csv.content.decode().startswith("start_s,end_s")
