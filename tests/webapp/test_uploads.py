"""The resumable upload protocol: chunks at offsets, interruption and resume, hashing, duplicates, limits."""

import hashlib
import io
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from webapp.models import Job, Upload, UploadError, Video

pytestmark = pytest.mark.django_db

CHUNK_TYPE = "application/offset+octet-stream"


def begin(client, filename="match.mp4", size=0):
    return client.post(
        reverse("upload_collection"), {"filename": filename, "size": size}, content_type="application/json"
    )


def send_chunk(client, upload_id, offset, data: bytes):
    return client.generic(
        "PATCH", f"/uploads/{upload_id}/", data=data, content_type=CHUNK_TYPE, HTTP_UPLOAD_OFFSET=str(offset)
    )


def upload_bytes(client, payload: bytes, filename="match.mp4", chunk=1000) -> dict:
    upload_id = begin(client, filename, len(payload)).json()["id"]
    answer = None
    for offset in range(0, max(len(payload), 1), chunk):
        answer = send_chunk(client, upload_id, offset, payload[offset : offset + chunk])
        assert answer.status_code == 200, answer.content
    return answer.json()


@pytest.fixture
def payload() -> bytes:
    return bytes(range(256)) * 20 + b"tail"  # 5124 bytes: several chunks and a short last one


def test_it_assembles_chunks_in_order_and_creates_the_video(owner_client, owner, payload):
    result = upload_bytes(owner_client, payload)
    assert result["status"] == "complete"
    assert result["sha256"] == hashlib.sha256(payload).hexdigest()
    video = Video.objects.get(pk=result["video"]["id"])
    assert video.owner == owner and video.size_bytes == len(payload) and video.status == "uploaded"
    assert video.original_path == Path(settings.MEDIA_ROOT) / "videos" / str(video.pk) / "original.mp4"
    assert video.original_path.read_bytes() == payload
    assert video.title == "match" and video.sha256 == result["sha256"]


def test_finishing_an_upload_queues_a_probe_job_on_the_cpu_queue(owner_client, payload):
    result = upload_bytes(owner_client, payload)
    job = Job.objects.get(video_id=result["video"]["id"])
    assert job.kind == Job.Kind.PROBE_VIDEO and job.queue == "cpu" and job.status == "queued"
    assert result["video"]["probe_job_id"] == job.pk


def test_it_resumes_after_an_interruption_from_the_servers_offset(owner_client, payload):
    upload_id = begin(owner_client, "long.mp4", len(payload)).json()["id"]
    assert send_chunk(owner_client, upload_id, 0, payload[:2000]).status_code == 200
    # The connection dropped while the next chunk was on its way; the client lost track and guesses wrong.
    wrong = send_chunk(owner_client, upload_id, 4000, payload[4000:])
    assert wrong.status_code == 409
    assert wrong.json()["offset"] == 2000 and wrong["Upload-Offset"] == "2000"
    # After a reload the client asks where to continue.
    head = owner_client.head(f"/uploads/{upload_id}/")
    assert (
        head.status_code == 200
        and head["Upload-Offset"] == "2000"
        and head["Upload-Length"] == str(len(payload))
    )
    assert owner_client.get(f"/uploads/{upload_id}/").json()["offset"] == 2000
    done = send_chunk(owner_client, upload_id, 2000, payload[2000:])
    assert done.status_code == 200 and done.json()["status"] == "complete"
    video = Video.objects.get(pk=done.json()["video"]["id"])
    assert video.original_path.read_bytes() == payload


class BrokenStream(io.BytesIO):
    """A request body whose connection drops after ``fail_after`` bytes."""

    def __init__(self, data: bytes, fail_after: int):
        super().__init__(data)
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.tell() >= self.fail_after:
            raise OSError("connection reset by peer")
        return super().read(min(size, self.fail_after - self.tell()))


def test_a_chunk_cut_off_mid_stream_leaves_the_offset_where_it_was(owner, payload):
    upload = Upload.begin(owner, "cut.mp4", len(payload))
    upload.append(0, io.BytesIO(payload[:1000]), 1000)
    with pytest.raises(OSError):
        upload.append(1000, BrokenStream(payload[1000:], fail_after=700), len(payload) - 1000)
    upload.refresh_from_db()
    assert upload.offset == 1000 and upload.locked_until is None
    upload.append(1000, io.BytesIO(payload[1000:]), len(payload) - 1000)
    video, duplicate = upload.finish()
    assert not duplicate and video.original_path.read_bytes() == payload


def test_a_duplicate_upload_points_at_the_existing_video_and_keeps_no_copy(owner_client, payload):
    first = upload_bytes(owner_client, payload, "first.mp4")
    second = upload_bytes(owner_client, payload, "again.mp4")
    assert second["status"] == "duplicate"
    assert second["video"]["id"] == first["video"]["id"]
    assert second["video"]["url"] == f"/videos/{first['video']['id']}/"
    assert Video.objects.count() == 1
    assert not list((Path(settings.MEDIA_ROOT) / "uploads").glob("*.part"))


def test_the_same_file_from_another_user_is_not_a_duplicate(owner_client, client, other_user, payload):
    upload_bytes(owner_client, payload)
    client.force_login(other_user)
    assert upload_bytes(client, payload)["status"] == "complete"
    assert Video.objects.count() == 2


