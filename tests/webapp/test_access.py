"""One rule for reaching a row by id on the pages: another user's row answers exactly like a missing one."""

import pytest

from tests.webapp.model_helpers import ready_model
from tests.webapp.videos_helpers import make_row
from webapp.models import Category, Job, ReferenceClip, ScoringRun, Upload
from webapp.templatetags.offside_media import timecode

pytestmark = pytest.mark.django_db

MISSING = 987654

PAGES = [
    ("get", "/jobs/{job}/"),
    ("post", "/jobs/{job}/cancel/"),
    ("get", "/videos/{video}/"),
    ("post", "/videos/{video}/reprobe/"),
    ("get", "/videos/{video}/file/"),
    ("get", "/categories/{category}/"),
    ("get", "/categories/{category}/train/"),
    ("post", "/clips/{clip}/delete/"),
    ("get", "/models/{model}/"),
    ("get", "/models/{model}/report/"),
    ("get", "/runs/{run}/"),
    ("get", "/runs/{run}/report/"),
    ("get", "/uploads/{upload}/"),
]


@pytest.fixture
def foreign_ids(other_user) -> dict:
    video = make_row(other_user, "theirs")
    category = Category.objects.create(owner=other_user, name="tennis")
    return {
        "job": Job.objects.create(kind="system_check", owner=other_user).pk,
        "video": video.pk,
        "category": category.pk,
        "clip": ReferenceClip.objects.create(category=category, video=video).pk,
        "model": ready_model(category).pk,
        "run": ScoringRun.objects.create(video=video, owner=other_user).pk,
        "upload": Upload.begin(other_user, "theirs.mp4", 10).pk,
    }


@pytest.mark.parametrize(("method", "route"), PAGES)
def test_a_foreign_id_answers_like_a_missing_one_on_every_page(owner_client, foreign_ids, method, route):
    missing = {**{name: MISSING for name in foreign_ids}, "upload": "00000000-0000-4000-8000-000000000000"}
    foreign = getattr(owner_client, method)(route.format(**foreign_ids))
    absent = getattr(owner_client, method)(route.format(**missing))
    assert foreign.status_code == absent.status_code == 404
    assert foreign.content == absent.content


def test_staff_reach_every_row(client, staff, foreign_ids):
    client.force_login(staff)
    assert client.get(f"/videos/{foreign_ids['video']}/").status_code == 200
    assert client.get(f"/categories/{foreign_ids['category']}/").status_code == 200


def test_pages_show_one_timecode_format():
    assert timecode(62.5) == "00:01:02.500"
    assert timecode(3725) == "01:02:05.000"
    assert timecode(None) == ""
