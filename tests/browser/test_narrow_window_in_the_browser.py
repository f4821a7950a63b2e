"""A phone-wide window (390 px): no page is wider than the window, and the top bar's dark background is
behind every link of it (links wrap onto more rows instead of spilling onto the light page)."""

import pytest

from tests.browser.test_datasets_in_the_browser import log_in
from tests.report_fixtures import scored_run
from tests.webapp.videos_helpers import make_row
from webapp.models import Category, Job

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WIDTH = 390
LINKS_INSIDE_BAR = """() => {
    const bar = document.querySelector(".topbar").getBoundingClientRect();
    return Array.from(document.querySelectorAll(".topbar a, .topbar button, .topbar .username"))
        .filter((el) => {
            const box = el.getBoundingClientRect();
            const outside = box.left < bar.left || box.right > bar.right;
            return outside || box.top < bar.top || box.bottom > bar.bottom;
        })
        .map((el) => el.textContent.trim());
}"""


def test_pages_fit_a_phone_wide_window(page, staff, tmp_path):
    run = scored_run(staff, tmp_path)
    error = "Not a video: the file's content is not a video container this server can read."
    failed = make_row(staff, "a-rather-long-recording-title-from-the-dvr", status="failed", error=error)
    make_row(staff, "derby", duration_s=5400.0, width=1920, height=1080, fps=25.0)
    Category.objects.create(owner=staff, name="Soccer broadcast", description="Wide shots, close-ups, crowd")
    Job.objects.create(kind=Job.Kind.SYSTEM_CHECK, owner=staff, title="A job with a long title to wrap")
    page.set_viewport_size({"width": WIDTH, "height": 800})
    log_in(page, staff)
    pages = ["/", "/videos/", f"/videos/{failed.pk}/", "/videos/upload/", "/categories/", "/jobs/", "/runs/"]
    soccer = Category.objects.get(owner=staff, name="soccer")
    for url in [*pages, f"/runs/{run.pk}/", f"/runs/{run.pk}/report/", f"/categories/{soccer.pk}/"]:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{url} is {width} px wide in a {WIDTH} px window"
        assert page.evaluate(LINKS_INSIDE_BAR) == [], url
