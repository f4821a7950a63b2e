"""The video library: list, search, sort, pagination at scale, detail, Range streaming, ownership, delete."""

import shutil

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scoring.previews import load_previews
from tests.webapp.videos_helpers import make_ready_video, make_row, refuse_to_decode
from webapp.models import Category, Job, ReferenceClip, Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(owner, tmp_path):
    return make_ready_video(owner, tmp_path)


def test_the_library_lists_videos_with_their_facts_and_categories(owner_client, owner, video):
    category = Category.objects.create(owner=owner, name="Soccer", colour="#112233")
    ReferenceClip.objects.create(category=category, video=video, start_s=0.0, end_s=1.0)
    ReferenceClip.objects.create(category=category, video=video, start_s=1.0, end_s=2.0)
    page = owner_client.get(reverse("video_list")).content.decode()
    assert "match" in page and "96×64" in page and "3.0 s" in page and "ready" in page
    assert page.count(">Soccer</a>") == 1
    assert reverse("video_poster", args=[video.pk]) in page


def test_search_and_sort(owner_client, owner):
    make_row(owner, "alpha kickoff", duration_s=10, size_bytes=5)
    make_row(owner, "beta studio", duration_s=99, size_bytes=1)
    make_row(owner, "gamma kickoff", duration_s=50, size_bytes=9)
    page = owner_client.get(reverse("video_list"), {"q": "kickoff", "sort": "duration"}).content.decode()
    assert "beta" not in page
    assert page.index("gamma kickoff") < page.index("alpha kickoff")
    page = owner_client.get(reverse("video_list"), {"sort": "title"}).content.decode()
    assert page.index("alpha") < page.index("beta") < page.index("gamma")


def test_the_library_filters_by_status(owner_client, owner):
    make_row(owner, "good one")
    make_row(owner, "bad one", status="failed", error="Not a video: nope")
    page = owner_client.get(reverse("video_list"), {"status": "failed"}).content.decode()
    assert "bad one" in page and "good one" not in page and "Not a video" in page


def test_the_library_stays_fast_with_ten_thousand_videos(owner_client, owner):
    Video.objects.bulk_create(
        Video(owner=owner, title=f"clip {i:05d}", sha256=f"{i:064x}", size_bytes=i, duration_s=i % 700)
        for i in range(10_000)
    )
    for sort in ("newest", "title", "duration", "size"):
        # A bounded number of queries (each on an index) keeps the page fast however big the library; a
        # wall-clock limit here would only measure how busy the test machine is.
        with CaptureQueriesContext(connection) as queries:
            response = owner_client.get(reverse("video_list"), {"sort": sort, "page": 250})
        assert response.status_code == 200
        assert "page 250 of 400" in response.content.decode()
        assert len(queries) <= 8, [q["sql"] for q in queries]


def test_a_query_string_survives_pagination(owner_client, owner):
    for i in range(30):
        make_row(owner, f"a&b {i}")
    page = owner_client.get(reverse("video_list"), {"q": "a&b"}).content.decode()
    assert "q=a%26b" in page and "page 1 of 2" in page


def test_the_detail_page_shows_the_player_metadata_and_jobs(owner_client, owner, video):
    Category.objects.create(owner=owner, name="Soccer")
    page = owner_client.get(reverse("video_detail", args=[video.pk])).content.decode()
    assert f'src="{reverse("video_file", args=[video.pk])}"' in page
    assert "Set start from current time" in page and "Set end from current time" in page
    assert video.sha256 in page and "30" in page
    assert f'data-job-id="{Job.objects.get(video=video).pk}"' in page


def test_a_failed_video_shows_its_reason(owner_client, owner):
    bad = make_row(owner, "broken", status="failed", error="The file is empty (0 bytes).")
    page = owner_client.get(reverse("video_detail", args=[bad.pk])).content.decode()
    assert "The file is empty (0 bytes)." in page and "Retry processing" in page


@pytest.mark.parametrize(
    ("size", "shown", "exact"),
    [(0, "0\xa0bytes</dd>", False), (512, "512\xa0bytes</dd>", False), (1_500_000, "1.4\xa0MB", True)],
)
def test_the_exact_size_is_added_only_where_the_readable_one_is_rounded(
    owner_client, owner, size, shown, exact
):
    row = make_row(owner, "sized", size_bytes=size)
    page = owner_client.get(reverse("video_detail", args=[row.pk])).content.decode()
    assert shown in page
    assert (f"({size} bytes)" in page) is exact


