"""Separation metrics for the quality benchmark: frame ROC, out-decision rates, break F1, boundary error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.calibration import auroc


@dataclass(frozen=True)
class Interval:
    start_s: float
    end_s: float
    kind: str = ""  # "ad" (an ad break), "confounder" (another sport), or "" for predictions


@dataclass(frozen=True)
class Separation:
    auroc: float
    fpr_at_tpr95: float  # best FPR with TPR >= 0.95 over all thresholds (threshold-free)
    tpr: float  # of the "out" decisions
    fpr: float
    break_precision: float
    break_recall: float
    break_f1: float
    ad_break_recall: float
    boundary_error_s: float  # mean |start| and |end| error over detected breaks (nan when none)


def truth_out_frames(truth: dict, times_s: np.ndarray) -> np.ndarray:
    """(N,) bool: the frame is not soccer (positive class)."""
    out = np.zeros(len(times_s), dtype=bool)
    for seg in truth["segments"]:
        if seg["label"] != "soccer":
            out[(times_s >= seg["start_s"]) & (times_s < seg["end_s"])] = True
    return out


def truth_breaks(truth: dict) -> list[Interval]:
    """Maximal runs of non-soccer segments: ad breaks (consecutive ads) and other-sport inserts."""
    breaks: list[Interval] = []
    for seg in truth["segments"]:
        if seg["label"] == "soccer":
            continue
        kind = "ad" if seg["label"] == "ad" else "confounder"
        if breaks and abs(breaks[-1].end_s - seg["start_s"]) < 1e-6:
            prev = breaks.pop()
            kind = "ad" if "ad" in (prev.kind, kind) else kind
            breaks.append(Interval(prev.start_s, seg["end_s"], kind))
        else:
            breaks.append(Interval(seg["start_s"], seg["end_s"], kind))
    return breaks


def iou(a: Interval, b: Interval) -> float:
    inter = max(0.0, min(a.end_s, b.end_s) - max(a.start_s, b.start_s))
    union = max(a.end_s, b.end_s) - min(a.start_s, b.start_s)
    return inter / union if union > 0 else 0.0


def match_breaks(truth: list[Interval], predicted: list[Interval], min_iou: float = 0.5):
    """Greedy one-to-one matching by IoU >= min_iou; returns [(truth, predicted), ...]."""
    pairs = sorted(
        ((iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(predicted)), reverse=True
    )
    used_t, used_p, matched = set(), set(), []
    for score, i, j in pairs:
        if score >= min_iou and i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            matched.append((truth[i], predicted[j]))
    return matched


def fpr_at_tpr(scores: np.ndarray, positive: np.ndarray, tpr: float = 0.95) -> float:
    threshold = np.quantile(scores[positive], 1 - tpr, method="lower")
    return float(np.mean(scores[~positive] >= threshold))


def separation(
    scores: np.ndarray, out: np.ndarray, times_s: np.ndarray, predicted: list[Interval], truth: dict
) -> Separation:
    """All figures for one score sequence and its decisions against the ground truth."""
    positive = truth_out_frames(truth, times_s)
    breaks = truth_breaks(truth)
    matched = match_breaks(breaks, predicted)
    precision = len(matched) / len(predicted) if predicted else 0.0
    recall = len(matched) / len(breaks) if breaks else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ads = [b for b in breaks if b.kind == "ad"]
    ad_recall = sum(t.kind == "ad" for t, _ in matched) / len(ads) if ads else float("nan")
    errors = [abs(t.start_s - p.start_s) for t, p in matched] + [abs(t.end_s - p.end_s) for t, p in matched]
    return Separation(
        auroc=auroc(scores[~positive], scores[positive]),
        fpr_at_tpr95=fpr_at_tpr(scores, positive),
        tpr=float(np.mean(out[positive])),
        fpr=float(np.mean(out[~positive])),
        break_precision=precision,
        break_recall=recall,
        break_f1=f1,
        ad_break_recall=ad_recall,
        boundary_error_s=float(np.mean(errors)) if errors else float("nan"),
    )
