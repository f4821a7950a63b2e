"""Colour statistics: HSV histograms, nearest-reference distances, and the combined score."""

import numpy as np
import pytest
import torch

from scoring.colour import (
    COLOUR_BINS,
    HUE_BINS,
    SATURATION_BINS,
    VALUE_BINS,
    colour_descriptors,
    colour_distances,
    combine,
    histogram_size,
    hsv_histograms,
    negative_factor,
    reference_subset,
)


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


def test_a_grid_keeps_where_the_colours_are():
    green, blue = (0, 160, 0), (0, 0, 200)
    left_green = np.concatenate([solid(green, size=(6, 4)), solid(blue, size=(6, 4))], axis=2)
    left_blue = left_green[:, :, ::-1].copy()
    whole = hsv_histograms(np.concatenate([left_green, left_blue]))
    assert colour_distances(whole[:1], whole[1:], neighbours=1)[0] == 0.0, "one histogram: same colours"
    cells = hsv_histograms(np.concatenate([left_green, left_blue]), grid=2)
    assert cells.shape == (2, histogram_size(2)) == (2, 4 * COLOUR_BINS)
    np.testing.assert_allclose(cells.reshape(2, 4, COLOUR_BINS).sum(axis=2), 0.25, rtol=1e-6)
    assert colour_distances(cells[:1], cells[1:], neighbours=1)[0] == pytest.approx(2.0)


def test_cells_of_unequal_size_each_weigh_the_same():
    frame = np.random.default_rng(1).integers(0, 256, (1, 7, 9, 3)).astype(np.uint8)  # 7x9 splits unevenly
    np.testing.assert_allclose(
        hsv_histograms(frame, grid=2).reshape(4, COLOUR_BINS).sum(axis=1), 0.25, rtol=1e-6
    )
    with pytest.raises(ValueError, match="cannot be split"):
        hsv_histograms(frame, grid=8)
    with pytest.raises(ValueError, match="at least one cell"):
        hsv_histograms(frame, grid=0)


def test_distances_match_a_plain_l1_when_bins_are_used_by_one_side_only():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (12, 6, 8, 3)).astype(np.uint8)
    frames[:6] //= 4  # dark frames: value bins the bright half never uses, and the other way round
    histograms = hsv_histograms(frames, grid=2)
    reference, query = histograms[:5], histograms[5:]
    expected = np.abs(query[:, None] - reference[None]).sum(axis=2)  # (7, 5)
    for k in (1, 3):
        np.testing.assert_allclose(
            colour_distances(query, reference, neighbours=k, batch_size=3),
            np.sort(expected, axis=1)[:, :k].mean(axis=1),
            rtol=1e-5,
        )


def test_the_negative_factor_pushes_only_frames_nearer_the_negatives():
    green, teal, blue = (hsv_histograms(solid(c)) for c in ((0, 160, 0), (0, 150, 110), (0, 0, 200)))
    negatives = torch.from_numpy(np.concatenate([teal, teal]))
    frames = np.concatenate([green, teal, blue])
    to_category = np.array([0.1, 1.5, 2.0])  # green is the category's; teal and blue are not
    factor = negative_factor(frames, to_category, negatives, neighbours=1)
    assert factor[0] == 1.0  # nearer the category than the negatives: unchanged
    assert factor[1] > 100  # a copy of a negative frame: pushed far out
    assert factor[2] == 1.0  # far from both: no evidence either way
    np.testing.assert_array_equal(negative_factor(frames, to_category, torch.zeros(0, COLOUR_BINS)), 1.0)


def hue_bins(descriptor: np.ndarray, cell: int = 0) -> np.ndarray:
    """(HUE_BINS,) mass per hue bin of one cell, over saturation and value."""
    per_cell = descriptor.reshape(-1, HUE_BINS, SATURATION_BINS * VALUE_BINS)
    return per_cell[cell].sum(axis=1)


def test_colour_descriptors_share_mass_with_the_neighbouring_hues_and_apply_the_power():
    red = solid((200, 0, 0))  # OpenCV hue 0: the first hue bin, whose lower neighbour is the last (circular)
    np.testing.assert_array_equal(colour_descriptors(red), hsv_histograms(red))
    blurred = colour_descriptors(red, hue_blur=0.25)
    np.testing.assert_allclose(hue_bins(blurred[0])[[HUE_BINS - 1, 0, 1]], [0.25, 0.5, 0.25])
    assert hue_bins(blurred[0])[2 : HUE_BINS - 1].sum() == 0.0
    np.testing.assert_allclose(blurred.sum(axis=1), 1.0, rtol=1e-6)  # blurring moves mass, adds none
    powered = colour_descriptors(red, hue_blur=0.25, power=0.5)
    np.testing.assert_allclose(powered, np.sqrt(blurred), rtol=1e-6)
    cells = colour_descriptors(np.concatenate([red, solid((0, 0, 200))], axis=2), grid=2, hue_blur=0.25)
    assert cells.shape == (1, histogram_size(2))
    for cell in range(4):  # each cell blurred within itself
        assert hue_bins(cells[0], cell).sum() == pytest.approx(0.25)


