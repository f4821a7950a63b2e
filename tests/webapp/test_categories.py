"""Categories and reference clips: create, rename, colour, delete, clips from ranges, negatives, frames."""

import shutil

import pytest
from django.test import Client
from django.urls import reverse

from tests.webapp.videos_helpers import make_ready_video, make_row, refuse_to_decode
from webapp.models import Category, Job, ReferenceClip

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(owner, tmp_path):
    return make_ready_video(owner, tmp_path)  # 3.0 s at 10 fps


@pytest.fixture
def category(owner):
    return Category.objects.create(owner=owner, name="Soccer", colour="#1f7a4d")


def add_clip(client, category, video, **fields):
    data = {"category": category.pk, "from_video": video.pk, **fields}
    return client.post(reverse("clip_create"), data)


def test_creating_a_category_opens_its_page(owner_client, owner):
    response = owner_client.post(
        reverse("category_list"), {"name": "  Soccer   match ", "description": "Pitch", "colour": "#AA0000"}
    )
    category = Category.objects.get(owner=owner)
    assert response.status_code == 302 and response.url == reverse("category_detail", args=[category.pk])
    assert (category.name, category.colour) == ("Soccer match", "#aa0000")


def test_names_are_unique_per_owner_regardless_of_case(owner_client, client, other_user, category):
    response = owner_client.post(reverse("category_list"), {"name": "SOCCER", "colour": "#000000"})
    assert response.status_code == 200 and "already have a category called" in response.content.decode()
    client.force_login(other_user)
    client.post(reverse("category_list"), {"name": "Soccer", "colour": "#000000"})
    assert Category.objects.filter(name="Soccer").count() == 2


def test_a_bad_colour_is_refused(owner_client):
    response = owner_client.post(reverse("category_list"), {"name": "X", "colour": "red"})
    assert response.status_code == 200 and "Use a colour like" in response.content.decode()


def test_rename_describe_and_recolour(owner_client, category):
    url = reverse("category_detail", args=[category.pk])
    owner_client.post(url, {"name": "Football", "description": "Green pitch", "colour": "#2457a6"})
    category.refresh_from_db()
    assert (category.name, category.description, category.colour) == ("Football", "Green pitch", "#2457a6")


def test_delete_after_confirmation_keeps_the_videos(owner_client, category, video):
    ReferenceClip.objects.create(category=category, video=video)
    assert (
        "cannot be undone"
        in owner_client.get(reverse("category_delete", args=[category.pk])).content.decode()
    )
    owner_client.post(reverse("category_delete", args=[category.pk]))
    assert not Category.objects.exists() and not ReferenceClip.objects.exists()
    assert video.original_path.exists()


def test_a_time_range_picked_on_the_player_becomes_a_clip(owner_client, category, video):
    response = add_clip(
        owner_client, category, video, start_s="0.5", end_s="2.0", next=f"/videos/{video.pk}/"
    )
    assert response.status_code == 302 and response.url == f"/videos/{video.pk}/"
    clip = ReferenceClip.objects.get()
    assert (clip.start_s, clip.end_s, clip.is_negative) == (0.5, 2.0, False)
    assert clip.frame_count_at(5) == 8  # 1.5 s at 5 fps


def test_empty_start_and_end_add_the_whole_video(owner_client, category, video):
    add_clip(owner_client, category, video)
    clip = ReferenceClip.objects.get()
    assert clip.is_whole_video and clip.frame_count_at(5) == 15 and clip.range_label == "whole video"


def test_the_whole_video_menu_leaves_out_videos_already_added(owner_client, owner, category, video):
    other = make_row(owner, "Cup final", status="ready")
    page = owner_client.get(reverse("category_detail", args=[category.pk])).content.decode()
    assert f'<option value="{video.pk}">' in page and f'<option value="{other.pk}">' in page
    ReferenceClip.objects.create(category=category, video=video)
    page = owner_client.get(reverse("category_detail", args=[category.pk])).content.decode()
    assert f'<option value="{video.pk}">' not in page and f'<option value="{other.pk}">' in page
    ReferenceClip.objects.create(category=category, video=other)
    page = owner_client.get(reverse("category_detail", args=[category.pk])).content.decode()
    assert 'id="no-whole-videos"' in page


def test_the_same_clip_twice_is_refused_and_an_overlap_warned_about(owner_client, category, video):
    add_clip(owner_client, category, video, start_s="0.5", end_s="2.0")
    response = add_clip(owner_client, category, video, start_s="0.5", end_s="2.0")
    assert "is already a clip of this category" in owner_client.get(response.url).content.decode()
    assert ReferenceClip.objects.count() == 1
    response = add_clip(owner_client, category, video, start_s="1.5", end_s="3.0", is_negative="on")
    page = owner_client.get(response.url).content.decode()
    assert ReferenceClip.objects.count() == 2
    assert "It overlaps 00:00:00.500 – 00:00:02.000 (reference) of the same video" in page
    response = add_clip(owner_client, category, video, start_s="2.0", end_s="2.5")  # touches, no overlap
    assert "overlaps 00:00:00.500" not in owner_client.get(response.url).content.decode()
    response = add_clip(owner_client, category, video)  # the whole video overlaps all three
    assert owner_client.get(response.url).content.decode().count("(reference)") >= 2


