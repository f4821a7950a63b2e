"""A user's first hour, in Chromium: log in, upload a video, wait for it to be ready, make a category and
add a time range picked on the player as a reference clip."""

import base64
import hashlib
import re

import pytest
from django.template.defaultfilters import filesizeformat

from tests.browser.conftest import BROWSER_CHUNK_BYTES
from tests.conftest import PASSWORD
from tests.integration.helpers import STATE_WAIT_MS
from tests.synthetic import write_not_a_video, write_video
from webapp.models import Category, ReferenceClip, Upload, Video

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def log_in(page, user) -> None:
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def seek_player(page, t_s: float) -> None:
    page.evaluate(
        """(t) => new Promise((resolve) => {
            const player = document.getElementById("player");
            player.addEventListener("seeked", () => resolve(), { once: true });
            player.currentTime = t;
        })""",
        t_s,
    )


def test_upload_then_categorise_a_time_range(worker, page, owner, tmp_path):
    clip_file = tmp_path / "derby-highlights.webm"
    write_video(clip_file, [("field", 2.0), ("studio", 2.0)], fps=10, size=(160, 96), codec="VP80")
    junk = tmp_path / "notes.mp4"
    write_not_a_video(junk)
    log_in(page, owner)

    page.goto("/videos/upload/")
    page.set_input_files("#file-input", [str(clip_file), str(junk)])
    good_row = page.locator(".upload-item", has_text="derby-highlights.webm")
    bad_row = page.locator(".upload-item", has_text="notes.mp4")
    good_row.locator('[data-role="state"]', has_text="ready").wait_for(timeout=STATE_WAIT_MS)
    bad_row.locator('[data-role="state"]', has_text="failed").wait_for(timeout=STATE_WAIT_MS)
    assert "Not a video" in bad_row.inner_text()
    # Sizes read as the video list writes them (Django's filesizeformat), not "36 B" beside "36 bytes".
    for row, path in ((good_row, clip_file), (bad_row, junk)):
        assert row.locator(".upload-size").text_content() == filesizeformat(path.stat().st_size)
    # The script's own formatting, on the sizes where rounding differs (exact ties go to the even digit).
    sizes = [0, 1, 760, 1023, 1024, 1280, 2304, 3328, 1310720, 1342177280, 6602646, 5 * 1024**4]
    written = page.evaluate("(sizes) => sizes.map((n) => window.offsideFormatBytes(n))", sizes)
    assert written == [filesizeformat(n) for n in sizes]
    assert page.evaluate("window.offsideFormatBytes(523.4567)") == filesizeformat(523)  # a speed in bytes/s
    video = Video.objects.get(title="derby-highlights")
    assert video.status == "ready" and video.frame_count == 40

    page.goto("/categories/")
    page.fill("#id_name", "Soccer")
    page.fill("#id_description", "Green pitch, players, lines")
    page.click("#create-category")
    page.wait_for_url("**/categories/*/")
    assert "Soccer" in page.inner_text("h1")

    page.goto(f"/videos/{video.pk}/")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.select_option("#id_category", label="Soccer")
    seek_player(page, 0.5)
    page.click("text=Set start from current time")
    seek_player(page, 1.8)
    page.keyboard.press("o")  # the out-point key does what "Set end from current time" does
    assert float(page.input_value("#id_start_s")) == pytest.approx(0.5, abs=0.11)
    assert float(page.input_value("#id_end_s")) == pytest.approx(1.8, abs=0.11)
    assert "selected" in page.inner_text("#range-preview")
    page.click("#add-clip")
    page.wait_for_selector("text=as a reference clip")

    clip = ReferenceClip.objects.get()
    assert clip.category == Category.objects.get(name="Soccer") and clip.video == video
    assert clip.start_s == pytest.approx(0.5, abs=0.11) and clip.end_s == pytest.approx(1.8, abs=0.11)
    assert not clip.is_negative
    page.goto(f"/categories/{clip.category.pk}/")
    assert "derby-highlights" in page.inner_text("#clips")

    # The frame browser's pictures come from the preview store the worker wrote while probing the upload.
    page.goto(f"/categories/{clip.category.pk}/frames/")
    pictures = page.locator(".frame-grid img")
    assert pictures.count() == 7 and page.locator("[data-frame-pending]").count() == 0  # 0.5-1.8 s at 5 fps
    loaded = "Array.from(document.querySelectorAll('.frame-grid img')).every((i) => i.naturalWidth > 0)"
    page.wait_for_function(loaded)