def test_a_file_over_the_size_limit_is_refused_up_front(owner_client, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = begin(owner_client, "huge.mp4", 1001)
    assert response.status_code == 413
    assert "larger than the upload limit" in response.json()["error"]
    assert not Upload.objects.exists()


def test_a_chunk_past_the_declared_size_is_refused(owner_client, payload):
    upload_id = begin(owner_client, "x.mp4", 100).json()["id"]
    response = send_chunk(owner_client, upload_id, 0, payload[:101])
    assert response.status_code == 413
    assert Upload.objects.get(pk=upload_id).offset == 0


@pytest.mark.parametrize(
    "filename",
    [
        "../../../etc/passwd.mp4",
        "..\\..\\windows\\evil.mp4",
        "/etc/cron.d/job.mp4",
        "a/../../b.mp4\x00.sh",
        "..",
    ],
)
def test_a_path_traversal_file_name_never_leaves_media_root(owner_client, filename, payload):
    result = upload_bytes(owner_client, payload, filename)
    video = Video.objects.get(pk=result["video"]["id"])
    media = Path(settings.MEDIA_ROOT).resolve()
    assert video.original_path.resolve().parent == media / "videos" / str(video.pk)
    assert "/" not in video.title and "\\" not in video.title and "\x00" not in video.title
    assert video.extension.isalnum()
    files = [p for p in media.rglob("*") if p.is_file()]
    assert files == [video.original_path]


def test_another_user_cannot_see_or_write_to_an_upload(owner_client, client, other_user):
    upload_id = begin(owner_client, "mine.mp4", 10).json()["id"]
    client.force_login(other_user)
    assert client.get(f"/uploads/{upload_id}/").status_code == 404
    assert send_chunk(client, upload_id, 0, b"0123456789").status_code == 404
    assert client.delete(f"/uploads/{upload_id}/").status_code == 404
    assert Upload.objects.get(pk=upload_id).offset == 0


def test_an_unknown_upload_is_not_found(owner_client):
    assert owner_client.get(f"/uploads/{uuid.uuid4()}/").status_code == 404


def test_chunks_need_a_csrf_token(owner, payload):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert begin(client, "x.mp4", 10).status_code == 403
    upload = Upload.begin(owner, "x.mp4", 10)
    response = client.generic(
        "PATCH", f"/uploads/{upload.pk}/", data=b"0123456789", content_type=CHUNK_TYPE, HTTP_UPLOAD_OFFSET="0"
    )
    assert response.status_code == 403
    page = client.get(reverse("upload_page")).content.decode()
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    ok = client.generic(
        "PATCH", f"/uploads/{upload.pk}/", data=b"0123456789", content_type=CHUNK_TYPE,
        HTTP_UPLOAD_OFFSET="0", HTTP_X_CSRFTOKEN=token,
    )  # fmt: skip
    assert ok.status_code == 200 and ok.json()["status"] == "complete"


def test_an_empty_file_completes_with_one_empty_chunk(owner_client):
    upload_id = begin(owner_client, "empty.mp4", 0).json()["id"]
    response = send_chunk(owner_client, upload_id, 0, b"")
    assert response.status_code == 200 and response.json()["status"] == "complete"
    assert Video.objects.get().size_bytes == 0


def test_a_completed_upload_refuses_more_chunks(owner_client, payload):
    result = upload_bytes(owner_client, payload[:10], chunk=10)
    response = send_chunk(owner_client, result["id"], 10, b"more")
    assert response.status_code == 409


def test_discarding_an_upload_removes_its_partial_file(owner_client, owner):
    upload = Upload.begin(owner, "half.mp4", 10)
    upload.append(0, io.BytesIO(b"01234"), 5)
    assert upload.part_path.exists()
    assert owner_client.delete(f"/uploads/{upload.pk}/").status_code == 204
    assert not upload.part_path.exists() and not Upload.objects.exists()


def test_the_upload_page_lists_unfinished_uploads(owner_client, owner):
    Upload.begin(owner, "halfway.mp4", 10)
    page = owner_client.get(reverse("upload_page")).content.decode()
    assert "halfway.mp4" in page and "Drop video files here" in page
    listed = owner_client.get(reverse("upload_collection")).json()["uploads"]
    assert [item["filename"] for item in listed] == ["halfway.mp4"]


def test_bad_sizes_are_refused(owner):
    with pytest.raises(UploadError):
        Upload.begin(owner, "x.mp4", "lots")
    with pytest.raises(UploadError):
        Upload.begin(owner, "x.mp4", -1)


def test_abandoned_uploads_are_purged_with_their_partial_files(owner, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.UPLOAD_EXPIRE_DAYS = 7
    stale = Upload.begin(owner, "old.mp4", 10)
    fresh = Upload.begin(owner, "new.mp4", 10)
    Upload.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=8))
    assert Upload.purge_abandoned() == 1
    assert not stale.part_path.exists() and fresh.part_path.exists()
    assert list(Upload.objects.values_list("filename", flat=True)) == ["new.mp4"]


def test_a_full_disk_pauses_the_upload_with_a_clear_answer(owner_client, owner, monkeypatch):
    import errno

    from webapp.models import uploads

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    upload = Upload.begin(owner, "big.mp4", 10)
    monkeypatch.setattr(uploads, "write_stream_at", disk_full)
    response = send_chunk(owner_client, upload.pk, 0, b"0123456789")
    assert response.status_code == 507 and "disk is full" in response.json()["error"]
    upload.refresh_from_db()
    assert upload.offset == 0 and upload.locked_until is None


def test_a_chunk_over_the_server_cap_is_refused_unread(owner_client, payload, settings):
    settings.UPLOAD_MAX_CHUNK_BYTES = 1000
    upload_id = begin(owner_client, "x.mp4", len(payload)).json()["id"]
    response = send_chunk(owner_client, upload_id, 0, payload[:1001])
    assert response.status_code == 413 and "UPLOAD_MAX_CHUNK_BYTES" in response.json()["error"]
    assert Upload.objects.get(pk=upload_id).offset == 0
    assert send_chunk(owner_client, upload_id, 0, payload[:1000]).status_code == 200
