"""Training callbacks: divergence stop and atomic checkpoints."""

import json
import math

import pytest

from infoae.training.callbacks import EpochCheckpoint, StopOnNonFinite
from infoae.config import load_config
from infoae.errors import TrainingDiverged
from infoae.model.autoencoder import build_model

pytestmark = pytest.mark.backends  # Also run on JAX by the README's test command.


def test_non_finite_loss_stops_with_name_and_step():
    callback = StopOnNonFinite()
    callback.on_epoch_begin(2)
    callback.on_train_batch_end(4, {"loss": 0.3, "kl": 1.0})
    with pytest.raises(TrainingDiverged, match=r"'kl' became nan at epoch 3, step 6"):
        callback.on_train_batch_end(5, {"loss": 0.3, "kl": math.nan})
    with pytest.raises(TrainingDiverged, match="'loss' became inf"):
        callback.on_train_batch_end(6, {"loss": math.inf})


def test_checkpoint_is_renamed_into_place_and_pruned(tmp_path):
    model = build_model(load_config(overrides=["model.encoder_filters=[4, 4, 4]"]), (28, 28, 1))
    callback = EpochCheckpoint(tmp_path, keep=2)
    callback.set_model(model)
    for epoch in range(3):
        callback.on_epoch_end(epoch, {})
    files = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert files == ["epoch-002.weights.h5", "epoch-003.weights.h5", "latest.json"]
    index = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert index["epoch"] == 3 and index["file"] == "epoch-003.weights.h5"
    assert [entry["file"] for entry in index["checkpoints"]] == ["epoch-003.weights.h5",
                                                                 "epoch-002.weights.h5"]