class TestRangeRequests:
    def test_the_whole_file_without_a_range(self, owner_client, video):
        response = owner_client.get(reverse("video_file", args=[video.pk]))
        assert response.status_code == 200 and response["Accept-Ranges"] == "bytes"
        assert b"".join(response.streaming_content) == video.original_path.read_bytes()
        assert response["Content-Type"] == "video/mp4"

    def test_a_byte_range_answers_206_with_content_range(self, owner_client, video):
        data = video.original_path.read_bytes()
        response = owner_client.get(reverse("video_file", args=[video.pk]), HTTP_RANGE="bytes=100-199")
        assert response.status_code == 206
        assert response["Content-Range"] == f"bytes 100-199/{len(data)}"
        assert response["Content-Length"] == "100"
        assert b"".join(response.streaming_content) == data[100:200]

    def test_repeated_seeks_open_ended_and_suffix_ranges(self, owner_client, video):
        data = video.original_path.read_bytes()
        url = reverse("video_file", args=[video.pk])
        for header, expected in [
            (f"bytes={len(data) - 10}-", data[-10:]),
            ("bytes=-25", data[-25:]),
            ("bytes=0-0", data[:1]),
            (f"bytes=5-{len(data) + 500}", data[5:]),
        ]:
            response = owner_client.get(url, HTTP_RANGE=header)
            assert response.status_code == 206, header
            assert b"".join(response.streaming_content) == expected, header

    def test_an_unsatisfiable_range_answers_416(self, owner_client, video):
        size = video.original_path.stat().st_size
        response = owner_client.get(reverse("video_file", args=[video.pk]), HTTP_RANGE=f"bytes={size}-")
        assert response.status_code == 416 and response["Content-Range"] == f"bytes */{size}"

    def test_a_malformed_range_is_ignored(self, owner_client, video):
        response = owner_client.get(reverse("video_file", args=[video.pk]), HTTP_RANGE="pages=1-2")
        assert response.status_code == 200

    def test_media_root_is_not_served_publicly(self, owner_client, video):
        assert owner_client.get(f"/media/{video.original_relative}").status_code == 404


class TestOwnership:
    def test_another_user_gets_404_for_every_video_url(self, client, other_user, video):
        client.force_login(other_user)
        for name in ("video_detail", "video_file", "video_poster", "video_strip", "video_delete"):
            assert client.get(reverse(name, args=[video.pk])).status_code == 404, name
        assert client.get(reverse("video_frame", args=[video.pk, 500])).status_code == 404
        assert client.post(reverse("video_delete", args=[video.pk])).status_code == 404
        assert client.post(reverse("video_reprobe", args=[video.pk])).status_code == 404
        assert Video.objects.filter(pk=video.pk).exists()

    def test_another_users_videos_are_not_listed(self, client, other_user, video):
        client.force_login(other_user)
        assert "match" not in client.get(reverse("video_list")).content.decode()

    def test_staff_see_and_open_everything(self, client, staff, video):
        client.force_login(staff)
        assert "match" in client.get(reverse("video_list")).content.decode()
        assert client.get(reverse("video_detail", args=[video.pk])).status_code == 200
        assert client.get(reverse("video_file", args=[video.pk]), HTTP_RANGE="bytes=0-9").status_code == 206

    def test_anonymous_visitors_are_sent_to_login(self, client, video):
        response = client.get(reverse("video_file", args=[video.pk]))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_delete_asks_for_confirmation_then_removes_files_and_derived_data(
    owner_client, owner, video, django_capture_on_commit_callbacks
):
    category = Category.objects.create(owner=owner, name="Soccer")
    ReferenceClip.objects.create(category=category, video=video)
    assert len(load_previews(video.previews_directory)) == 15  # the probe's store: 3 s at 5 fps
    page = owner_client.get(reverse("video_delete", args=[video.pk])).content.decode()
    assert "cannot be undone" in page and Video.objects.filter(pk=video.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("video_delete", args=[video.pk]))
    assert response.status_code == 302 and response.url == reverse("video_list")
    assert not Video.objects.filter(pk=video.pk).exists()
    assert not video.directory.exists() and not video.frames_directory.exists()
    assert not video.previews_directory.exists()
    assert not ReferenceClip.objects.exists() and Category.objects.exists()
    assert Job.objects.get(kind=Job.Kind.PROBE_VIDEO).video is None


def test_reprobe_queues_a_new_probe_job(owner_client, video):
    owner_client.post(reverse("video_reprobe", args=[video.pk]))
    assert Job.objects.filter(video=video, kind=Job.Kind.PROBE_VIDEO).count() == 2


@pytest.fixture
def no_decoder(monkeypatch):
    refuse_to_decode(monkeypatch)


