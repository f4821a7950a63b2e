"""Training from the category page in Chromium: the live progress bar reaches done, the loss chart fills."""

import re

import pytest

from tests.conftest import PASSWORD
from tests.training_fixtures import category_with_clip, ready_video
from webapp.models import TrainedModel

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def log_in(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_training_from_the_category_page_shows_progress_until_done(worker, page, owner, tmp_path):
    category = category_with_clip(owner, ready_video(owner, tmp_path, "pitch.mp4", [("field", 3.0)]))
    log_in(page, owner)
    page.goto(f"/categories/{category.pk}/")

    page.click("#train-form summary")
    page.fill("#id_epochs", "2")
    page.fill("#id_latent_dim", "4")
    page.fill("#id_input_height", "16")
    page.fill("#id_input_width", "32")
    page.select_option("#id_holdout", "blocks")
    page.click("#train-button")
    page.wait_for_url(re.compile(r".*/models/\d+/$"))

    card = page.locator("#job-progress")
    card.locator('[data-field="status"]', has_text="succeeded").wait_for(timeout=120_000)
    assert card.locator('[role="progressbar"]').get_attribute("aria-valuenow") == "100"
    page.locator("#threshold").wait_for(timeout=20_000)  # the page reloads itself with the calibration
    page.locator("#loss-chart .main-svg").first.wait_for(timeout=20_000)
    model = TrainedModel.objects.get(category=category)
    assert model.status == "ready" and model.is_active
    assert [p["epoch"] for p in model.curves["epochs"]] == [1, 2]
