import dataclasses
import json
import threading

import numpy as np
import pytest
import torch

from scoring.calibration import calibrate
from scoring.checkpoint import (
    CheckpointError,
    TrainedCategory,
    load_checkpoint,
    save_checkpoint,
    update_calibration,
)
from scoring.model import ConvVAE, VAEConfig
from scoring.training import TrainConfig


@pytest.fixture
def trained() -> TrainedCategory:
    torch.manual_seed(0)
    config = VAEConfig(height=18, width=32, latent_dim=6, base_channels=4, beta=0.5, error_quantile=0.2)
    rng = np.random.default_rng(0)
    calibration = calibrate(rng.random(50), rng.random(30) + 1, percentile=97)
    return TrainedCategory("soccer", ConvVAE(config), calibration, TrainConfig(epochs=3), {"n_frames": 50})


def test_config_weights_and_calibration_round_trip(tmp_path, trained):
    save_checkpoint(trained, tmp_path / "m")
    loaded = load_checkpoint(tmp_path / "m")
    assert loaded.config == trained.config
    assert loaded.name == "soccer"
    assert loaded.threshold == trained.threshold
    assert loaded.calibration.auroc == trained.calibration.auroc
    assert loaded.train_config.epochs == 3
    assert loaded.metadata == {"n_frames": 50}
    x = torch.rand(2, 3, 18, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x, sample=False).recon, trained.model(x, sample=False).recon)


def test_it_rejects_a_missing_directory_or_a_folder_without_a_model(tmp_path):
    with pytest.raises(CheckpointError, match="not a model directory"):
        load_checkpoint(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="missing model.json"):
        load_checkpoint(tmp_path)


def test_it_rejects_json_that_is_not_a_model(tmp_path, trained):
    save_checkpoint(trained, tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CheckpointError, match="not an Offside model"):
        load_checkpoint(tmp_path)


def test_it_rejects_corrupt_weights(tmp_path, trained):
    save_checkpoint(trained, tmp_path)
    (tmp_path / "weights.safetensors").write_bytes(b"\x80\x04 pickled? never")
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load_checkpoint(tmp_path)


def test_it_rejects_weights_that_do_not_match_the_config(tmp_path, trained):
    save_checkpoint(trained, tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["config"]["latent_dim"] = 9
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(tmp_path)


def test_a_colour_reference_of_any_length_round_trips(tmp_path, trained):
    config = VAEConfig(height=18, width=32, latent_dim=6, base_channels=4, colour_weight=0.5)
    model = ConvVAE(config)
    model.set_colour_reference(torch.rand(7, 256))
    save_checkpoint(TrainedCategory("soccer", model, trained.calibration), tmp_path / "m")
    loaded = load_checkpoint(tmp_path / "m")
    torch.testing.assert_close(loaded.model.colour_reference, model.colour_reference)


def test_a_colour_grid_round_trips_and_a_reference_of_another_grid_is_refused(tmp_path, trained):
    config = VAEConfig(height=18, width=32, latent_dim=6, base_channels=4, colour_weight=0.5, colour_grid=2)
    model = ConvVAE(config)
    model.set_colour_reference(torch.rand(5, 4 * 256))
    save_checkpoint(TrainedCategory("soccer", model, trained.calibration), tmp_path / "m")
    loaded = load_checkpoint(tmp_path / "m")
    assert loaded.config.colour_grid == 2 and loaded.model.colour_reference.shape == (5, 1024)

    meta = json.loads((tmp_path / "m/model.json").read_text())
    meta["config"]["colour_grid"] = 1  # the saved reference has four cells per frame
    (tmp_path / "m/model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not match a 1x1 colour grid"):
        load_checkpoint(tmp_path / "m")


def test_models_saved_before_colour_statistics_still_load(tmp_path, trained):
    from safetensors.torch import load_file, save_file

    save_checkpoint(trained, tmp_path / "m")
    state = load_file(str(tmp_path / "m/weights.safetensors"))
    del state["colour_reference"]
    save_file(state, str(tmp_path / "m/weights.safetensors"), metadata={"format": "offside-vae"})
    assert load_checkpoint(tmp_path / "m").model.colour_reference.shape == (0, 256)

    meta = json.loads((tmp_path / "m/model.json").read_text())
    meta["config"]["colour_weight"] = 0.5  # claims a colour term it has no reference for
    (tmp_path / "m/model.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="colour statistics are missing"):
        load_checkpoint(tmp_path / "m")


def test_simultaneous_recalibrations_each_keep_their_history_entry(tmp_path, trained):
    save_checkpoint(trained, tmp_path / "m")
    new = dataclasses.replace(trained.calibration, threshold=0.5)
    start = threading.Barrier(8)

    def recalibrate(i: int) -> None:
        start.wait()
        update_calibration(tmp_path / "m", new, {"run": i})

    threads = [threading.Thread(target=recalibrate, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loaded = load_checkpoint(tmp_path / "m")
    assert loaded.threshold == 0.5
    assert sorted(n["run"] for n in loaded.metadata["recalibrations"]) == list(range(8))
    assert not list((tmp_path / "m").glob("*.tmp")), "no temporary file is left behind"


def test_recalibrating_a_folder_that_is_not_a_model_changes_nothing(tmp_path, trained):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError):
        update_calibration(tmp_path / "empty", trained.calibration, {})
    assert list((tmp_path / "empty").iterdir()) == []
