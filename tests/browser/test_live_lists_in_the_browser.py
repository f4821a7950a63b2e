"""Lists of jobs follow state live: a job started in another tab joins an open list and its status word goes
from queued to its end without a reload; a list whose socket was cut shows what changed meanwhile once it
is restored."""

import pytest

from tests.browser.conftest import end_before_the_live_connection, off_the_page_thread
from tests.browser.test_datasets_in_the_browser import log_in
from tests.browser.test_live_resync_in_the_browser import SocketSwitch
from tests.integration.helpers import STATE_WAIT_MS
from tests.report_fixtures import scored_run
from tests.training_fixtures import TINY_CONFIG
from tests.webapp.videos_helpers import make_row
from webapp.models import Category, Job, TrainedModel

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NO_RELOAD = "window.sameDocument = true"
SAME_DOCUMENT = "window.sameDocument === true"


def open_live(page, url: str) -> None:
    page.goto(url)
    page.locator("[data-live-indicator]", has_text="connected").first.wait_for()
    page.evaluate(NO_RELOAD)  # gone if the page reloads


def test_a_render_started_in_another_tab_joins_open_lists_and_follows_its_job(worker, page, owner, tmp_path):
    run = scored_run(owner, tmp_path)
    log_in(page, owner)
    jobs_tab = page
    open_live(jobs_tab, "/jobs/")
    report_tab = page.context.new_page()
    open_live(report_tab, f"/runs/{run.pk}/report/")
    other_report = page.context.new_page()
    open_live(other_report, f"/runs/{run.pk}/report/")
    assert report_tab.locator("#render-list").is_hidden()  # no render yet

    report_tab.click("#render-form button[value=in]")
    form_status = report_tab.locator("[data-render-status]")
    form_status.filter(has_text="render job #").wait_for()
    job = Job.objects.get(kind=Job.Kind.RENDER, params__run_id=run.pk)

    # The tab that started it: its form's status word and the report's render list follow the job.
    form_status.locator('[data-field="job-status"]', has_text="succeeded").wait_for(timeout=STATE_WAIT_MS)
    listed = report_tab.locator(f'#render-list [data-job-status-of="{job.pk}"]')
    listed.filter(has_text="succeeded").wait_for()
    assert report_tab.locator(f'[data-show-when-succeeded="{job.pk}"]').is_visible()
    # Another tab showing the same report: the render joins its list and ends there too.
    other_report.locator(f'#render-list [data-job-status-of="{job.pk}"]', has_text="succeeded").wait_for()
    assert other_report.locator("#render-list").is_visible()
    # The jobs page open meanwhile: a new row, its status followed to the end.
    row = jobs_tab.locator(f'#jobs-table tr[data-job-id="{job.pk}"]')
    row.locator('[data-field="status"]', has_text="succeeded").wait_for()
    assert (
        row.locator('[data-row-action="cancel"]').count() == 0
        or row.locator('[data-row-action="cancel"]').is_hidden()
    )
    for tab in (jobs_tab, report_tab, other_report):
        assert tab.evaluate(SAME_DOCUMENT), "the lists followed the job live, without a reload"


def test_a_new_training_joins_the_categorys_versions_as_soon_as_it_is_queued(page, owner, monkeypatch):
    category = Category.objects.create(owner=owner, name="soccer")
    log_in(page, owner)
    open_live(page, f"/categories/{category.pk}/")
    assert page.locator("#versions-table tr[data-model-id]").count() == 0

    # Started as another tab would, with no worker to claim it: its "queued" event alone must show it.
    monkeypatch.setattr("webapp.job_queue.send_jobs", lambda ids: None)
    models = []
    off_the_page_thread(lambda: models.append(TrainedModel.start_training(category, owner, TINY_CONFIG)))
    model = models[0]
    badge = page.locator(f'#versions-table tr[data-model-id="{model.pk}"] .status-pill')
    badge.filter(has_text="queued").wait_for()
    page.locator(f'#jobs-table tr[data-job-id="{model.job.pk}"]').wait_for()

    off_the_page_thread(lambda: model.job.claim() and model.job.publish())
    badge.filter(has_text="training").wait_for()
    assert page.evaluate(SAME_DOCUMENT)


