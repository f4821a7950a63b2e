import cv2
import numpy as np
import pytest

from scoring.heatmaps import (
    colorize,
    error_heatmap_png,
    occlusion_heatmap_png,
    occlusion_map,
)

GREEN = np.array([40, 140, 50], dtype=np.float32)


def pitch_with_anomaly(h=60, w=96):
    rng = np.random.default_rng(0)
    frame = np.clip(GREEN + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8)
    frame[20:30, 60:72] = (230, 30, 30)  # a red advertising board where grass should be
    return frame


def distance_to_pitch(batch):
    """A stand-in scorer: mean squared distance of each frame to the pitch colour."""
    return ((batch.astype(np.float32) - GREEN) ** 2).mean(axis=(1, 2, 3))


def decode(png):
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


def test_colorize_maps_low_to_dark_and_high_to_bright():
    rgb = colorize(np.array([[0.0, 1.0]]))
    assert rgb.shape == (1, 2, 3) and rgb.dtype == np.uint8
    assert rgb[0, 0].sum() < rgb[0, 1].sum()
    assert colorize(np.zeros((2, 2))).shape == (2, 2, 3)  # a flat map does not divide by zero


def test_error_heatmap_png_has_the_full_frame_size():
    frame = np.full((360, 640, 3), 128, np.uint8)
    error = np.zeros((54, 96), np.float32)
    error[10:20, 10:20] = 1.0
    image = decode(error_heatmap_png(frame, error, alpha=0.6))
    assert image.shape == (360, 640, 3)
    assert image[100, 100].sum() > image[300, 500].sum()  # the hot patch lands where it belongs, scaled


def test_occlusion_map_locates_the_anomalous_patch():
    frame = pitch_with_anomaly()
    sens = occlusion_map(frame, distance_to_pitch, patch=8, stride=4)
    assert sens.shape == (60, 96) and sens.dtype == np.float32
    y, x = np.unravel_index(np.argmax(sens), sens.shape)
    assert 20 <= y < 30 and 60 <= x < 72
    assert sens[50:, :40].max() < 0.2 * sens.max()


def test_occlusion_scores_in_batches():
    calls = []

    def scorer(batch):
        calls.append(len(batch))
        return distance_to_pitch(batch)

    occlusion_map(pitch_with_anomaly(), scorer, patch=8, stride=4, batch_size=100)
    assert calls[0] == 1 and max(calls[1:]) <= 100 and sum(calls[1:]) == 14 * 23


def test_occlusion_heatmap_png_decodes_at_full_size():
    frame = pitch_with_anomaly()
    full = cv2.resize(frame, (320, 200), interpolation=cv2.INTER_LINEAR)
    image = decode(occlusion_heatmap_png(full, frame, distance_to_pitch, patch=12, stride=6, fill="black"))
    assert image.shape == (200, 320, 3)


def test_occlusion_rejects_an_unknown_fill():
    with pytest.raises(ValueError):
        occlusion_map(pitch_with_anomaly(), distance_to_pitch, fill="plaid")
