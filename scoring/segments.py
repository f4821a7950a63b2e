"""From per-frame scores to segments with timecodes: smoothing, hysteresis, minimum length, snapping to cuts.

Pure numpy. Scores are normalised (1.0 = the category's threshold; higher = less like the category) and a
decision of True means "out" (the frame does not belong to the category).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

_ROWS_PER_CHUNK = 8192  # rows of the (rows, window) matrix the median works on at once


class TimecodedSpan:
    """For anything with ``start_s`` and ``end_s`` (seconds): its duration and timecodes for people."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def start_tc(self) -> str:
        return format_timecode(self.start_s)

    @property
    def end_tc(self) -> str:
        return format_timecode(self.end_s)


@dataclass(frozen=True)
class Segment(TimecodedSpan):
    start_s: float
    end_s: float
    label: str
    mean_score: float

    def to_dict(self) -> dict:
        """The command line's JSON shape, plus timecodes for people."""
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "label": self.label,
            "mean_score": self.mean_score,
            "start_tc": format_timecode(self.start_s),
            "end_tc": format_timecode(self.end_s),
        }


@dataclass(frozen=True)
class TemporalParams:
    """Everything that turns frame scores into segments; the defaults are tuned by the quality benchmark."""

    window_s: float = 2.0  # centred rolling-median window (1 s until the nine-fold sweep, docs/BENCHMARKS.md)
    low: float = 0.9  # leave "out" only once the smoothed score drops to this
    high: float = 1.0  # enter "out" when the smoothed score rises above this
    min_segment_s: float = 2.0  # shorter runs are merged into their neighbours
    snap_to_cuts_s: float = 0.5  # move a boundary to a shot cut at most this far away (0 = never)
    # > 0: every shot (frames between two detected cuts) no longer than this takes its frames' median score
    # as a whole, so a shot is in or out as one piece and boundaries fall on cuts (0 = frame by frame)
    shot_max_s: float = 0.0

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if min(self.window_s, self.min_segment_s, self.snap_to_cuts_s, self.shot_max_s) < 0:
            raise ValueError("window_s, min_segment_s, snap_to_cuts_s and shot_max_s must be >= 0")