def test_a_negative_example(owner_client, category, video):
    add_clip(owner_client, category, video, start_s="2", is_negative="on")
    clip = ReferenceClip.objects.get()
    assert clip.is_negative and clip.end_s is None
    owner_client.post(reverse("clip_toggle_negative", args=[clip.pk]))
    clip.refresh_from_db()
    assert not clip.is_negative


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("2", "1", "end must come after"), ("5", "", "start must be between"), ("0", "9", "past the end")],
)
def test_an_impossible_range_is_refused_with_a_reason(owner_client, category, video, start, end, message):
    response = add_clip(owner_client, category, video, start_s=start, end_s=end)
    assert not ReferenceClip.objects.exists()
    page = owner_client.get(response.url).content.decode()
    assert message in page


def test_a_range_needs_a_ready_video_but_the_whole_video_does_not(owner_client, owner, category):
    pending = make_row(owner, "still processing", status="uploaded")
    add_clip(owner_client, category, pending, start_s="1", end_s="2")
    assert not ReferenceClip.objects.exists()
    add_clip(owner_client, category, pending)
    assert ReferenceClip.objects.get().video == pending


def test_a_failed_video_cannot_become_a_clip(owner_client, owner, category):
    bad = make_row(owner, "broken", status="failed")
    add_clip(owner_client, category, bad)
    assert not ReferenceClip.objects.exists()


def test_the_category_page_counts_frames_at_the_training_rate(owner_client, settings, category, video):
    settings.OFFSIDE_TRAIN_FPS = 2
    ReferenceClip.objects.create(category=category, video=video, start_s=0, end_s=2)
    ReferenceClip.objects.create(category=category, video=video, is_negative=True)
    page = owner_client.get(reverse("category_detail", args=[category.pk])).content.decode()
    assert 'id="positive-frames">4<' in page
    assert "at 2 fps" in page and "OFFSIDE_TRAIN_FPS" in page
    assert category.frame_summary(2) == {
        "positive_frames": 4, "negative_frames": 6, "positive_clips": 1, "negative_clips": 1,
    }  # fmt: skip


def test_the_frame_browser_shows_the_sampled_frames(owner_client, settings, category, video):
    settings.OFFSIDE_TRAIN_FPS = 2
    ReferenceClip.objects.create(category=category, video=video, start_s=1.0, end_s=2.5)
    page = owner_client.get(reverse("category_frames", args=[category.pk])).content.decode()
    for t_ms in (1000, 1500, 2000):
        assert reverse("video_frame", args=[video.pk, t_ms]) in page
    assert "(3 in all)" in page


def test_the_frame_browser_shows_placeholders_while_a_videos_previews_are_made(
    owner_client, category, video, monkeypatch, django_capture_on_commit_callbacks
):
    shutil.rmtree(video.previews_directory)  # a video probed before the store existed
    refuse_to_decode(monkeypatch)
    monkeypatch.setattr("webapp.job_queue.send_jobs", lambda ids: None)
    ReferenceClip.objects.create(category=category, video=video, start_s=1.0, end_s=2.0)
    with django_capture_on_commit_callbacks(execute=True):
        page = owner_client.get(reverse("category_frames", args=[category.pk])).content.decode()
    assert "data-previews-waiting" in page and "being made on the worker" in page
    assert page.count("data-frame-pending") == 5 and reverse("video_frame", args=[video.pk, 1000]) not in page
    assert Job.objects.filter(kind=Job.Kind.PREVIEWS, video=video).count() == 1


class TestOwnership:
    def test_another_user_gets_404_for_every_category_url(self, client, other_user, category, video):
        clip = ReferenceClip.objects.create(category=category, video=video)
        client.force_login(other_user)
        for url in (
            reverse("category_detail", args=[category.pk]),
            reverse("category_delete", args=[category.pk]),
            reverse("category_frames", args=[category.pk]),
        ):
            assert client.get(url).status_code == 404, url
        assert (
            client.post(reverse("category_detail", args=[category.pk]), {"name": "Mine"}).status_code == 404
        )
        assert client.post(reverse("clip_delete", args=[clip.pk])).status_code == 404
        assert client.post(reverse("clip_toggle_negative", args=[clip.pk])).status_code == 404
        assert ">Soccer<" not in client.get(reverse("category_list")).content.decode()
        assert ReferenceClip.objects.filter(pk=clip.pk).exists()

    def test_nobody_can_add_someone_elses_video_to_their_category(self, client, other_user, video):
        theirs = Category.objects.create(owner=other_user, name="Mine")
        client.force_login(other_user)
        response = add_clip(client, theirs, video)
        assert response.status_code == 404
        client.post(reverse("clip_create"), {"category": theirs.pk, "video": video.pk})
        assert not ReferenceClip.objects.exists()

    def test_staff_see_every_category(self, client, staff, category):
        client.force_login(staff)
        assert ">Soccer<" in client.get(reverse("category_list")).content.decode()
        assert client.get(reverse("category_detail", args=[category.pk])).status_code == 200


def test_adding_a_clip_needs_a_csrf_token(owner, category, video):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert add_clip(client, category, video).status_code == 403
    assert not ReferenceClip.objects.exists()


def test_the_category_page_lists_the_jobs_that_worked_on_it(owner_client, owner, category):
    from webapp.models import Job

    job = Job.objects.create(kind=Job.Kind.TRAIN, owner=owner, category=category, title="Train Soccer v1")
    page = owner_client.get(reverse("category_detail", args=[category.pk])).content.decode()
    assert f'data-job-id="{job.pk}"' in page and "Train Soccer v1" in page
