"""Colour statistics: HSV histograms, nearest-reference distances, and the combined score."""

import numpy as np
import pytest
import torch

from scoring.colour import COLOUR_BINS, colour_distances, combine, hsv_histograms, reference_subset


def solid(rgb, n: int = 1, size=(6, 8)) -> np.ndarray:
    return np.broadcast_to(np.asarray(rgb, np.uint8), (n, *size, 3)).copy()


def test_a_solid_frame_fills_one_bin_and_histograms_sum_to_one():
    frames = np.concatenate([solid((0, 160, 0)), np.random.default_rng(0).integers(0, 256, (2, 6, 8, 3))])
    histograms = hsv_histograms(frames.astype(np.uint8))
    assert histograms.shape == (3, COLOUR_BINS) and histograms.dtype == np.float32
    np.testing.assert_allclose(histograms.sum(axis=1), 1.0, rtol=1e-6)
    assert histograms[0].max() == 1.0
    assert hsv_histograms(np.zeros((0, 6, 8, 3), np.uint8)).shape == (0, COLOUR_BINS)


def test_distances_are_zero_to_a_copy_and_two_to_a_disjoint_colour():
    green, blue = hsv_histograms(solid((0, 160, 0))), hsv_histograms(solid((0, 0, 200)))
    reference = torch.from_numpy(np.concatenate([green, green]))
    assert colour_distances(green, reference, neighbours=1)[0] == 0.0
    assert colour_distances(blue, reference, neighbours=5)[0] == pytest.approx(2.0)  # k capped at 2 refs
    with pytest.raises(ValueError, match="empty"):
        colour_distances(green, torch.zeros(0, COLOUR_BINS))


def test_the_reference_subset_is_spread_over_time():
    rows = np.arange(10, dtype=np.float32)[:, None]
    assert reference_subset(rows, 20) is rows
    np.testing.assert_array_equal(reference_subset(rows, 4)[:, 0], [0, 3, 6, 9])


def test_the_combined_score_is_a_weighted_geometric_mean():
    np.testing.assert_allclose(combine(np.array([4.0]), np.array([1.0]), 0.5), [2.0])
    np.testing.assert_allclose(combine(np.array([3.0]), np.array([7.0]), 0.0), [3.0])
    assert combine(np.array([0.0]), np.array([1.0]), 0.5)[0] > 0, "a perfect reconstruction stays finite"