def format_timecode(seconds: float) -> str:
    """12.5 -> "00:00:12.500"; hours grow past 99 if needed."""
    if seconds < 0:
        raise ValueError(f"negative time {seconds}")
    total_ms = round(seconds * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def smooth_scores(scores: np.ndarray, timestamps_s: np.ndarray, window_s: float) -> np.ndarray:
    """Centred rolling median over all frames within ``window_s / 2`` seconds of each frame.

    A median rather than a mean: scores are unbounded above, so one glitched frame (a flash, a decoding
    artefact) with score 20 would drag a mean over the threshold for the whole window, while the median
    ignores it; and a median keeps a step (a real cut from match to advert) where it is instead of smearing
    it into a ramp. The window is in seconds and found per frame with ``searchsorted``, so irregular
    timestamps (variable frame rate, dropped frames) get the right neighbours. Near the ends the window is
    truncated to the frames that exist.
    """
    scores = np.asarray(scores, dtype=np.float64)
    times = np.asarray(timestamps_s, dtype=np.float64)
    if len(scores) != len(times):
        raise ValueError(f"{len(scores)} scores but {len(times)} timestamps")
    if window_s <= 0 or len(scores) < 2:
        return scores.copy()
    eps = 1e-9  # frames exactly half a window away count in
    lo = np.searchsorted(times, times - window_s / 2 - eps, side="left")  # (N,)
    hi = np.searchsorted(times, times + window_s / 2 + eps, side="right")  # (N,) exclusive
    out = np.empty_like(scores)
    for start in range(0, len(scores), _ROWS_PER_CHUNK):
        rows = slice(start, start + _ROWS_PER_CHUNK)
        out[rows] = _ragged_median(scores, lo[rows], hi[rows])
    return out


def _ragged_median(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Median of values[lo[i]:hi[i]] for each i, vectorised: pad with +inf, sort rows, pick the middles."""
    counts = hi - lo  # (R,) >= 1
    width = int(counts.max())
    idx = lo[:, None] + np.arange(width)[None, :]  # (R, width)
    windows = np.where(idx < hi[:, None], values[np.minimum(idx, len(values) - 1)], np.inf)
    windows.sort(axis=1)  # the +inf padding sorts to the end
    rows = np.arange(len(lo))
    return 0.5 * (windows[rows, (counts - 1) // 2] + windows[rows, counts // 2])


def shot_medians(
    scores: np.ndarray, timestamps_s: np.ndarray, cut_times_s: np.ndarray, max_shot_s: float
) -> np.ndarray:
    """(N,) each frame's score replaced by the median score of its shot, the frames from one cut (a cut time
    is the first frame of a new shot) to the next; shots longer than ``max_shot_s`` keep their own scores
    (a cut the detector missed would otherwise decide two pieces of footage as one)."""
    scores = np.asarray(scores, dtype=np.float64)
    times = np.asarray(timestamps_s, dtype=np.float64)
    out = scores.copy()
    if len(scores) == 0 or max_shot_s <= 0:
        return out
    shot = np.searchsorted(np.sort(np.asarray(cut_times_s, dtype=np.float64)), times, side="right")  # (N,)
    starts = np.flatnonzero(np.r_[True, shot[1:] != shot[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    interval = _frame_interval(times)
    for first, stop in zip(starts, ends, strict=True):
        if times[stop - 1] - times[first] + interval <= max_shot_s:
            out[first:stop] = np.median(scores[first:stop])
    return out


def temporal_scores(
    scores: np.ndarray, timestamps_s: np.ndarray, params: TemporalParams, cut_times_s: np.ndarray | None
) -> np.ndarray:
    """The scores the decisions threshold: rolling median, then (with ``shot_max_s`` and cuts) per-shot
    medians of it."""
    smoothed = smooth_scores(scores, timestamps_s, params.window_s)
    if cut_times_s is None or params.shot_max_s <= 0:
        return smoothed
    return shot_medians(smoothed, timestamps_s, cut_times_s, params.shot_max_s)


def hysteresis_decisions(scores: np.ndarray, high: float = 1.0, low: float = 0.9) -> np.ndarray:
    """(N,) bool, True = out. Enter "out" when a score exceeds ``high``, go back "in" when it is <= ``low``;
    in between, keep the previous state. Frames before the first decisive one take that frame's state (if no
    frame is decisive, all are compared with the midpoint)."""
    if low > high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")
    scores = np.asarray(scores, dtype=np.float64)
    state = np.full(len(scores), -1, dtype=np.int8)  # -1 undecided, 0 in, 1 out
    state[scores <= low] = 0
    state[scores > high] = 1
    decisive = np.flatnonzero(state >= 0)
    if len(decisive) == 0:
        return scores > (low + high) / 2
    # Forward fill: each frame takes the state of the last decisive frame at or before it.
    last = np.maximum.accumulate(np.where(state >= 0, np.arange(len(scores)), -1))
    last[last < 0] = decisive[0]
    return state[last] == 1


def _runs(decisions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices (R,) and values (R,) of the runs of equal decisions."""
    starts = np.flatnonzero(np.r_[True, decisions[1:] != decisions[:-1]])
    return starts, decisions[starts]


def _frame_interval(times: np.ndarray) -> float:
    return float(np.median(np.diff(times))) if len(times) > 1 else 0.0


def enforce_min_length(decisions: np.ndarray, timestamps_s: np.ndarray, min_segment_s: float) -> np.ndarray:
    """Flip runs shorter than ``min_segment_s`` (shortest first, earliest on ties) so they merge with their
    neighbours, until every run is long enough or only one is left. A run lasts from its first frame to the
    next run's first frame (the last one to one frame interval after its last frame)."""
    out = np.asarray(decisions, dtype=bool).copy()
    times = np.asarray(timestamps_s, dtype=np.float64)
    if len(out) == 0 or min_segment_s <= 0:
        return out
    starts, values = _runs(out)  # (R,), (R,)
    durations = np.diff(np.r_[times[starts], times[-1] + _frame_interval(times)])  # (R,)
    first_frames, values = _merge_short_runs(
        starts.tolist(), durations.tolist(), values.tolist(), min_segment_s
    )
    return np.repeat(np.asarray(values, dtype=bool), np.diff(np.r_[first_frames, len(out)]))


def _merge_short_runs(
    first: list[int], duration: list[float], value: list[bool], min_s: float
) -> tuple[list[int], list[bool]]:
    """Runs as a linked list plus a heap of (duration, run): O(R log R) even for thousands of noisy runs.

    Flipping run k joins it to both neighbours (in a binary sequence they hold the other value); the merged
    run keeps the left neighbour's slot (the right one's when k is first). Returns the surviving runs'
    first frames and values, in order.
    """
    n = len(first)
    prev, nxt = list(range(-1, n - 1)), [*range(1, n), -1]
    alive, left = [True] * n, n
    heap = [(d, k) for k, d in enumerate(duration)]
    heapq.heapify(heap)
    while heap and left > 1:
        d, k = heapq.heappop(heap)
        if not alive[k] or d != duration[k]:
            continue  # stale entry: the run was merged or grew since
        if d >= min_s:
            break
        p, q = prev[k], nxt[k]
        keep = p if p >= 0 else q
        span = [j for j in (p, k, q) if j >= 0]
        duration[keep] = sum(duration[j] for j in span)
        first[keep] = first[span[0]]
        for j in span:
            if j != keep:
                alive[j], left = False, left - 1
        after = nxt[span[-1]]
        prev[keep], nxt[keep] = prev[span[0]], after
        if after >= 0:
            prev[after] = keep
        heapq.heappush(heap, (duration[keep], keep))
    kept = [j for j in range(n) if alive[j]]
    return [first[j] for j in kept], [value[j] for j in kept]


