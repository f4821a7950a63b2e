"""Thresholds in people's terms: false alarms per hour of in-category video, and the threshold for a goal."""

import numpy as np
import pytest

from scoring.alarms import false_alarms_per_hour, held_out_hours, threshold_for_false_alarms
from scoring.segments import TemporalParams

FPS = 5.0


def held_out(seed: int = 0, n: int = 9000) -> np.ndarray:
    """Half an hour at 5 fps of in-category losses near 1.0, with a few bursts of odd frames (replays,
    close-ups) that a low threshold flags."""
    rng = np.random.default_rng(seed)
    losses = rng.normal(1.0, 0.05, n).clip(0.5)
    for start in rng.integers(0, n - 60, 12):
        losses[start : start + rng.integers(15, 60)] += rng.uniform(0.2, 0.8)
    return losses


def test_a_higher_threshold_gives_fewer_false_alarms_per_hour():
    losses = held_out()
    assert held_out_hours(losses, FPS) == pytest.approx(0.5)
    # above the in-category noise (sd 0.05), where each alarm is a burst; at 1.05 the noise's own runs merge
    # with the bursts into fewer, longer segments, so the count is not monotonic there
    rates = [false_alarms_per_hour(losses, t, FPS) for t in (1.1, 1.2, 1.5, 2.0)]
    assert rates == sorted(rates, reverse=True) and rates[0] > rates[-1]
    assert false_alarms_per_hour(losses, losses.max() * 1.01, FPS) == 0.0
    # one burst of ten seconds above the threshold is one alarm in half an hour: two per hour
    calm = np.full(9000, 1.0)
    calm[100:150] = 3.0
    assert false_alarms_per_hour(calm, 2.0, FPS, TemporalParams(min_segment_s=2.0)) == pytest.approx(2.0)


@pytest.mark.parametrize("per_hour", [0.0, 2.0, 10.0])
def test_the_threshold_for_a_target_keeps_it_and_is_the_most_sensitive_that_does(per_hour):
    losses = held_out(1)
    threshold = threshold_for_false_alarms(losses, FPS, per_hour)
    assert false_alarms_per_hour(losses, threshold, FPS) <= per_hour
    lower = np.unique(losses)[np.unique(losses) < threshold]
    if len(lower):  # the next lower candidate breaks the promise
        assert false_alarms_per_hour(losses, lower[-1], FPS) > per_hour


def test_nonsense_is_refused():
    with pytest.raises(ValueError, match="no held-out"):
        false_alarms_per_hour(np.array([]), 1.0, FPS)
    with pytest.raises(ValueError, match="positive"):
        false_alarms_per_hour(held_out(), 0.0, FPS)
    with pytest.raises(ValueError, match="negative"):
        threshold_for_false_alarms(held_out(), FPS, -1.0)
