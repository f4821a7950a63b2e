"""Deleting a category in Chromium: the confirmation lists its versions with the size of their weights and
what stays; confirming deletes the rows and the files."""

import pytest

from tests.browser.test_datasets_in_the_browser import log_in
from tests.webapp.model_helpers import ready_model
from tests.webapp.test_deletion import scored
from tests.webapp.videos_helpers import make_row
from webapp.models import Category, ReferenceClip, ScoringRun, TrainedModel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_category_delete_page_lists_what_goes_and_deleting_removes_the_weights(page, owner):
    video = make_row(owner, "match")
    category = Category.objects.create(owner=owner, name="soccer")
    ReferenceClip.objects.create(category=category, video=video)
    first, second = ready_model(category), ready_model(category)
    scored(video, first, segments=2, renders=1)
    folders = [first.directory, second.directory]
    assert all((folder / "weights.safetensors").is_file() for folder in folders)

    log_in(page, owner)
    page.goto(f"/categories/{category.pk}/")
    page.click("text=Delete…")
    page.wait_for_url(f"**/categories/{category.pk}/delete/")
    rows = page.locator("#deletion-plan tr[data-removed]")
    assert rows.nth(0).inner_text().startswith("1 reference clip in soccer")
    versions = rows.nth(1).inner_text()
    assert "2 model versions (v1 (active), v2) with their weights" in versions and "KB" in versions
    kept = page.inner_text("#deletion-plan .kept")
    assert "The videos of its clips stay in your library." in kept
    assert "The scoring run made with its versions stays, with its segments." in kept

    page.click("#confirm-delete")
    page.wait_for_url("**/categories/")
    assert not Category.objects.filter(pk=category.pk).exists() and not TrainedModel.objects.exists()
    assert not any(folder.exists() for folder in folders), "the weights went with their rows"
    assert ScoringRun.objects.filter(video=video).count() == 1, "runs made with the versions stay"