def test_a_jobs_list_shows_what_changed_while_its_socket_was_cut(page, owner):
    category = Category.objects.create(owner=owner, name="soccer")
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    switch = SocketSwitch(page)
    log_in(page, owner)
    open_live(page, "/jobs/")
    status = page.locator(f'#jobs-table tr[data-job-id="{model.job.pk}"] [data-field="status"]')
    assert status.inner_text() == "queued"

    switch.cut()
    page.locator("[data-live-indicator]", has_text="reconnecting").wait_for()
    off_the_page_thread(lambda: model.job.mark_cancelled())  # its event is lost: the socket is cut
    later = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    assert status.inner_text() == "queued"

    switch.restore()
    status.filter(has_text="cancelled").wait_for()
    page.locator(f'#jobs-table tr[data-job-id="{later.job.pk}"]').wait_for()
    assert page.evaluate(SAME_DOCUMENT), "the list refetched itself rather than reload the page"


def test_a_video_uploaded_elsewhere_joins_the_video_list_and_its_status_follows_its_probe(
    page, owner, tmp_path, monkeypatch
):
    from tests import synthetic
    from webapp.models import Video

    log_in(page, owner)
    page.goto("/videos/")
    page.wait_for_function("window.OffsideJobs && window.OffsideJobs.refreshLists")
    page.evaluate(NO_RELOAD)
    # Uploaded as another tab would, with no worker to claim its probe: its "queued" event alone shows it.
    monkeypatch.setattr("webapp.job_queue.send_jobs", lambda ids: None)
    source = tmp_path / "late.mp4"
    synthetic.write_video(source, [("field", 1.0)], fps=10, size=(96, 64))
    started = []

    def upload():
        video = Video.create_from_file(owner, source, "late.mp4", sha256="late", move=True)
        started.append((video, video.start_probe()))

    off_the_page_thread(upload)
    video, job = started[0]
    row = page.locator(f'#video-table tr[data-video-id="{video.pk}"]')
    row.locator(".status-pill", has_text="uploaded").wait_for(timeout=STATE_WAIT_MS)

    def probed():
        job.claim()
        Video.objects.filter(pk=video.pk).update(status=Video.Status.READY)
        job.succeed({})

    off_the_page_thread(probed)
    row.locator(".status-pill", has_text="ready").wait_for(timeout=STATE_WAIT_MS)
    assert page.evaluate(SAME_DOCUMENT), "the list refetched itself rather than reload the page"


def test_a_video_page_drawn_while_its_probe_ran_shows_how_it_ended_before_the_page_could_listen(page, owner):
    video = make_row(owner, "retried", status="failed", error="The file is empty (0 bytes).")
    job = video.start_probe(enqueue=False)  # "Retry processing": the page is drawn while the probe runs
    log_in(page, owner)
    end_before_the_live_connection(page, lambda: job.fail("The file is empty (0 bytes)."))
    page.goto(f"/videos/{video.pk}/")
    page.locator("#video-error", has_text="The file is empty (0 bytes).").wait_for()
    assert page.locator("#video-status").inner_text() == "failed"


def test_the_video_table_shows_a_probe_that_ended_before_the_table_could_listen(page, owner):
    video = make_row(owner, "quick probe", status="uploaded")
    job = video.start_probe(enqueue=False)
    log_in(page, owner)
    end_before_the_live_connection(page, lambda: job.fail("Not a video: the file's content is not a video."))
    page.goto("/videos/")
    row = page.locator(f'#video-table tr[data-video-id="{video.pk}"]')
    row.filter(has_text="Not a video").wait_for()
    assert page.evaluate("document.querySelectorAll('#video-table [data-probe-job]').length") == 0