def test_frame_pictures_come_from_the_preview_store_without_decoding(owner_client, video, no_decoder):
    response = owner_client.get(reverse("video_frame", args=[video.pk, 1530]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    index = load_previews(video.previews_directory)  # samples every 200 ms (5 fps): 1600 is nearest 1530
    assert response.content == index.jpeg(index.times_ms.index(1600))
    assert owner_client.get(reverse("video_frame", args=[video.pk, 999_999])).status_code == 404


def test_a_video_without_a_preview_store_gets_one_from_a_worker_job(
    owner_client, video, no_decoder, monkeypatch, django_capture_on_commit_callbacks
):
    from workers.probing import make_previews_work

    shutil.rmtree(video.previews_directory)  # as for a video probed before the store existed
    sent = []
    monkeypatch.setattr("webapp.job_queue.send_jobs", sent.append)
    url = reverse("video_frame", args=[video.pk, 1000])
    with django_capture_on_commit_callbacks(execute=True):
        first, second = owner_client.get(url), owner_client.get(url)
    assert first.status_code == second.status_code == 503 and first["Retry-After"] == "5"
    assert "being made" in first.content.decode()
    job = Job.objects.get(kind=Job.Kind.PREVIEWS, video=video)  # one job, however many requests
    assert sent == [[job.pk]] and job.queue == "cpu"
    monkeypatch.undo()  # the worker decodes
    result = make_previews_work(job, lambda *args, **kwargs: None)
    assert result["previews"] == 15 and result["width"] == 96
    assert owner_client.get(url).status_code == 200


def test_a_failed_preview_job_is_not_retried_by_every_request(owner_client, video, no_decoder):
    shutil.rmtree(video.previews_directory)
    job = Job.start(Job.Kind.PREVIEWS, video.owner, params={"video_id": video.pk}, video=video, enqueue=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="The uploaded file is missing.")
    response = owner_client.get(reverse("video_frame", args=[video.pk, 1000]))
    assert response.status_code == 503 and "could not be made: The uploaded file is missing." in response.text
    assert Job.objects.filter(kind=Job.Kind.PREVIEWS).count() == 1


def test_the_home_page_summarises_the_library(owner_client, owner, video):
    Category.objects.create(owner=owner, name="Studio")
    page = owner_client.get(reverse("home")).content.decode()
    assert "Recent videos" in page and "match" in page and "Studio" in page


def test_an_open_ended_range_is_answered_in_bounded_parts(owner_client, video, monkeypatch):
    from webapp import media

    monkeypatch.setattr(media, "OPEN_RANGE_MAX_BYTES", 1000)
    data = video.original_path.read_bytes()
    response = owner_client.get(reverse("video_file", args=[video.pk]), HTTP_RANGE="bytes=100-")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert b"".join(response.streaming_content) == data[100:1100]


def test_under_asgi_files_stream_through_an_async_iterator(video):
    """Django reads a sync iterator into one list under ASGI; a 4 GB video must stream block by block."""
    import asyncio

    from django.test import AsyncRequestFactory

    from webapp.media import ranged_file_response

    async def collect(response) -> bytes:
        return b"".join([block async for block in response.streaming_content])

    data = video.original_path.read_bytes()
    for headers, expected, status in [({}, data, 200), ({"Range": "bytes=10-19"}, data[10:20], 206)]:
        request = AsyncRequestFactory().get("/videos/1/file/", headers=headers)
        response = ranged_file_response(request, video.original_path, "video/mp4")
        assert response.is_async and response.status_code == status
        assert asyncio.run(collect(response)) == expected


def test_files_go_with_the_video_however_it_is_deleted(owner, video, django_capture_on_commit_callbacks):
    assert video.original_path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        owner.delete()  # cascades to the video row
    assert not video.directory.exists()


@pytest.mark.parametrize("model", ["video", "upload", "category"])
def test_staff_manage_library_rows_in_the_admin(client, staff, video, model):
    client.force_login(staff)
    assert client.get(f"/admin/webapp/{model}/").status_code == 200


def test_a_video_can_be_renamed_by_its_owner_only(owner_client, client, other_user, video):
    owner_client.post(reverse("video_rename", args=[video.pk]), {"title": "  Derby   final "})
    video.refresh_from_db()
    assert video.title == "Derby final" and video.original_path.name == "original.mp4"
    owner_client.post(reverse("video_rename", args=[video.pk]), {"title": "   "})
    video.refresh_from_db()
    assert video.title == "Derby final"
    client.force_login(other_user)
    assert client.post(reverse("video_rename", args=[video.pk]), {"title": "mine"}).status_code == 404
