"""A training's page keeps up while its WebSocket is cut and restored: on reconnect the snapshot brings every
epoch it missed, and the badges and buttons follow the job to its end without a reload."""

import re

import pytest

from tests.browser.conftest import off_the_page_thread
from tests.browser.test_datasets_in_the_browser import log_in
from tests.integration.helpers import STATE_WAIT_MS
from tests.training_fixtures import TINY_CONFIG, category_with_clip, ready_video
from webapp.models import Category, TrainedModel

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Far more epochs than the test waits for, whatever the machine's speed: the test cancels it.
LONG_TRAINING = {**TINY_CONFIG, "train": {**TINY_CONFIG["train"], "epochs": 5000, "patience": 100000}}


class SocketSwitch:
    """Routes the page's job sockets through Playwright: ``cut()`` drops them and refuses new ones (the page
    keeps retrying), ``restore()`` lets the next retry through to the server."""

    def __init__(self, page):
        self.open_routes, self.is_cut = [], False
        page.route_web_socket("**/ws/jobs/**", self.route)

    def route(self, ws) -> None:
        if self.is_cut:
            ws.close(code=4000, reason="cut by the test")
            return
        server = ws.connect_to_server()
        self.open_routes.append((ws, server))

    def cut(self) -> None:
        self.is_cut = True
        for ws, server in self.open_routes:
            server.close()
            ws.close(code=4000, reason="cut by the test")
        self.open_routes.clear()

    def restore(self) -> None:
        self.is_cut = False


def epochs_stored(model: TrainedModel) -> int:
    return len(TrainedModel.objects.get(pk=model.pk).curves.get("epochs", []))


DRAWN_POINTS = "document.querySelectorAll('#loss-chart .scatterlayer .point').length"


def chart_points(page) -> int:
    """Markers Plotly really drew (not what the page holds in memory)."""
    return int(page.evaluate(DRAWN_POINTS))


def wait_for_epochs(page, model: TrainedModel, count: int) -> int:
    """Let training run on (Playwright keeps serving the page meanwhile) until ``count`` epochs are stored."""
    while (stored := epochs_stored(model)) < count:
        page.wait_for_timeout(100)
    return stored


def test_a_training_page_keeps_up_while_its_socket_is_cut_and_restored(worker, page, owner, tmp_path):
    category = category_with_clip(owner, ready_video(owner, tmp_path, "pitch.mp4", [("field", 3.0)]))
    switch = SocketSwitch(page)
    log_in(page, owner)
    model = TrainedModel.start_training(category, owner, LONG_TRAINING)
    page.goto(f"/models/{model.pk}/")
    page.locator('[data-field="epochs"]', has_text=re.compile(r"epoch \d+ of 5000")).wait_for(
        timeout=STATE_WAIT_MS
    )

    # Live events (no snapshot in between) keep drawing: the chart's markers grow past its first drawing.
    first = wait_for_epochs(page, model, 1)
    page.wait_for_function(f"n => {DRAWN_POINTS} >= n", arg=2 * (first + 3))

    switch.cut()
    page.locator("[data-live-indicator]", has_text="reconnecting").wait_for()
    seen_when_cut = chart_points(page)
    stored = wait_for_epochs(page, model, seen_when_cut // 2 + 5)
    assert chart_points(page) == seen_when_cut, "nothing arrives while the socket is cut"

    switch.restore()
    # Two points (train, validation) per epoch: every epoch stored before the restore is drawn.
    page.wait_for_function(f"n => {DRAWN_POINTS} >= n", arg=2 * stored)
    assert "of 5000" in page.inner_text('[data-field="epochs"]')

    page.evaluate("window.sameDocument = true")  # gone if anything below reloaded the page
    model.job.request_cancel()  # as another tab or the API would
    page.locator('#job-progress [data-field="status"]', has_text="cancelled").wait_for(timeout=STATE_WAIT_MS)
    page.locator("#model-status", has_text="cancelled").wait_for()
    assert page.locator("#cancel-button").is_hidden() and page.locator("#retry-button").is_visible()
    assert page.inner_text('[data-field="eta"]') == ""
    assert page.evaluate("window.sameDocument === true"), "the page followed the job live, without a reload"


def test_a_categorys_version_badge_follows_its_training_live(page, owner):
    category = Category.objects.create(owner=owner, name="soccer")
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    log_in(page, owner)
    page.goto(f"/categories/{category.pk}/")
    badge = page.locator(f'tr[data-model-id="{model.pk}"] .status-pill')
    assert badge.inner_text() == "queued"
    page.locator("[data-live-indicator]", has_text="connected").wait_for()

    off_the_page_thread(lambda: model.job.claim() and model.job.publish())
    badge.filter(has_text="training").wait_for()
    off_the_page_thread(lambda: model.job.mark_cancelled())
    badge.filter(has_text="cancelled").wait_for()


def test_a_finished_job_loses_its_cancel_button_in_the_jobs_table(page, owner):
    category = Category.objects.create(owner=owner, name="soccer")
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    log_in(page, owner)
    page.goto("/jobs/")
    row = page.locator(f'tr[data-job-id="{model.job.pk}"]')
    cancel = row.locator('[data-row-action="cancel"]')
    assert cancel.is_visible()
    page.locator("[data-live-indicator]", has_text="connected").wait_for()

    off_the_page_thread(lambda: model.job.claim() and model.job.publish())
    row.locator('[data-field="status"]', has_text="running").wait_for()
    assert cancel.is_visible()
    off_the_page_thread(lambda: model.job.mark_cancelled())
    row.locator('[data-field="status"]', has_text="cancelled").wait_for()
    assert cancel.is_hidden()
