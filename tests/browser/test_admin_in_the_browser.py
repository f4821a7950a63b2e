"""The admin's model-version list at a 1400 px wide window: every column fits, nothing is cut off."""

import pytest

from tests.browser.test_datasets_in_the_browser import log_in
from tests.webapp.model_helpers import ready_model
from webapp.models import Category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = """() => {
  const last = document.querySelector("#result_list thead th:last-child").getBoundingClientRect();
  const shown = document.querySelector("#changelist .results").getBoundingClientRect();
  return {page: document.documentElement.scrollWidth, window: window.innerWidth, lastRight: last.right,
          shownRight: shown.right};
}"""


def test_the_version_list_fits_a_1400_px_window(page, owner, staff):
    category = Category.objects.create(owner=owner, name="Soccer broadcasts from the cup final of the season")
    for _ in range(3):
        ready_model(category)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in(page, staff)
    page.goto("/admin/webapp/trainedmodel/")
    page.wait_for_selector("#result_list tbody tr")
    widths = page.evaluate(WIDTHS)
    assert widths["page"] <= widths["window"], widths
    assert widths["lastRight"] <= min(widths["shownRight"], widths["window"]), widths  # the size column shows
