"""Thresholds from held-out losses, and ROC / PR analysis when negative ("not this category") frames exist.

Plain numpy. Convention: a higher loss means "less like the category"; negatives are the positive class of
the detector (positive = out of category).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_PERCENTILE = 95.0  # chosen by benchmarks/quality.py (see docs/BENCHMARKS.md)
# "auto" (the F1-optimal threshold when negatives exist, else the percentile) is an option, not the default:
# the benchmark's F1 threshold flagged whole unseen soccer clips (docs/BENCHMARKS.md)
DEFAULT_METHOD = "percentile"
MAX_CURVE_POINTS = 200  # curves are stored in model JSON; keep them small


@dataclass(frozen=True)
class Curve:
    """A threshold sweep: ``x``/``y`` are FPR/TPR for ROC and recall/precision for PR."""

    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray

    def to_dict(self) -> dict[str, list[float]]:
        keep = _thin(len(self.x))
        return {
            "x": self.x[keep].tolist(),
            "y": self.y[keep].tolist(),
            "thresholds": self.thresholds[keep].tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> Curve:
        return cls(*(np.asarray(data[k], dtype=np.float64) for k in ("x", "y", "thresholds")))


@dataclass(frozen=True)
class Calibration:
    """The decision threshold of one category and how it was chosen."""

    threshold: float
    method: str  # "percentile" or "f1" (what "auto" resolved to)
    percentile: float
    held_out_losses: np.ndarray = field(repr=False)  # losses of in-category frames the model did not train on
    negative_losses: np.ndarray | None = field(default=None, repr=False)
    auroc: float | None = None
    f1_threshold: float | None = None
    best_f1: float | None = None
    roc: Curve | None = field(default=None, repr=False)
    pr: Curve | None = field(default=None, repr=False)
    # the held-out clip of each held-out loss (leave-one-clip-out calibration); None for time blocks
    held_out_groups: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        neg, groups = self.negative_losses, self.held_out_groups
        return {
            "threshold": self.threshold,
            "method": self.method,
            "percentile": self.percentile,
            "held_out_losses": np.asarray(self.held_out_losses, dtype=np.float64).tolist(),
            "held_out_groups": None if groups is None else np.asarray(groups, dtype=np.int64).tolist(),
            "negative_losses": None if neg is None else np.asarray(neg, dtype=np.float64).tolist(),
            "auroc": self.auroc,
            "f1_threshold": self.f1_threshold,
            "best_f1": self.best_f1,
            "roc": None if self.roc is None else self.roc.to_dict(),
            "pr": None if self.pr is None else self.pr.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        neg, groups = data.get("negative_losses"), data.get("held_out_groups")
        return cls(
            threshold=float(data["threshold"]),
            method=str(data["method"]),
            percentile=float(data["percentile"]),
            held_out_losses=np.asarray(data["held_out_losses"], dtype=np.float64),
            negative_losses=None if neg is None else np.asarray(neg, dtype=np.float64),
            auroc=data.get("auroc"),
            f1_threshold=data.get("f1_threshold"),
            best_f1=data.get("best_f1"),
            roc=Curve.from_dict(data["roc"]) if data.get("roc") else None,
            pr=Curve.from_dict(data["pr"]) if data.get("pr") else None,
            held_out_groups=None if groups is None else np.asarray(groups, dtype=np.int64),
        )


def _thin(n: int) -> np.ndarray:
    if n <= MAX_CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))


def percentile_threshold(losses: np.ndarray, percentile: float = DEFAULT_PERCENTILE) -> float:
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size == 0:
        raise ValueError("no held-out losses to calibrate on")
    if not 0.0 < percentile <= 100.0:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    return float(np.percentile(losses, percentile))


def grouped_percentile_threshold(losses: np.ndarray, groups: np.ndarray, percentile: float) -> float:
    """Geometric mean over groups (held-out clips) of each group's loss percentile.

    Each held-out clip stands for one unseen match. Pooling them would let the single most unusual clip set
    the threshold; the geometric mean weighs every clip's scale equally, in the log domain where errors of
    different matches differ by factors rather than offsets.
    """
    losses, groups = np.asarray(losses, dtype=np.float64), np.asarray(groups)
    per_group = [percentile_threshold(losses[groups == g], percentile) for g in np.unique(groups)]
    return float(np.exp(np.mean(np.log(np.maximum(per_group, 1e-12)))))


def _sweep(inliers: np.ndarray, outliers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of flagged outliers (tp) and inliers (fp) for every distinct threshold, highest first."""
    scores = np.concatenate([inliers, outliers]).astype(np.float64)
    labels = np.concatenate([np.zeros(len(inliers)), np.ones(len(outliers))])
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # flag everything >= threshold
    tp = np.cumsum(labels)[last_of_tie]
    fp = np.cumsum(1 - labels)[last_of_tie]
    return tp, fp, scores[last_of_tie]


