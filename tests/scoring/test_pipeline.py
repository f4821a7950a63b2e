import copy
import dataclasses

import numpy as np
import pytest
import torch

from scoring import frames as frames_module
from scoring.calibration import calibrate
from scoring.frames import FrameStream, SamplingSpec, extract_frames
from scoring.model import ConvVAE, VAEConfig
from scoring.pipeline import (
    CalibrationOptions,
    ClipFrames,
    TrainedCategory,
    TrainingCancelled,
    TrainingOptions,
    load_checkpoint,
    save_checkpoint,
    score_frames,
    score_stream,
    train_category,
)
from scoring.scorer import frame_errors
from scoring.segments import TemporalParams
from scoring.training import TrainConfig

TINY = VAEConfig(height=16, width=16, latent_dim=4, base_channels=4, max_channels=8, error_quantile=0.2)
RAW = TemporalParams(window_s=0, low=1.0, high=1.0, min_segment_s=0, snap_to_cuts_s=0)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def clip(colour: int, n: int = 40, seed: int = 0) -> ClipFrames:
    rng = np.random.default_rng(seed)
    frames = np.zeros((n, 16, 16, 3), dtype=np.uint8)
    frames[..., colour] = 180
    frames = np.clip(frames + rng.integers(0, 25, frames.shape), 0, 255).astype(np.uint8)
    return ClipFrames(frames, np.arange(n) / 10.0, f"colour{colour}")


def options(**calibration) -> TrainingOptions:
    train = TrainConfig(epochs=3, batch_size=16, min_epoch_frames=0, val_block_s=1.0)
    cal = CalibrationOptions(fold_epochs=2, **calibration)
    return TrainingOptions(
        model=dataclasses.replace(TINY, normalise_pixels=True), train=train, calibration=cal
    )


def test_two_clips_are_calibrated_by_leaving_each_one_out():
    folds = set()

    def on_progress(epoch, step, metrics):
        folds.add(metrics["fold"])
        assert 0.0 <= metrics["progress"] <= 1.0

    trained = train_category("green", [clip(1), clip(1, seed=1)], [clip(2)], options(), on_progress)
    assert folds == {0.0, 1.0, 2.0}
    assert trained.threshold > 0
    assert len(trained.calibration.held_out_losses) == 80  # every frame of both clips, each held out once
    assert trained.calibration.auroc is not None
    assert not torch.equal(trained.model.error_scale, torch.ones(16, 16))
    assert trained.metadata["n_frames"] == 80


def test_a_callback_cancels_training_category():
    with pytest.raises(TrainingCancelled):
        train_category("green", [clip(1)], options=options(holdout="blocks"), on_progress=lambda *a: True)


def test_the_lowest_normalised_score_wins_and_all_above_one_is_unknown():
    torch.manual_seed(0)
    model = ConvVAE(TINY).eval()
    frames = clip(1)
    cal = calibrate(np.ones(10))

    def category(name: str, threshold: float) -> TrainedCategory:
        return TrainedCategory(name, model, dataclasses.replace(cal, threshold=threshold))

    result = score_frames(frames, [category("strict", 1e-6), category("loose", 1e3)], RAW)
    assert result.categories == ["strict", "loose"]
    assert result.scores.shape == (2, 40)
    assert set(result.labels) == {"loose"}
    assert not result.out.any()
    assert [s.label for s in result.segments] == ["in"]
    nowhere = score_frames(frames, [category("strict", 1e-6)], RAW)
    assert set(nowhere.labels) == {"unknown"}
    assert nowhere.out.all()


def test_training_options_round_trip_through_a_dict():
    opts = options(percentile=97.5)
    assert TrainingOptions.from_dict(opts.to_dict()) == opts
    assert TrainingOptions.from_dict({}) == TrainingOptions()


def test_the_colour_term_is_calibrated_and_flags_a_scene_of_another_colour():
    coloured = dataclasses.replace(options(), model=dataclasses.replace(TINY, colour_weight=0.7))
    trained = train_category("green", [clip(1), clip(1, seed=1)], options=coloured)
    assert trained.model.colour_reference.shape == (80, 256)
    np.testing.assert_array_equal(np.unique(trained.calibration.held_out_groups), [0, 1])
    result = score_frames(clip(2, n=20, seed=5), [trained], RAW)
    assert result.out.all()
    inside = score_frames(clip(1, n=20, seed=7), [trained], RAW)
    assert np.median(inside.best_scores) < np.median(result.best_scores)


