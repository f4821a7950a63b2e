import math

import numpy as np
import pytest

from scoring.calibration import (
    Calibration,
    auroc,
    calibrate,
    f1_optimal_threshold,
    percentile_threshold,
    pr_curve,
    recalibrate,
    roc_curve,
)


def test_percentile_threshold_of_a_uniform_sample():
    losses = np.arange(1, 101, dtype=float)
    assert percentile_threshold(losses, 99) == pytest.approx(99.01)
    assert percentile_threshold(losses, 50) == pytest.approx(50.5)
    with pytest.raises(ValueError):
        percentile_threshold(np.array([]), 99)


def test_auroc_of_separated_identical_and_shifted_normals():
    rng = np.random.default_rng(0)
    inl = rng.normal(0, 1, 4000)
    assert auroc(inl, inl + 100) == 1.0
    assert auroc(inl + 100, inl) == 0.0
    assert auroc(inl, rng.normal(0, 1, 4000)) == pytest.approx(0.5, abs=0.02)
    # shift d between unit normals: AUROC = Phi(d / sqrt(2))
    expected = 0.5 * (1 + math.erf(1.0 / math.sqrt(2)))
    assert auroc(inl, rng.normal(math.sqrt(2), 1, 4000)) == pytest.approx(expected, abs=0.015)


def test_ties_count_half():
    assert auroc(np.ones(10), np.ones(10)) == pytest.approx(0.5)


def test_roc_runs_from_corner_to_corner_and_pr_ends_at_full_recall():
    rng = np.random.default_rng(1)
    inl, out = rng.normal(0, 1, 300), rng.normal(2, 1, 200)
    roc = roc_curve(inl, out)
    assert (roc.x[0], roc.y[0]) == (0.0, 0.0)
    assert (roc.x[-1], roc.y[-1]) == (1.0, 1.0)
    assert np.all(np.diff(roc.x) >= 0) and np.all(np.diff(roc.y) >= 0)
    pr = pr_curve(inl, out)
    assert pr.x[-1] == 1.0
    assert pr.y[-1] == pytest.approx(200 / 500)


def test_f1_threshold_separates_disjoint_distributions():
    threshold, f1 = f1_optimal_threshold(np.array([1.0, 2.0, 3.0]), np.array([10.0, 11.0]))
    assert 3.0 < threshold <= 10.0
    assert f1 == 1.0


def test_calibrate_without_negatives_uses_the_percentile():
    result = calibrate(np.arange(100, dtype=float), percentile=95)
    assert result.method == "percentile"
    assert result.threshold == pytest.approx(94.05)
    assert result.auroc is None and result.roc is None
    with pytest.raises(ValueError):
        calibrate(np.arange(10.0), method="f1")


def test_calibrate_with_negatives_reports_roc_and_f1_threshold_and_round_trips():
    rng = np.random.default_rng(2)
    result = calibrate(rng.normal(1, 0.1, 500), rng.normal(3, 0.1, 300), percentile=99, method="f1")
    assert result.auroc == pytest.approx(1.0)
    assert result.best_f1 == pytest.approx(1.0)
    assert 1.2 < result.threshold < 2.8
    again = Calibration.from_dict(result.to_dict())
    assert again.threshold == result.threshold
    assert again.auroc == result.auroc
    np.testing.assert_allclose(again.held_out_losses, result.held_out_losses)
    assert len(again.roc.x) <= 200


def test_recalibration_reuses_the_held_out_clips_and_round_trips_them():
    rng = np.random.default_rng(3)
    losses = np.concatenate([rng.uniform(0, 1, 400), rng.uniform(0, 4, 400)])  # a second, noisier clip
    groups = np.repeat([0, 1], 400)
    first = calibrate(losses, percentile=95.0, groups=groups)
    restored = Calibration.from_dict(first.to_dict())
    np.testing.assert_array_equal(restored.held_out_groups, groups)

    again = recalibrate(restored, percentile=80.0)

    expected = math.sqrt(np.percentile(losses[:400], 80) * np.percentile(losses[400:], 80))
    assert again.threshold == pytest.approx(expected)
    assert again.percentile == 80.0 and again.method == "percentile"
    assert again.threshold != pytest.approx(np.percentile(losses, 80)), "not the pooled percentile"


def test_recalibration_with_negatives_then_without_them():
    held_out = np.linspace(0, 1, 200)
    first = calibrate(held_out)
    with_negatives = recalibrate(first, negative_losses=np.linspace(2, 3, 50), method="f1")
    assert with_negatives.auroc == 1.0 and 1.0 <= with_negatives.threshold <= 2.0
    kept = recalibrate(with_negatives, percentile=90.0, method="percentile")
    assert kept.auroc == 1.0, "None keeps the previous negatives"
    dropped = recalibrate(with_negatives, negative_losses=np.zeros(0), method="percentile")
    assert dropped.negative_losses is None and dropped.auroc is None
    with pytest.raises(ValueError, match="needs negative"):
        recalibrate(first, method="f1")


def test_groups_must_match_the_losses():
    with pytest.raises(ValueError, match="3 held-out groups for 2"):
        calibrate(np.array([0.1, 0.2]), groups=np.array([0, 1, 1]))


def test_auto_uses_the_f1_threshold_only_when_there_are_negatives():
    held_out = np.linspace(0, 1, 200)
    alone = calibrate(held_out, method="auto")
    assert alone.method == "percentile" and alone.threshold == pytest.approx(np.percentile(held_out, 95))
    with_negatives = calibrate(held_out, np.linspace(2, 3, 50), method="auto")
    assert with_negatives.method == "f1" and with_negatives.threshold == with_negatives.f1_threshold
    assert calibrate(held_out, np.zeros(0), method="auto").method == "percentile"
    assert calibrate(held_out, np.linspace(2, 3, 50)).method == "percentile", "the default ignores negatives"