def segments_from_decisions(
    decisions: np.ndarray,
    scores: np.ndarray,
    timestamps_s: np.ndarray,
    in_label: str = "in",
    out_label: str = "out",
    end_s: float | None = None,
) -> list[Segment]:
    """Contiguous segments covering the frames: each ends where the next starts, the last one frame interval
    after the last timestamp, or at ``end_s`` (where the video ends) if that is sooner. ``mean_score`` is the
    mean of ``scores`` over the segment's frames."""
    decisions = np.asarray(decisions, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    times = np.asarray(timestamps_s, dtype=np.float64)
    if not len(decisions) == len(scores) == len(times):
        raise ValueError("decisions, scores and timestamps must have the same length")
    if len(times) == 0:
        return []
    starts, values = _runs(decisions)
    ends = np.r_[starts[1:], len(times)]
    last_end_s = times[-1] + _frame_interval(times)
    if end_s is not None and times[-1] < end_s < last_end_s:
        last_end_s = end_s  # the last sample may sit a fraction of a frame before the video's end
    bounds = np.r_[times[starts], last_end_s]
    sums = np.add.reduceat(scores, starts)
    return [
        Segment(float(bounds[k]), float(bounds[k + 1]), out_label if values[k] else in_label,
                float(sums[k] / (ends[k] - starts[k])))
        for k in range(len(starts))
    ]  # fmt: skip


def snap_boundaries(segments: list[Segment], cut_times_s: np.ndarray, max_shift_s: float) -> list[Segment]:
    """Move each boundary between two segments to the nearest shot cut within ``max_shift_s``, as long as both
    segments keep a positive length. ``mean_score`` is kept (there are no scores here; ``decide_segments``
    recomputes it)."""
    cuts = np.sort(np.asarray(cut_times_s, dtype=np.float64))
    if len(segments) < 2 or len(cuts) == 0 or max_shift_s <= 0:
        return list(segments)
    bounds = [s.start_s for s in segments] + [segments[-1].end_s]
    for k in range(1, len(segments)):
        j = int(np.searchsorted(cuts, bounds[k]))
        near = [c for c in cuts[max(j - 1, 0) : j + 1] if abs(c - bounds[k]) <= max_shift_s]
        if not near:
            continue
        cut = min(near, key=lambda c: abs(c - bounds[k]))
        if bounds[k - 1] < cut < bounds[k + 1]:  # boundaries before k are already final
            bounds[k] = float(cut)
    return [Segment(bounds[k], bounds[k + 1], s.label, s.mean_score) for k, s in enumerate(segments)]


def _decisions_from_segments(segments: list[Segment], times: np.ndarray, out_label: str) -> np.ndarray:
    out = np.zeros(len(times), dtype=bool)
    for s in segments:
        if s.label == out_label:
            out[(times >= s.start_s) & (times < s.end_s)] = True
    return out


def decide_segments(
    scores: np.ndarray,
    timestamps_s: np.ndarray,
    params: TemporalParams | None = None,
    cut_times_s: np.ndarray | None = None,
    in_label: str = "in",
    out_label: str = "out",
    end_s: float | None = None,
) -> tuple[np.ndarray, list[Segment]]:
    """Smooth, hysteresis, minimum length, then (with cut times) snap to cuts. Returns the final per-frame
    decisions (N,) bool, True = out, and the segments they form; mean scores are over the raw ``scores``."""
    params = params or TemporalParams()
    times = np.asarray(timestamps_s, dtype=np.float64)
    smoothed = temporal_scores(scores, times, params, cut_times_s)
    decisions = hysteresis_decisions(smoothed, params.high, params.low)
    decisions = enforce_min_length(decisions, times, params.min_segment_s)
    segments = segments_from_decisions(decisions, scores, times, in_label, out_label, end_s)
    if cut_times_s is not None and params.snap_to_cuts_s > 0:
        snapped = snap_boundaries(segments, cut_times_s, params.snap_to_cuts_s)
        # Frames decide again from the moved boundaries so decisions and segments never disagree.
        decisions = _decisions_from_segments(snapped, times, out_label)
        segments = segments_from_decisions(decisions, scores, times, in_label, out_label, end_s)
    return decisions, segments
