"""A version's threshold in people's terms on its page: the false alarms per hour it gives on held-out
in-category frames, and setting the threshold from the number someone accepts."""

import re

import pytest
from django.urls import reverse

from scoring.alarms import false_alarms_per_hour, threshold_for_false_alarms
from scoring.calibration import Calibration
from scoring.checkpoint import read_calibration, update_calibration
from tests.scoring.test_alarms import held_out
from tests.webapp.model_helpers import ready_model
from webapp.models import Category, TrainedModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(owner):
    """A ready version (sampled at 5 fps) whose held-out frames are half an hour with a few odd bursts."""
    model = ready_model(Category.objects.create(owner=owner, name="soccer"))
    calibration = Calibration(
        threshold=1.05, method="percentile", percentile=99.0, held_out_losses=held_out(2)
    )
    update_calibration(model.directory, calibration, {"at": "test"})
    model.store_calibration(calibration.to_dict(), {"at": "test", "threshold": 1.05, "method": "percentile"})
    return TrainedModel.objects.get(pk=model.pk)


def shown_rate(page: str) -> float:
    return float(re.search(r'id="false-alarms">≈ <strong>([0-9.]+)</strong>', page)[1])


def test_the_version_page_shows_its_false_alarms_per_hour(owner_client, model):
    page = owner_client.get(reverse("model_detail", args=[model.pk])).content.decode()
    expected = false_alarms_per_hour(held_out(2), 1.05, 5.0)
    assert expected > 2 and shown_rate(page) == pytest.approx(expected, abs=0.05)
    assert "9000 held-out frames, 30.0 min" in page


def test_setting_the_threshold_by_false_alarms_per_hour(owner_client, owner, model):
    response = owner_client.post(reverse("model_threshold", args=[model.pk]), {"false_alarms_per_hour": "2"})
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.threshold == pytest.approx(threshold_for_false_alarms(held_out(2), 5.0, 2.0))
    assert read_calibration(model.directory).threshold == model.threshold  # model.json agrees with the row
    page = owner_client.get(response.url).content.decode()
    assert shown_rate(page) <= 2.0 and "≤ 2.0 false alarms/h" in page
    assert model.calibration["recalibrations"][-1]["by"] == owner.username


@pytest.mark.parametrize("value", ["lots", "-1", "5000"])
def test_a_nonsense_goal_keeps_the_threshold(owner_client, model, value):
    response = owner_client.post(
        reverse("model_threshold", args=[model.pk]), {"false_alarms_per_hour": value}
    )
    assert "The threshold stays" in owner_client.get(response.url).content.decode()
    model.refresh_from_db()
    assert model.threshold == 1.05


def test_only_the_owner_sets_a_threshold(client, other_user, model):
    client.force_login(other_user)
    assert (
        client.post(reverse("model_threshold", args=[model.pk]), {"false_alarms_per_hour": "1"}).status_code
        == 404
    )


def test_the_category_page_charts_every_version_and_rolls_back_to_an_earlier_one(
    owner_client, owner, tmp_path
):
    import json

    from tests.training_fixtures import category_with_clip, ready_video

    video = ready_video(owner, tmp_path, "pitch.mp4", [("field", 2.0)])
    category = category_with_clip(owner, video)
    first, second = ready_model(category, threshold=0.05), ready_model(category, threshold=0.04)
    owner_client.post(reverse("model_activate", args=[second.pk]))
    page = owner_client.get(reverse("category_detail", args=[category.pk])).content.decode()
    start = page.index('id="version-trends-figure">') + len('id="version-trends-figure">')
    figure = json.loads(page[start : page.index("</script>", start)])
    thresholds, alarms = figure["data"][1], figure["data"][2]
    assert thresholds["y"] == [0.05, 0.04] and thresholds["text"] == ["v1", "v2 (active)"]
    assert alarms["y"] == [0.0, 0.0]  # every held-out loss of the tiny checkpoints is below its threshold
    assert f'data-activate="{first.version}">Roll back to v1</button>' in page

    owner_client.post(reverse("model_activate", args=[first.pk]), {"next": f"/categories/{category.pk}/"})
    assert list(TrainedModel.objects.filter(is_active=True)) == [first]
    scoring = owner_client.get(f"/videos/{video.pk}/").content.decode()
    assert f'value="{first.pk}" checked' in scoring and f'value="{second.pk}" checked' not in scoring


def test_the_api_gives_each_version_its_false_alarms_per_hour(owner, model):
    from django.test import Client

    from webapp.models import ApiToken

    _, raw = ApiToken.issue(owner, "script")
    body = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"/api/models/{model.pk}").json()
    assert body["false_alarms_per_hour"] == pytest.approx(false_alarms_per_hour(held_out(2), 1.05, 5.0))
