"""Browser tests: Daphne serving the app on the test database, a real worker, and Debian's Chromium.

Without /usr/bin/chromium the tests are skipped with the reason, unless OFFSIDE_REQUIRE_BROWSER=1 (then they
fail). Playwright's sync API cannot run inside an asyncio loop, so browser tests are plain sync functions.
"""

import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_CHUNK_BYTES = 64 * 1024


@pytest.fixture(autouse=True)
def isolated_media_root(settings, live_media_root):
    """Share one media folder with the Daphne and worker processes."""
    settings.MEDIA_ROOT = live_media_root


def off_the_page_thread(change) -> None:
    """Run a job change as a worker would: on a thread of its own (Playwright's loop owns this one, and
    publishing an event needs one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(change).result()


def finish_before_the_live_connection(page, job, work) -> None:
    """Make ``job`` end (``work(job, report)`` as the worker runs it, then succeeded) after the next page is
    drawn but before its live connection opens: the only message about it is that connection's snapshot."""
    from tests.report_fixtures import ignore_progress

    end_before_the_live_connection(page, lambda: job.succeed(work(job, ignore_progress)))


def end_before_the_live_connection(page, end) -> None:
    """Run ``end()`` (a job's ending) after the next page is drawn but before its scripts open a live
    connection: no live event about it can reach the page."""

    def held_back(route, request):
        off_the_page_thread(end)
        route.continue_()

    page.route("**/js/jobs*.js", held_back)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker, live_media_root, tmp_path_factory):
    from tests import live

    port = free_port()
    log_path = tmp_path_factory.mktemp("daphne") / "daphne.log"
    # Small upload chunks, so a test file of a few hundred KB crosses several chunks (resume tests).
    previous = os.environ.get("UPLOAD_CHUNK_BYTES")
    os.environ["UPLOAD_CHUNK_BYTES"] = str(BROWSER_CHUNK_BYTES)
    try:
        with django_db_blocker.unblock():
            process = live.start_daphne(log_path, live_media_root, port)
    finally:
        if previous is None:
            os.environ.pop("UPLOAD_CHUNK_BYTES", None)
        else:
            os.environ["UPLOAD_CHUNK_BYTES"] = previous
    yield f"http://127.0.0.1:{port}"
    live.stop_process(process)


@pytest.fixture(scope="module")
def chromium():
    """Chromium for one test module; module scope ends Playwright's loop before other suites run."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
        if os.environ.get("OFFSIDE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (OFFSIDE_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread; Django would then refuse ORM calls made by
    # the test between browser steps. They never run concurrently with the loop, so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium, live_server_url):
    context = chromium.new_context(base_url=live_server_url, accept_downloads=False)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
