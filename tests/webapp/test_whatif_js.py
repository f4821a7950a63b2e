"""The report's what-if control (static/js/whatif.js, run under node) decides the same frames and segments as
the server's scoring.segments.decide_segments for the same scores and parameters."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from scoring.segments import TemporalParams, decide_segments

WHATIF_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "whatif.js"
RUNNER = """
const api = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const results = cases.map((c) => {
    const r = api.decideSegments(Float64Array.from(c.scores), Float64Array.from(c.times), c.params, c.cuts);
    return { decisions: Array.from(r.decisions), segments: r.segments };
  });
  process.stdout.write(JSON.stringify(results));
});
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_js(cases: list[dict]) -> list[dict]:
    done = subprocess.run(
        ["node", "-e", RUNNER, str(WHATIF_JS)], input=json.dumps(cases), capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def synthetic_scores(seed: int, n: int = 3000, fps: float = 5.0, jitter: bool = False):
    """A match (scores near 0.6) with advert breaks (near 1.6), noise and one-frame glitches."""
    rng = np.random.default_rng(seed)
    times = np.arange(n) / fps
    if jitter:  # variable frame rate and dropped frames
        times = np.cumsum(rng.uniform(0.5, 1.5, n) / fps)
    scores = 0.6 + 0.25 * rng.standard_normal(n)
    for start in rng.integers(0, n - 200, 6):
        scores[start : start + rng.integers(5, 150)] += 1.0
    scores[rng.integers(0, n, 20)] = 9.0
    return times, np.abs(scores)


PARAMS = [
    TemporalParams(),
    TemporalParams(window_s=0.0, low=1.0, high=1.0, min_segment_s=0.0, snap_to_cuts_s=0.0),
    TemporalParams(window_s=3.0, low=0.7, high=1.3, min_segment_s=10.0, snap_to_cuts_s=0.0),
    TemporalParams(window_s=2.2, low=0.85, high=1.1, min_segment_s=4.0, snap_to_cuts_s=1.5),
    TemporalParams(window_s=0.4, low=0.95, high=0.95, min_segment_s=0.5, snap_to_cuts_s=0.6),
]


@pytest.mark.parametrize("jitter", [False, True])
def test_what_if_matches_the_server_segments_for_the_same_parameters(jitter):
    cases, expected = [], []
    for seed, params in enumerate(PARAMS):
        times, scores = synthetic_scores(seed, jitter=jitter)
        cuts = np.sort(np.random.default_rng(100 + seed).uniform(0, times[-1], 25))
        decisions, segments = decide_segments(scores, times, params, cuts)
        cases.append({
            "scores": scores.tolist(), "times": times.tolist(), "cuts": cuts.tolist(),
            "params": vars_of(params),
        })  # fmt: skip
        expected.append((decisions, segments))
    for (decisions, segments), got in zip(expected, run_js(cases), strict=True):
        assert got["decisions"] == decisions.astype(int).tolist()
        assert len(got["segments"]) == len(segments) > 1
        for js, py in zip(got["segments"], segments, strict=True):
            assert (js["start_s"], js["end_s"], js["label"]) == (py.start_s, py.end_s, py.label)
            assert js["mean_score"] == pytest.approx(py.mean_score, rel=1e-12)


def test_what_if_handles_all_in_and_empty_videos():
    times = np.arange(50) / 5.0
    cases = [
        {"scores": [0.2] * 50, "times": times.tolist(), "cuts": None, "params": vars_of(TemporalParams())},
        {"scores": [], "times": [], "cuts": None, "params": vars_of(TemporalParams())},
    ]
    all_in, empty = run_js(cases)
    assert [s["label"] for s in all_in["segments"]] == ["in"] and all_in["segments"][0]["end_s"] == 10.0
    assert empty["segments"] == []


def vars_of(params: TemporalParams) -> dict:
    return {k: getattr(params, k) for k in ("window_s", "low", "high", "min_segment_s", "snap_to_cuts_s")}