def test_hue_blur_brings_a_slightly_different_grading_of_the_same_green_nearer_but_not_another_colour():
    green, yellower, blue = solid((0, 160, 0)), solid((20, 160, 0)), solid((0, 0, 200))  # hue bins 5, 4, 10
    plain = colour_descriptors(np.concatenate([green, yellower, blue]))
    blurred = colour_descriptors(np.concatenate([green, yellower, blue]), hue_blur=0.25)
    assert colour_distances(plain[1:2], plain[:1], 1)[0] == pytest.approx(2.0)  # no bin in common
    assert colour_distances(blurred[1:2], blurred[:1], 1)[0] == pytest.approx(1.0)
    assert colour_distances(blurred[2:3], blurred[:1], 1)[0] == pytest.approx(2.0)


def test_a_power_below_one_lets_small_patches_of_colour_count_against_the_pitch():
    pitch = solid((0, 160, 0), size=(20, 20))
    kit = pitch.copy()
    kit[0, :2, :2] = (200, 0, 0)  # 1 % of the frame in a colour the pitch has no trace of
    plain = colour_descriptors(np.concatenate([pitch, kit]))
    rooted = colour_descriptors(np.concatenate([pitch, kit]), power=0.5)
    assert colour_distances(plain[1:], plain[:1], 1)[0] == pytest.approx(0.02)
    assert colour_distances(rooted[1:], rooted[:1], 1)[0] > 0.1  # sqrt(0.01) + (1 - sqrt(0.99))


@pytest.mark.parametrize("kwargs", [{"hue_blur": -0.1}, {"hue_blur": 0.5}, {"power": 0.0}, {"power": 1.5}])
def test_colour_descriptors_refuse_settings_outside_their_range(kwargs):
    with pytest.raises(ValueError):
        colour_descriptors(solid((0, 160, 0)), **kwargs)


def test_cell_neighbours_sum_the_distance_of_each_cell_to_its_own_nearest_reference_cells():
    rng = np.random.default_rng(3)
    query, reference = rng.random((7, 4 * 16), np.float32), rng.random((12, 4 * 16), np.float32)
    expected = np.zeros(7)
    for cell in range(4):
        part = slice(16 * cell, 16 * (cell + 1))
        l1 = np.abs(query[:, None, part] - reference[None, :, part]).sum(axis=2)  # (7, 12)
        expected += np.sort(l1, axis=1)[:, :3].mean(axis=1)
    np.testing.assert_allclose(colour_distances(query, reference, neighbours=3, cells=4), expected, rtol=1e-5)
    whole = colour_distances(query, reference, neighbours=3)
    assert (expected <= whole + 1e-5).all(), "each cell choosing its neighbours can only be nearer"
    with pytest.raises(ValueError, match="cannot be split"):
        colour_distances(query, reference, cells=3)


def test_familiar_parts_in_a_new_combination_are_near_only_when_cells_find_their_own_neighbours():
    green, blue, red, yellow = (0, 160, 0), (0, 0, 200), (200, 0, 0), (220, 220, 0)

    def halves(left, right):
        return np.concatenate([solid(left, size=(6, 4)), solid(right, size=(6, 4))], axis=2)

    reference = hsv_histograms(np.concatenate([halves(green, blue), halves(red, yellow)]), grid=2)
    unseen = hsv_histograms(halves(green, yellow), grid=2)  # the left of one, the right of the other
    assert colour_distances(unseen, reference, neighbours=1) == pytest.approx(1.0)
    assert colour_distances(unseen, reference, neighbours=1, cells=4) == pytest.approx(0.0, abs=1e-6)
    elsewhere = hsv_histograms(halves(blue, green), grid=2)  # familiar colours in unfamiliar places
    assert colour_distances(elsewhere, reference, neighbours=1, cells=4) == pytest.approx(2.0)
    negatives = torch.from_numpy(hsv_histograms(halves(green, yellow), grid=2))
    factor = negative_factor(unseen, np.array([0.5]), negatives, neighbours=1, cells=4)
    assert factor[0] > 1000, "the negative reference is compared cell by cell too"
