import numpy as np
import pytest
import torch

from scoring.model import VAEConfig
from scoring.training import TrainConfig, TrainingCancelled, block_split, train_vae

TINY = VAEConfig(height=16, width=16, latent_dim=4, base_channels=4, max_channels=8)
FAST = {"batch_size": 16, "min_epoch_frames": 0}  # a few steps per epoch: tests must stay fast


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The CI and dev machines have 2 shared cores; one torch thread avoids oversubscription stalls."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def two_scene_frames(n: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Green and blue frames with a little noise, as two clips at 10 fps."""
    rng = np.random.default_rng(0)
    frames = np.zeros((n, 16, 16, 3), dtype=np.uint8)
    frames[: n // 2, :, :, 1] = 180
    frames[n // 2 :, :, :, 2] = 200
    frames = np.clip(frames + rng.integers(0, 20, frames.shape), 0, 255).astype(np.uint8)
    groups = np.repeat([0, 1], n // 2)
    times = np.tile(np.arange(n // 2) / 10.0, 2)
    return frames, groups, times


def test_block_split_holds_out_whole_time_blocks_of_every_clip():
    groups = np.repeat([0, 1], 200)
    times = np.tile(np.arange(200) / 10.0, 2)  # 20 s per clip
    train, val = block_split(groups, times, val_fraction=0.2, block_s=2.0, seed=3)
    assert len(np.intersect1d(train, val)) == 0
    assert len(train) + len(val) == 400
    for g in (0, 1):
        blocks = np.floor(times[val[groups[val] == g]] / 2.0)
        assert len(np.unique(blocks)) == 2  # 20% of 10 blocks, whole
        for b in np.unique(blocks):
            assert np.sum(np.floor(times[groups == g] / 2.0) == b) == np.sum(blocks == b)


def test_a_tiny_training_run_lowers_the_loss():
    frames, groups, times = two_scene_frames()
    cfg = TrainConfig(epochs=8, lr=1e-2, val_block_s=1.0, val_fraction=0.25, patience=10, **FAST)
    result = train_vae(frames, groups, times, TINY, cfg, torch.device("cpu"))
    losses = [h["val_loss"] for h in result.history]
    assert result.best_val_loss < losses[0] * 0.8
    assert len(result.val_index) > 0


def test_training_is_reproducible_with_a_seed():
    frames, groups, times = two_scene_frames(48)
    cfg = TrainConfig(epochs=2, val_block_s=1.0, **FAST)
    a = train_vae(frames, groups, times, TINY, cfg, torch.device("cpu"))
    b = train_vae(frames, groups, times, TINY, cfg, torch.device("cpu"))
    assert a.history == b.history


def test_a_truthy_callback_return_cancels():
    frames, groups, times = two_scene_frames(48)
    seen = []

    def stop_after_first_epoch(epoch, step, metrics):
        seen.append(epoch)
        return "val_loss" in metrics

    with pytest.raises(TrainingCancelled):
        train_vae(
            frames,
            groups,
            times,
            TINY,
            TrainConfig(epochs=5, **FAST),
            torch.device("cpu"),
            stop_after_first_epoch,
        )
    assert max(seen) == 1


def test_a_callback_may_raise_training_cancelled():
    frames, groups, times = two_scene_frames(48)

    def cancel(epoch, step, metrics):
        raise TrainingCancelled("user pressed stop")

    with pytest.raises(TrainingCancelled, match="user pressed stop"):
        train_vae(frames, groups, times, TINY, TrainConfig(epochs=5, **FAST), torch.device("cpu"), cancel)
