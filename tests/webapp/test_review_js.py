"""Review mode's edits (static/js/review.js, run under node): split, merge, drag an edge, relabel and undo,
snapping to shot cuts within a second unless placed freely; what they produce passes the server's check."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from scoring.review import ReviewError, check_tiling, from_dicts

REVIEW_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "review.js"
# Runs a list of steps ["method", ...args] on a Review and reports the segments (or the error) after each.
RUNNER = """
const { Review, ReviewError } = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const { segments, options, steps } = JSON.parse(input);
  const review = new Review(segments, options);
  const after = steps.map(([method, ...args]) => {
    try {
      const value = review[method](...args);
      const { selected, dirty } = review;
      return { value: value === undefined ? null : value, segments: review.toJSON(), selected, dirty };
    } catch (error) {
      if (!(error instanceof ReviewError)) throw error;
      return { error: error.message, segments: review.toJSON() };
    }
  });
  process.stdout.write(JSON.stringify(after));
});
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

MACHINE = [
    {"start_s": 0.0, "end_s": 10.0, "label": "in", "category": "soccer", "mean_score": 0.5},
    {"start_s": 10.0, "end_s": 20.0, "label": "out", "category": "unknown", "mean_score": 1.6},
    {"start_s": 20.0, "end_s": 30.0, "label": "in", "category": "soccer", "mean_score": 0.6},
]
OPTIONS = {"cuts": [4.6, 12.0, 25.5], "minS": 0.2, "categories": ["soccer", "tennis"]}


def run(*steps, segments=MACHINE, options=OPTIONS) -> list[dict]:
    payload = json.dumps({"segments": segments, "options": options, "steps": steps})
    done = subprocess.run(
        ["node", "-e", RUNNER, str(REVIEW_JS)], input=payload, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def spans(state: dict) -> list[tuple[float, float, str]]:
    return [(s["start_s"], s["end_s"], s["label"]) for s in state["segments"]]


def test_split_snaps_to_a_cut_within_a_second_unless_placed_freely():
    snapped, free = run(["split", 5.0], ["split", 7.0, True])
    assert spans(snapped) == [(0, 4.6, "in"), (4.6, 10, "in"), (10, 20, "out"), (20, 30, "in")]
    assert snapped["selected"] == 1 and snapped["dirty"]
    assert spans(free)[1:3] == [(4.6, 7.0, "in"), (7.0, 10, "in")]  # 7.0 is 2.4 s from any cut
    (edge,) = run(["split", 10.1])
    assert "Too close" in edge["error"] and len(edge["segments"]) == 3


def test_dragging_an_edge_moves_both_neighbours_and_stops_a_frame_short():
    moved, clamped, ends = run(["moveEnd", 0, 11.5], ["moveStart", 1, 25.0], ["moveStart", 0, 1.0])
    assert spans(moved)[:2] == [(0, 12.0, "in"), (12.0, 20, "out")]  # snapped to the cut at 12.0
    assert spans(clamped)[:2] == [(0, 19.8, "in"), (19.8, 20, "out")]  # one frame (0.2 s) of "out" left
    assert "stay put" in ends["error"]


def test_merge_relabel_category_and_undo_back_to_the_machines_segments():
    steps = run(
        ["relabel", 1, "in"], ["merge", 0], ["nextCategory", 0], ["nextCategory", 0], ["merge", 1],
        ["undo"], ["undo"], ["undo"], ["undo"], ["undo"],
    )  # fmt: skip
    relabelled, merged, tennis, soccer, _merged_all, *undone = steps
    assert relabelled["segments"][1]["label"] == "in" and relabelled["segments"][1]["category"] == ""
    assert spans(merged) == [(0, 20, "in"), (20, 30, "in")] and merged["segments"][0]["category"] == "soccer"
    assert tennis["segments"][0]["category"] == "tennis" and soccer["segments"][0]["category"] == "soccer"
    assert [u["value"] for u in undone] == [True, True, True, True, False]
    assert undone[-1]["segments"] == MACHINE and not undone[-1]["dirty"]


def test_next_previous_and_the_edge_under_the_pointer():
    steps = run(
        ["next"], ["next"], ["next"], ["previous"], ["boundaryNear", 10.3, 0.5], ["boundaryNear", 15, 0.5]
    )
    assert [s["selected"] for s in steps[:4]] == [1, 2, 2, 1]
    assert steps[4]["value"] == 1 and steps[5]["value"] == -1


def test_what_the_page_sends_passes_the_servers_check():
    final = run(["split", 5.0], ["relabel", 1, "out"], ["moveEnd", 2, 21.0, True], ["merge", 3])[-1]
    segments = from_dicts(final["segments"])
    check_tiling(segments, 0.0, 30.0, tolerance_s=0.02)
    assert [(s.start_s, s.end_s, s.label) for s in segments] == [
        (0.0, 4.6, "in"), (4.6, 10.0, "out"), (10.0, 21.0, "out"), (21.0, 30.0, "in"),
    ]  # fmt: skip
    with pytest.raises(ReviewError, match="does not start where"):
        check_tiling(from_dicts([MACHINE[0], MACHINE[2]]), 0.0, 30.0, tolerance_s=0.02)
