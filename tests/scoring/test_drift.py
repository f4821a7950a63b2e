"""The drift test fires on shifted in-category scores and keeps quiet on unshifted ones."""

import numpy as np
import pytest

from scoring.drift import drift_test, ks_two_sample, thin

FPS = 5.0


def calibration(seed: int = 0, n: int = 800) -> np.ndarray:
    return np.random.default_rng(seed).gamma(8.0, 0.06, n)  # normalised scores, mostly below 1.0


def video(shift: float, seed: int = 1, minutes: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """In-category scores at 5 fps, each second five near-duplicate frames, shifted by ``shift``."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * FPS)
    per_second = rng.gamma(8.0, 0.06, n // 5 + 1)
    scores = np.repeat(per_second, 5)[:n] + rng.normal(0, 0.005, n) + shift
    return scores, np.arange(n) / FPS


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_it_stays_quiet_on_footage_like_the_calibration(seed):
    scores, times = video(0.0, seed)
    result = drift_test(scores, times, calibration())
    assert result is not None and not result.drifted and result.n_video <= 600  # thinned to one a second


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_fires_when_the_category_looks_different_here(seed):
    scores, times = video(0.25, seed)  # e.g. a new ground: every frame reconstructs worse
    result = drift_test(scores, times, calibration())
    assert result.drifted and result.statistic > 0.25 and result.p_value < 1e-6


def test_too_few_frames_say_nothing():
    scores, times = video(0.3, minutes=0.2)
    assert drift_test(scores, times, calibration()) is None


def test_the_ks_test_agrees_with_its_textbook_values():
    same = ks_two_sample(np.arange(100.0), np.arange(100.0) + 0.5)
    assert same[0] == pytest.approx(0.01) and same[1] > 0.99
    apart = ks_two_sample(np.arange(50.0), np.arange(50.0) + 25)
    assert apart[0] == pytest.approx(0.5) and apart[1] < 1e-4
    assert list(thin(np.array([0.0, 0.2, 0.9, 1.0, 1.5, 2.1]), 1.0)) == [0, 3, 5]