def roc_curve(inliers: np.ndarray, outliers: np.ndarray) -> Curve:
    """ROC of "flag when loss >= threshold": x = FPR (inliers flagged), y = TPR (outliers flagged)."""
    tp, fp, thresholds = _sweep(inliers, outliers)
    tpr = np.r_[0.0, tp / max(len(outliers), 1)]
    fpr = np.r_[0.0, fp / max(len(inliers), 1)]
    return Curve(fpr, tpr, np.r_[np.inf, thresholds])


def auroc(inliers: np.ndarray, outliers: np.ndarray) -> float:
    """Area under the ROC curve: probability that an outlier scores above an inlier (ties count half)."""
    roc = roc_curve(inliers, outliers)
    return float(np.trapezoid(roc.y, roc.x))


def pr_curve(inliers: np.ndarray, outliers: np.ndarray) -> Curve:
    """Precision-recall of detecting outliers; x = recall, y = precision."""
    tp, fp, thresholds = _sweep(inliers, outliers)
    recall = tp / max(len(outliers), 1)
    precision = tp / np.maximum(tp + fp, 1)
    return Curve(recall, precision, thresholds)


def f1_optimal_threshold(inliers: np.ndarray, outliers: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of outlier detection; the threshold sits midway to the next score."""
    pr = pr_curve(inliers, outliers)
    f1 = 2 * pr.x * pr.y / np.maximum(pr.x + pr.y, 1e-12)
    best = int(np.argmax(f1))
    threshold = pr.thresholds[best]
    below = pr.thresholds[best + 1] if best + 1 < len(pr.thresholds) else threshold
    return float((threshold + below) / 2), float(f1[best])


def calibrate(
    held_out_losses: np.ndarray,
    negative_losses: np.ndarray | None = None,
    percentile: float = DEFAULT_PERCENTILE,
    method: str = DEFAULT_METHOD,
    groups: np.ndarray | None = None,
) -> Calibration:
    """Threshold from a percentile of held-out losses; with negatives also ROC/PR and the F1-optimal one.

    ``method="f1"`` uses the F1-optimal threshold as the decision threshold (needs negatives); ``"auto"``
    uses it when negatives are given, else the percentile. With
    ``groups`` (N,) naming the held-out clip of each loss, the percentile is taken per clip and the
    thresholds are combined by ``grouped_percentile_threshold``.
    """
    held_out = np.asarray(held_out_losses, dtype=np.float64)
    if method == "auto":
        method = "f1" if negative_losses is not None and len(negative_losses) else "percentile"
    if groups is not None and len(groups) != len(held_out):
        raise ValueError(f"{len(groups)} held-out groups for {len(held_out)} held-out losses")
    if groups is not None and len(np.unique(groups)) > 1:
        threshold = grouped_percentile_threshold(held_out, groups, percentile)
    else:
        threshold = percentile_threshold(held_out, percentile)
    if negative_losses is None or len(negative_losses) == 0:
        if method != "percentile":
            raise ValueError(f"calibration method {method!r} needs negative frames")
        return Calibration(threshold, method, percentile, held_out, held_out_groups=groups)
    neg = np.asarray(negative_losses, dtype=np.float64)
    f1_threshold, best_f1 = f1_optimal_threshold(held_out, neg)
    if method == "f1":
        threshold = f1_threshold
    elif method != "percentile":
        raise ValueError(f"unknown calibration method {method!r}")
    return Calibration(
        threshold=threshold,
        method=method,
        percentile=percentile,
        held_out_losses=held_out,
        negative_losses=neg,
        auroc=auroc(held_out, neg),
        f1_threshold=f1_threshold,
        best_f1=best_f1,
        roc=roc_curve(held_out, neg),
        pr=pr_curve(held_out, neg),
        held_out_groups=groups,
    )


def recalibrate(
    previous: Calibration,
    percentile: float | None = None,
    negative_losses: np.ndarray | None = None,
    method: str | None = None,
) -> Calibration:
    """A new calibration from ``previous``'s held-out losses (and their clips), with another percentile, other
    negatives (None keeps the previous ones; an empty array drops them) or another method."""
    return calibrate(  # calibrate treats an empty array as no negatives
        previous.held_out_losses,
        previous.negative_losses if negative_losses is None else negative_losses,
        previous.percentile if percentile is None else percentile,
        previous.method if method is None else method,
        previous.held_out_groups,
    )
