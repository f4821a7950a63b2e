"""Reviewed segments: a person's corrections of the machine's segments, and the edits that make them.

Pure Python. A review is a list of ``ReviewedSegment`` that tiles the scored span without gaps or overlaps,
in time order. Every edit returns a new list (the old one is the undo step) and raises ``ReviewError`` when
it would break the tiling, so the browser's mirror of these rules (static/js/review.js) and the server agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

LABELS = ("in", "out")


class ReviewError(ValueError):
    """An edit or a submitted review that would not tile the video; the message says why, for people."""


@dataclass(frozen=True)
class ReviewedSegment:
    """``start_s`` .. ``end_s`` (seconds, end exclusive) labelled "in" or "out"; ``category`` names the
    category an "in" segment shows (or what an "out" one is, e.g. "advert"); ``mean_score`` is the machine's
    mean normalised score over the span (NaN-free, 0 when no frame falls inside)."""

    start_s: float
    end_s: float
    label: str
    category: str = ""
    mean_score: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

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
