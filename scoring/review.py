"""Reviewed segments: a person's corrections of the machine's segments, and the edits that make them.

A review is a list of ``ReviewedSegment`` that tiles the scored span without gaps or overlaps, in time order.
The edits themselves (split, merge, drag an edge, relabel, undo, snapping to shot cuts) happen in the browser
(static/js/review.js, tested under node); here the server checks what it is sent (``check_tiling``) and
gives each segment the machine's mean score over its span (``with_mean_scores``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from scoring.segments import TimecodedSpan

LABELS = ("in", "out")


class ReviewError(ValueError):
    """An edit or a submitted review that would not tile the video; the message says why, for people."""


@dataclass(frozen=True)
class ReviewedSegment(TimecodedSpan):
    """``start_s`` .. ``end_s`` (seconds, end exclusive) labelled "in" or "out"; ``category`` names the
    category an "in" segment shows (or what an "out" one is, e.g. "advert"); ``mean_score`` is the machine's
    mean normalised score over the span (NaN-free, 0 when no frame falls inside)."""

    start_s: float
    end_s: float
    label: str
    category: str = ""
    mean_score: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, segment) -> ReviewedSegment:
        """From anything with ``start_s``, ``end_s``, ``label`` (``category``, ``mean_score`` optional)."""
        return cls(
            float(segment.start_s),
            float(segment.end_s),
            str(segment.label),
            str(getattr(segment, "category", "") or ""),
            float(getattr(segment, "mean_score", 0.0) or 0.0),
        )


def from_dicts(rows: Iterable[dict]) -> list[ReviewedSegment]:
    """Segments from JSON objects; ReviewError for missing, malformed or non-finite fields."""
    if not isinstance(rows, list | tuple):
        raise ReviewError("send the segments as a list")
    return [_from_dict(row) for row in rows]


def _from_dict(row: dict) -> ReviewedSegment:
    try:
        category = str(row.get("category") or "")[:100]
        segment = ReviewedSegment(
            float(row["start_s"]), float(row["end_s"]), str(row["label"]), category,
            float(row.get("mean_score") or 0.0),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReviewError(f"each segment needs start_s, end_s and label: {exc}") from exc
    if not all(math.isfinite(v) for v in (segment.start_s, segment.end_s, segment.mean_score)):
        raise ReviewError("segment times must be finite numbers")
    return segment


def check_tiling(
    segments: Sequence[ReviewedSegment], start_s: float, end_s: float, tolerance_s: float
) -> None:
    """ReviewError unless ``segments`` cover ``start_s``..``end_s`` back to back (within ``tolerance_s``),
    each at least ``tolerance_s`` long and labelled "in" or "out"."""
    if not segments:
        raise ReviewError("a review needs at least one segment")
    if abs(segments[0].start_s - start_s) > tolerance_s or abs(segments[-1].end_s - end_s) > tolerance_s:
        raise ReviewError(f"the segments must run from {start_s:.3f} s to {end_s:.3f} s")
    for k, segment in enumerate(segments):
        if segment.label not in LABELS:
            raise ReviewError(f"segment {k + 1}: label must be 'in' or 'out', not {segment.label!r}")
        if segment.end_s - segment.start_s < tolerance_s:
            raise ReviewError(f"segment {k + 1} is shorter than a frame")
        if k and abs(segment.start_s - segments[k - 1].end_s) > tolerance_s:
            raise ReviewError(f"segment {k + 1} does not start where segment {k} ends")


def learning_ranges(
    segments: Iterable, category: str, negatives: bool = True
) -> list[tuple[ReviewedSegment, bool]]:
    """(segment, is_negative) for each of a run's final ``segments`` that learning turns into a clip of
    ``category``: "in" segments that show it (named so, or unnamed) become reference clips, and with
    ``negatives`` "out" segments become negative clips; "in" segments of another category are left out."""
    chosen = []
    for segment in map(ReviewedSegment.of, segments):
        if segment.label == "in" and segment.category in ("", category):
            chosen.append((segment, False))
        elif segment.label == "out" and negatives:
            chosen.append((segment, True))
    return chosen


def with_mean_scores(
    segments: Sequence[ReviewedSegment], timestamps_s: np.ndarray, best_scores: np.ndarray
) -> list[ReviewedSegment]:
    """Each segment with ``mean_score`` = mean of ``best_scores`` (N,) over the frames whose ``timestamps_s``
    (N,) fall in [start_s, end_s); 0.0 for a segment no frame falls in."""
    times = np.asarray(timestamps_s, dtype=np.float64)
    scores = np.asarray(best_scores, dtype=np.float64)
    result = []
    for segment in segments:
        lo, hi = np.searchsorted(times, [segment.start_s, segment.end_s], side="left")
        mean = float(np.mean(scores[lo:hi])) if hi > lo else 0.0
        result.append(replace(segment, mean_score=round(mean, 6)))
    return result
