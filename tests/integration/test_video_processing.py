"""Uploads processed by the REAL Celery worker: good videos become ready, each bad kind fails with its reason,
and a bad file does not stop the next upload."""

import pytest
from django.test import Client

from tests.integration.helpers import wait_for_job
from tests.synthetic import write_not_a_video, write_truncated_video, write_video
from tests.workers.test_probing import write_undecodable_video
from webapp.models import Job, Video

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def upload_file(client: Client, path, chunk_bytes: int = 4096) -> dict:
    data = path.read_bytes()
    created = client.post(
        "/uploads/", {"filename": path.name, "size": len(data)}, content_type="application/json"
    )
    upload_id = created.json()["id"]
    answer = None
    for offset in range(0, max(len(data), 1), chunk_bytes):
        answer = client.generic(
            "PATCH", f"/uploads/{upload_id}/", data=data[offset : offset + chunk_bytes],
            content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET=str(offset),
        )  # fmt: skip
        assert answer.status_code == 200, answer.content
    return answer.json()


def processed(result: dict) -> tuple[Video, Job]:
    job = wait_for_job(result["video"]["probe_job_id"])
    return Video.objects.get(pk=result["video"]["id"]), job


@pytest.fixture
def logged_in(owner):
    client = Client()
    client.force_login(owner)
    return client


def test_an_uploaded_video_is_probed_by_the_worker_and_becomes_ready(worker, logged_in, tmp_path):
    path = tmp_path / "two-scenes.mp4"
    write_video(path, [("field", 2.0), ("studio", 1.0)], fps=10, size=(128, 72))
    video, job = processed(upload_file(logged_in, path))
    assert job.status == "succeeded" and job.queue == "cpu" and job.result["frame_count"] == 30
    assert video.status == "ready" and (video.width, video.height) == (128, 72)
    assert video.frame_count == 30 and video.duration_s == pytest.approx(3.0, abs=0.11)
    poster = logged_in.get(f"/videos/{video.pk}/poster.jpg")
    assert poster.status_code == 200 and b"".join(poster.streaming_content)[:2] == b"\xff\xd8"
    assert logged_in.get(f"/videos/{video.pk}/strip.jpg").status_code == 200
    frame = logged_in.get(f"/videos/{video.pk}/frames/1500.jpg")  # from the store the worker wrote
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    assert video.probe_warning == "" and not Job.objects.filter(kind=Job.Kind.PREVIEWS).exists()


def test_an_upload_that_ends_early_is_ready_with_a_warning(worker, logged_in, tmp_path):
    from tests.ingest_inputs import cut_faststart
    from tests.scoring.conftest import _made

    video, job = processed(upload_file(logged_in, _made(cut_faststart, tmp_path / "cut.mp4"), 64 * 1024))
    assert job.status == "succeeded" and video.status == "ready"
    expected = f"file ends early: header says 8.0 s, decoded {video.duration_s:.1f} s"
    assert video.probe_warning.startswith(expected) and job.result["warning"] == video.probe_warning
    assert expected in logged_in.get(f"/videos/{video.pk}/").content.decode()


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("empty.mp4", lambda p: p.write_bytes(b""), "The file is empty (0 bytes)."),
        ("shopping-list.mp4", write_not_a_video, "Not a video"),
        ("cut-off.mp4", write_truncated_video, "truncated or damaged"),
        ("no-frames.avi", write_undecodable_video, "No frame of this AVI file could be decoded"),
    ],
)
def test_a_bad_file_ends_failed_with_its_reason_and_the_next_upload_goes_on(
    worker, logged_in, tmp_path, name, make, reason
):
    bad = tmp_path / name
    make(bad)
    good = tmp_path / f"after-{name}.mp4"
    write_video(good, [("field", 1.0)], seed=len(name))
    bad_result = upload_file(logged_in, bad)
    good_result = upload_file(logged_in, good)
    video, job = processed(bad_result)
    assert job.status == "failed" and reason in job.error
    assert video.status == "failed" and reason in video.error
    page = logged_in.get(f"/videos/{video.pk}/").content.decode()
    assert reason in page
    assert processed(good_result)[0].status == "ready"
