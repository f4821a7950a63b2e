"""Training from the category page in Chromium: the live progress bar reaches done, the loss chart fills;
staff recalibrate the version from the admin and its page lists the change."""

import re

import pytest

from tests.browser.conftest import finish_before_the_live_connection
from tests.browser.test_datasets_in_the_browser import log_in
from tests.integration.helpers import STATE_WAIT_MS, wait_for_job
from tests.training_fixtures import TINY_CONFIG, category_with_clip, ready_video
from webapp.models import Job, TrainedModel

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


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
    card.locator('[data-field="status"]', has_text="succeeded").wait_for(timeout=STATE_WAIT_MS)
    assert card.locator('[role="progressbar"]').get_attribute("aria-valuenow") == "100"
    page.locator("#threshold").wait_for(timeout=STATE_WAIT_MS)  # the page reloads itself with the calibration
    page.locator("#loss-chart .main-svg").first.wait_for(timeout=STATE_WAIT_MS)
    model = TrainedModel.objects.get(category=category)
    assert model.status == "ready" and model.is_active
    assert [p["epoch"] for p in model.curves["epochs"]] == [1, 2]


def test_a_model_page_opened_before_its_training_finished_shows_the_calibration_once_it_has(
    page, owner, tmp_path
):
    from workers.training import train_category_work

    category = category_with_clip(owner, ready_video(owner, tmp_path, "pitch.mp4", [("field", 3.0)]))
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    log_in(page, owner)
    finish_before_the_live_connection(page, model.job, train_category_work)  # drawn queued, then finished
    page.goto(f"/models/{model.pk}/")
    page.locator("#threshold").wait_for(timeout=STATE_WAIT_MS)  # it reloaded itself with the calibration


def test_staff_recalibrate_a_version_from_the_admin(worker, page, owner, staff, tmp_path):
    category = category_with_clip(owner, ready_video(owner, tmp_path, "pitch.mp4", [("field", 3.0)]))
    model = TrainedModel.start_training(category, owner, TINY_CONFIG)
    assert wait_for_job(model.job.pk).status == "succeeded"
    model.refresh_from_db()
    log_in(page, staff)
    page.goto("/admin/webapp/trainedmodel/")

    page.check(f'input[name="_selected_action"][value="{model.pk}"]')
    page.select_option('select[name="action"]', "recalibrate")
    page.click('button[name="index"]')
    page.fill("#id_percentile", "60")
    page.click('input[name="apply"]')
    page.locator(".messagelist", has_text=f"Recalibration of {model.label} queued").wait_for()

    job = wait_for_job(Job.objects.get(kind=Job.Kind.RECALIBRATE).pk)
    assert job.status == "succeeded", job.error
    page.goto(f"/models/{model.pk}/")
    table = page.locator("#recalibrations")
    assert "(60.0th)" in table.inner_text()
    assert f"{job.result['threshold']:.5f}" in page.inner_text("#threshold")
