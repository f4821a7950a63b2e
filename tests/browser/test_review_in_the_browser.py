"""Review mode in Chromium, driven by the keyboard (and one edge dragged with the mouse): the help overlay,
next/previous, split at the playhead, relabel, merge, undo, then save; the run keeps the corrections beside
the machine's segments and its exports use them."""

import pytest

from tests.browser.test_datasets_in_the_browser import log_in, seek_player
from tests.report_fixtures import scored_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#segment-table tbody tr"
EDGE_POINT = """(t) => {
  const el = document.getElementById("timeline");
  const box = el.querySelector(".nsewdrag").getBoundingClientRect();
  return { x: box.left + el._fullLayout.xaxis.l2p(t), y: box.top + box.height / 2 };
}"""
PLAYHEAD = """() => (document.getElementById("timeline").layout.shapes || [])
  .filter((s) => s.name === "playhead").map((s) => s.x0)"""


def rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(ROWS, "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")


def wait_rows(page, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('{ROWS}').length === {count}")


def test_a_review_with_the_keyboard_is_saved_and_used_by_the_exports(page, owner, tmp_path):
    run = scored_run(owner, tmp_path, name="match.webm")  # VP8: Chromium plays it, so the player can seek
    machine = [(s.start_s, s.end_s, s.label) for s in run.segments.all()]
    assert [label for *_, label in machine] == ["in", "out", "in"]
    log_in(page, owner)
    page.goto(f"/runs/{run.pk}/report/")
    page.wait_for_selector("#review-start:not([disabled])")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    assert page.locator("#player-error").is_hidden()  # VP8 in WebM plays: no notice
    assert not page.is_visible("[data-review-controls]")  # editing buttons only once review mode is on
    page.click("#review-start")
    assert page.is_visible("[data-review-controls]")

    page.keyboard.press("?")
    assert page.is_visible("#review-help") and "split the segment" in page.inner_text("#review-help")
    page.keyboard.press("Escape")
    assert not page.is_visible("#review-help")

    page.keyboard.press("n")  # the out segment: selected, and the player jumps to its start
    page.wait_for_function(f"document.querySelector('{ROWS}.selected').sectionRowIndex === 1")
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(
        machine[1][0], abs=0.05
    )
    page.wait_for_function(f"({PLAYHEAD})()[0] > 3")  # the playhead follows the player on the chart

    seek_player(page, 9.0)
    page.keyboard.press("Alt+s")  # split exactly at the playhead (Alt: no snapping to a shot cut)
    wait_rows(page, 4)
    page.keyboard.press("o")  # the second half (selected after a split) is an advert too
    page.wait_for_function(f"document.querySelectorAll('{ROWS}')[3].cells[4].textContent.startsWith('out')")
    page.keyboard.press("p")
    page.keyboard.press("m")  # merge segment 3 with 4: back to three rows
    wait_rows(page, 3)
    page.keyboard.press("u")  # undo the merge
    wait_rows(page, 4)
    assert [r[4].split(" ")[0] for r in rows(page)] == ["in", "out", "in", "out"]

    # drag the first edge (machine's in -> out boundary) to 3.0 s, placed freely with Alt held
    page.locator("#timeline").scroll_into_view_if_needed()
    start = page.evaluate(EDGE_POINT, machine[0][1])
    target = page.evaluate(EDGE_POINT, 3.0)
    page.mouse.move(start["x"], start["y"])
    page.keyboard.down("Alt")
    page.mouse.down()
    page.mouse.move(target["x"], target["y"], steps=5)
    page.mouse.up()
    page.keyboard.up("Alt")
    page.wait_for_function(f"document.querySelectorAll('{ROWS}')[0].cells[2].textContent < '00:00:03.100'")
    first_end = rows(page)[0][2]
    assert abs(float(first_end[-6:]) - 3.0) < 0.05, first_end  # within a pixel of where the mouse let go

    page.click('[data-review-action="save"]')
    page.wait_for_selector("text=every export and render now uses your review")
    run.refresh_from_db()
    reviewed = [(s["start_s"], s["end_s"], s["label"]) for s in run.reviewed_segments]
    (_, break_end, _), (match_start, end, _) = machine[1:]
    cut = reviewed[0][1]
    assert reviewed == [
        (0.0, cut, "in"),
        (cut, break_end, "out"),
        (match_start, 9.0, "in"),
        (9.0, end, "out"),
    ]
    assert [(s.start_s, s.end_s, s.label) for s in run.segments.all()] == machine  # kept beside
    kodi = page.evaluate(f"fetch('/runs/{run.pk}/segments.kodi').then((r) => r.text())")
    assert kodi.splitlines() == [f"{cut:.3f}\t{break_end:.3f}\t3", f"9.000\t{end:.3f}\t3"]
