"""The report's drift warning: a model whose scores on the video's in-category frames are distributed unlike
its calibration is named, with a one-click retrain; footage like the calibration raises nothing."""

from types import SimpleNamespace

import numpy as np
import pytest

from scoring.calibration import Calibration
from scoring.segments import Segment
from tests.webapp.model_helpers import ready_model
from webapp.models import Category
from webapp.report_data import RunData, drift_warnings

pytestmark = pytest.mark.django_db
FPS = 5.0


def run_data(model, shift: float, seed: int = 0) -> tuple[RunData, list[Segment]]:
    """Ten minutes at 5 fps, every frame in the category, scores like the calibration's plus ``shift``."""
    rng = np.random.default_rng(seed)
    n = int(600 * FPS)
    scores = np.repeat(rng.uniform(0.2, 1.0, n // 5), 5)[None, :] + shift
    times = np.arange(n) / FPS
    snapshot = {
        "model_id": model.pk,
        "category": "soccer",
        "version": model.version,
        "threshold": model.threshold,
    }
    data = RunData(SimpleNamespace(model_versions=[snapshot]), times, scores.clip(0, 0.999), scores[0])
    return data, [Segment(0.0, times[-1] + 1 / FPS, "in", 0.5)]


@pytest.fixture
def model(owner):
    """A ready version whose 400 held-out losses, divided by its threshold, spread evenly over 0.2 .. 1.0."""
    model = ready_model(Category.objects.create(owner=owner, name="soccer"), threshold=0.05)
    losses = np.random.default_rng(9).uniform(0.01, 0.05, 400)
    calibration = Calibration(threshold=0.05, method="percentile", percentile=100.0, held_out_losses=losses)
    model.store_calibration(calibration.to_dict(), {"at": "test"})
    return model


def test_footage_like_the_calibration_raises_no_warning(model):
    assert drift_warnings(*run_data(model, 0.0)) == []


def test_a_shifted_category_is_named_with_its_test(model):
    (warning,) = drift_warnings(*run_data(model, 0.45))
    assert (warning["index"], warning["category"], warning["version"]) == (0, "soccer", model.version)
    assert warning["test"].drifted and warning["test"].statistic > 0.25


def test_only_in_segments_count(model):
    data, _ = run_data(model, 0.45)
    assert drift_warnings(data, [Segment(0.0, 600.0, "out", 2.0)]) == []