def test_the_default_colour_grid_is_trained_saved_and_scored(tmp_path):
    gridded = dataclasses.replace(TINY, colour_weight=0.8, colour_grid=2, colour_references=16)
    trained = train_category(
        "green", [clip(1), clip(1, seed=1)], options=dataclasses.replace(options(), model=gridded)
    )
    assert trained.model.colour_reference.shape == (16, 4 * 256)
    save_checkpoint(trained, tmp_path / "m")
    loaded = load_checkpoint(tmp_path / "m")
    assert score_frames(clip(2, n=20, seed=5), [loaded], RAW).out.all()
    inside = score_frames(clip(1, n=20, seed=7), [loaded], RAW)
    assert np.median(inside.best_scores) <= 1.5


def test_negative_colours_push_out_a_look_marked_not_this_category(tmp_path):
    coloured = dataclasses.replace(TINY, colour_weight=0.7, negative_colours=True)
    opts = dataclasses.replace(options(), model=coloured)
    plain = dataclasses.replace(opts, model=dataclasses.replace(coloured, negative_colours=False))
    clips, teal = [clip(1), clip(1, seed=1)], clip(2, seed=3)  # the negative: another colour
    with_negatives = train_category("green", clips, [teal], opts)
    without = train_category("green", clips, [teal], plain)
    assert with_negatives.model.negative_reference.shape == (40, 256)
    assert without.model.negative_reference.shape == (0, 256)
    save_checkpoint(with_negatives, tmp_path / "m")
    loaded = load_checkpoint(tmp_path / "m")
    assert torch.equal(loaded.model.negative_reference, with_negatives.model.negative_reference)
    other_teal = clip(2, n=20, seed=9)  # the same sport, another clip
    pushed = score_frames(other_teal, [loaded], RAW).errors
    assert np.median(pushed) > 2 * np.median(score_frames(other_teal, [without], RAW).errors)


def test_scoring_frames_as_they_decode_gives_the_scores_of_the_whole_video(field_studio_clip, monkeypatch):
    path, _ = field_studio_clip
    monkeypatch.setattr(frames_module, "STREAM_CHUNK", 7)  # several chunks, the last one short
    spec = SamplingSpec(None, TINY.height, TINY.width)
    torch.manual_seed(0)
    model = ConvVAE(TINY).eval()
    whole = score_frames(
        extract_frames(path, spec), [TrainedCategory("field", model, calibrate(np.ones(10)))]
    )
    trained = TrainedCategory("field", model, calibrate(np.ones(10)))
    # a threshold inside the scores' range, so that both decisions occur
    trained.calibration = dataclasses.replace(trained.calibration, threshold=float(np.median(whole.errors)))
    expected = score_frames(extract_frames(path, spec), [trained])
    with FrameStream(path, spec) as stream:
        streamed = score_stream(stream, [trained])
    np.testing.assert_allclose(streamed.errors, expected.errors, rtol=1e-5)
    np.testing.assert_array_equal(streamed.timestamps_s, expected.timestamps_s)
    np.testing.assert_array_equal(streamed.out, expected.out)
    assert [(s.label, s.start_s, s.end_s) for s in streamed.segments] == [
        (s.label, s.start_s, s.end_s) for s in expected.segments
    ]


def halves_clip(left: int, right: int, n: int = 40, seed: int = 0) -> ClipFrames:
    """16x16 frames whose left half is one primary colour and right half another, with noise."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((n, 16, 16, 3), dtype=np.uint8)
    frames[:, :, :8, left] = 180
    frames[:, :, 8:, right] = 180
    frames = np.clip(frames + rng.integers(0, 25, frames.shape), 0, 255).astype(np.uint8)
    return ClipFrames(frames, np.arange(n) / 10.0, f"halves{left}{right}")


def test_cell_neighbours_are_trained_saved_and_accept_familiar_parts_in_a_new_combination(tmp_path):
    cells = dataclasses.replace(
        TINY, colour_weight=0.8, colour_grid=2, colour_references=32, colour_cell_neighbours=True
    )
    opts = dataclasses.replace(options(), model=cells)
    trained = train_category("pitch", [halves_clip(0, 1), halves_clip(1, 2, seed=1)], options=opts)
    save_checkpoint(trained, tmp_path / "m")
    loaded = load_checkpoint(tmp_path / "m")
    assert loaded.model.config.colour_cell_neighbours
    whole = copy.deepcopy(loaded.model)
    whole.config = dataclasses.replace(cells, colour_cell_neighbours=False)
    recombined = halves_clip(0, 2, n=20, seed=5).frames  # the left of one clip, the right of the other
    by_cells, by_frames = frame_errors(loaded.model, recombined), frame_errors(whole, recombined)
    assert np.median(by_cells) < 0.8 * np.median(by_frames)
    swapped = halves_clip(2, 0, n=20, seed=6).frames  # familiar colours in unfamiliar places stay far
    assert np.median(frame_errors(loaded.model, swapped)) > 1.5 * np.median(by_cells)
