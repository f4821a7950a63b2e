"""The video report in Chromium: the timeline draws, a click on it shows the frame, its reconstruction and its
error heatmap and seeks the player, the what-if control re-decides the segments in the page, and an
occlusion map runs as a job on the real worker and appears when done."""

import shutil

import pytest

from tests.browser.conftest import finish_before_the_live_connection, off_the_page_thread
from tests.browser.test_datasets_in_the_browser import log_in
from tests.report_fixtures import scored_run, trained_model
from tests.training_fixtures import ready_video
from webapp.models import Job, ScoringRun

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CLICK_POINT = """(t) => {
  const el = document.getElementById("timeline");
  const layout = el._fullLayout;
  const trace = el._fullData[0];
  const xs = Array.from(trace.x), ys = Array.from(trace.y);
  let best = 0;
  xs.forEach((x, i) => { if (Math.abs(x - t) < Math.abs(xs[best] - t)) best = i; });
  const box = el.querySelector(".nsewdrag").getBoundingClientRect();
  return { x: box.left + layout.xaxis.l2p(xs[best]), y: box.top + layout.yaxis.l2p(ys[best]) };
}"""


IMAGE_LOADED = """(selector) => {
  const img = document.querySelector(selector);
  return img && !img.hidden && img.complete && img.naturalWidth > 0;
}"""


CURSOR_DRAWN = "(document.getElementById('timeline').layout.shapes || []).some((s) => s.name === 'cursor')"


def image_loaded(page, selector: str) -> None:
    page.wait_for_function(IMAGE_LOADED, arg=selector)


def test_a_run_page_opened_before_its_job_finished_shows_the_report_once_it_has(page, owner, tmp_path):
    from workers.score_runs import score_video_work

    model = trained_model(owner, tmp_path)
    clip = ready_video(owner, tmp_path, "quick.mp4", [("field", 2.0), ("studio", 1.0)])
    run = ScoringRun.start(clip, [model], owner, {}, fps=5.0, enqueue=False)
    log_in(page, owner)
    finish_before_the_live_connection(page, run.job, score_video_work)  # drawn queued, then finished
    page.goto(f"/runs/{run.pk}/")
    page.locator("#report-link").wait_for()  # the page reloaded itself with the finished run
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_click_on_the_timeline_shows_the_frame_and_its_heatmap(worker, page, owner, tmp_path):
    run = scored_run(owner, tmp_path)
    log_in(page, owner)
    page.goto(f"/runs/{run.pk}/")
    page.click("#report-link")
    page.wait_for_url(f"**/runs/{run.pk}/report/")
    page.wait_for_selector("#timeline[data-rendered] .scatterlayer .trace")
    assert page.locator("#timeline .shapelayer path").count() >= 2  # threshold line + shaded out segment

    point = page.evaluate(CLICK_POINT, 5.0)  # inside the studio break
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#frame-panel:not([hidden])")
    for selector in ("#frame-original", "#frame-recon", "#frame-heatmap"):
        image_loaded(page, selector)
    assert "error.png" in page.get_attribute("#frame-heatmap", "src")
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(5.0, abs=0.3)

    # zooming redraws the visible range from the full arrays the page fetched; first let the click's own
    # relayout (the cursor line) finish, so the two layout changes cannot interleave
    page.wait_for_selector("#whatif input[name=high]:not([disabled])")
    page.wait_for_function(CURSOR_DRAWN)
    page.evaluate("Plotly.relayout('timeline', {'xaxis.range': [4.0, 6.0]})")
    page.wait_for_function("Math.min(...document.getElementById('timeline')._fullData[0].x) >= 3.7")
    shown = page.evaluate("Array.from(document.getElementById('timeline')._fullData[0].x)")
    assert shown == pytest.approx([3.8 + 0.2 * i for i in range(13)])  # the range, plus one frame each side

    # what-if: nothing is out once the threshold is far above every score
    page.fill("#whatif input[name=high]", "100")
    page.fill("#whatif input[name=low]", "100")
    page.wait_for_function("document.querySelectorAll('#segment-table tbody tr').length === 1")
    assert page.inner_text('[data-summary="out-segments"]') == "0"
    assert "high=100" in page.get_attribute("a[data-export]", "href")

    page.click("#occlusion-button")
    image_loaded(page, "#frame-occlusion")
    job = Job.objects.get(kind=Job.Kind.HEATMAP, params__run_id=run.pk)
    assert job.status == "succeeded" and job.progress == 1.0


def test_a_report_whose_video_has_no_previews_shows_the_pictures_once_the_worker_made_them(
    worker, page, owner, tmp_path
):
    run = scored_run(owner, tmp_path)
    shutil.rmtree(run.video.previews_directory)  # a video probed before the preview store existed
    log_in(page, owner)
    page.goto(f"/runs/{run.pk}/report/")
    page.wait_for_selector("#timeline[data-rendered] .scatterlayer .trace")
    point = page.evaluate(CLICK_POINT, 2.0)
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("#frame-panel:not([hidden])")
    for selector in ("#frame-original", "#frame-recon", "#frame-heatmap"):
        image_loaded(page, selector)  # after the page followed the previews job to its end
    assert page.locator("#frame-previews-note").is_hidden()
    job = Job.objects.get(kind=Job.Kind.PREVIEWS, video=run.video)
    assert job.status == "succeeded" and run.video.previews_directory.is_dir()


def test_the_report_lists_renders_whose_status_follows_the_job_live(page, owner, tmp_path):
    run = scored_run(owner, tmp_path)
    render = Job.start(Job.Kind.RENDER, owner, title="Render", params={"run_id": run.pk}, enqueue=False)
    log_in(page, owner)
    page.goto(f"/runs/{run.pk}/report/")
    status = page.locator(f'[data-job-status-of="{render.pk}"]')
    assert status.inner_text() == "queued"
    page.locator("#player-error").wait_for()  # MPEG-4 Part 2: Chromium cannot play it, the page says so
    page.locator("[data-live-indicator]", has_text="connected").wait_for()

    off_the_page_thread(lambda: render.claim() and render.publish())
    status.filter(has_text="running").wait_for()
    assert page.locator(f'[data-show-when-succeeded="{render.pk}"]').is_hidden()
    off_the_page_thread(lambda: render.succeed({"url": f"/runs/{run.pk}/renders/{render.pk}.mp4"}))
    status.filter(has_text="succeeded").wait_for()
    assert page.locator(f'[data-show-when-succeeded="{render.pk}"]').is_visible()