def test_an_upload_survives_a_dropped_connection_and_a_page_reload(worker, page, owner, tmp_path):
    movie = tmp_path / "long-take.webm"
    write_video(movie, [("noise", 2.0), ("field", 1.0)], fps=10, size=(320, 192), codec="VP80")
    data = movie.read_bytes()
    assert len(data) > 3 * BROWSER_CHUNK_BYTES
    log_in(page, owner)
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page with an upload running?"

    network = {"down": False, "offsets": []}

    def chunks(route, request):
        if request.method == "PATCH":
            network["offsets"].append(int(request.headers["upload-offset"]))
            if network["down"] or len(network["offsets"]) > 1:
                network["down"] = True
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/uploads/*/", chunks)
    page.goto("/videos/upload/")
    page.set_input_files("#file-input", str(movie))
    row = page.locator(".upload-item", has_text="long-take.webm")
    row.locator('[data-role="state"]', has_text="retrying").wait_for()
    assert "Connection problem" in row.inner_text()

    network["down"] = False
    network["offsets"].clear()
    page.unroute("**/uploads/*/")
    page.route("**/uploads/*/", _recorder(network))
    page.reload()
    assert "long-take.webm" in page.inner_text("#unfinished-uploads")
    page.set_input_files("#file-input", str(movie))
    row = page.locator(".upload-item", has_text="long-take.webm")
    row.locator('[data-role="state"]', has_text="ready").wait_for(timeout=STATE_WAIT_MS)
    assert network["offsets"][0] == BROWSER_CHUNK_BYTES  # resumed where the server stopped, not restarted
    video = Video.objects.get(title="long-take")
    assert video.sha256 == hashlib.sha256(data).hexdigest() and video.size_bytes == len(data)


def test_another_browser_resumes_an_unfinished_upload_instead_of_restarting(
    chromium, live_server_url, page, owner, tmp_path
):
    movie = tmp_path / "away-game.webm"
    write_video(movie, [("noise", 2.0), ("field", 1.0)], fps=10, size=(320, 192), codec="VP80")
    data = movie.read_bytes()
    log_in(page, owner)
    page.on("dialog", lambda dialog: dialog.accept())
    network = {"offsets": []}

    def first_chunk_only(route, request):
        if request.method == "PATCH" and network["offsets"]:
            route.abort("connectionreset")
            return
        if request.method == "PATCH":
            network["offsets"].append(int(request.headers["upload-offset"]))
        route.continue_()

    page.route("**/uploads/*/", first_chunk_only)
    page.goto("/videos/upload/")
    page.set_input_files("#file-input", str(movie))
    page.locator(".upload-item", has_text="away-game.webm").locator(
        '[data-role="state"]', has_text="retrying"
    ).wait_for()

    other = chromium.new_context(base_url=live_server_url)  # another browser: its own, empty localStorage
    try:
        laptop = other.new_page()
        log_in(laptop, owner)
        seen = {"offsets": []}
        laptop.route("**/uploads/*/", _recorder(seen))
        laptop.goto("/videos/upload/")
        assert laptop.locator("#unfinished-uploads tr[data-upload-id]").count() == 1
        laptop.set_input_files("#file-input", str(movie))
        row = laptop.locator(".upload-item", has_text="away-game.webm")
        # a worker left running by an earlier test may probe the tiny file before "processing" is drawn
        row.locator('[data-role="state"]', has_text=re.compile("processing|ready")).wait_for(timeout=60_000)
        assert seen["offsets"][0] == BROWSER_CHUNK_BYTES  # went on from the first browser's bytes
        assert laptop.locator("#unfinished-uploads tr[data-upload-id]").count() == 0  # no stale row left
    finally:
        other.close()
    # the first browser, still retrying, learns the upload was finished elsewhere instead of starting over
    page.locator(".upload-item", has_text="away-game.webm").locator(
        '[data-role="state"]', has_text=re.compile("processing|ready")
    ).wait_for(timeout=60_000)
    video = Video.objects.get(title="away-game")
    assert video.sha256 == hashlib.sha256(data).hexdigest()
    assert Upload.objects.filter(owner=owner).count() == 1


def _recorder(network):
    def record(route, request):
        if request.method == "PATCH":
            network["offsets"].append(int(request.headers["upload-offset"]))
        route.continue_()

    return record


def test_files_dropped_on_the_drop_zone_are_uploaded(worker, page, owner, tmp_path):
    movie = tmp_path / "dropped.webm"
    write_video(movie, [("studio", 1.0)], fps=10, codec="VP80")
    log_in(page, owner)
    page.goto("/videos/upload/")
    page.evaluate(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "video/webm" }));
            const zone = document.getElementById("dropzone");
            const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent("dragover", options));
            zone.dispatchEvent(new DragEvent("drop", options));
        }""",
        [movie.name, base64.b64encode(movie.read_bytes()).decode()],
    )
    row = page.locator(".upload-item", has_text="dropped.webm")
    row.locator('[data-role="state"]', has_text="ready").wait_for(timeout=STATE_WAIT_MS)
    row.locator("text=Open video").click()
    page.wait_for_url("**/videos/*/")
    assert Video.objects.get(title="dropped").status == "ready"
    assert "ready" in page.inner_text("#video-status")
