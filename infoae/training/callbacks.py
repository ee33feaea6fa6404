"""Keras callbacks for training runs: checkpoints, divergence stop, disentanglement monitor,
adversary resets."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from infoae import atomic
from infoae.errors import RunDirError, TrainingDiverged
from infoae.evaluation.metrics import probe_accuracy
from infoae.model.adversary import reset_adversary
from infoae.model.trained import Run
from infoae.rundir import (CHECKPOINT_DIR, LATEST_FILE, checkpoint_index, checkpoint_problem,
                           file_digest, write_json)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves weights and optimizer state after every epoch, atomically and verified.

    The weights go to a temporary file that is renamed into place; the file is then read back
    (it must open as HDF5) and its size and SHA-256 go into ``latest.json``, the index of the
    kept checkpoints (rewritten atomically). Only then are checkpoints older than the ``keep``
    newest removed, so a kill or a failed write at any moment leaves the previous good
    checkpoint and an index that names it; resume verifies the checksums and falls back to the
    newest whole checkpoint.
    """

    def __init__(self, run_dir: str | Path, keep: int = 3):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.directory = self.run_dir / CHECKPOINT_DIR
        self.keep = keep

    def on_epoch_end(self, epoch, logs=None):
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:03d}.weights.h5"
        atomic.save_weights(self.model, self.directory / name)
        entry = {"epoch": epoch + 1, "file": name, **file_digest(self.directory / name)}
        problem = checkpoint_problem(self.run_dir, {"epoch": epoch + 1, "file": name})
        if problem:
            raise RunDirError(f"checkpoint {self.directory / name} was written but cannot be read "
                              f"back ({problem}); the previous checkpoints are kept. Check the "
                              "disk, then resume.")
        earlier, _ = checkpoint_index(self.run_dir)
        entries = [entry] + [old for old in earlier if old["epoch"] < epoch + 1
                             and "sha256" in old][:self.keep - 1]
        write_json(self.directory / LATEST_FILE, {"epoch": entry["epoch"], "file": name,
                                                  "checkpoints": entries})
        named = {old["file"] for old in entries}
        for old in self.directory.glob("epoch-*.weights.h5"):
            if old.name not in named:
                old.unlink()


class AdversaryReset(keras.callbacks.Callback):
    """Re-initialises the adversary at the start of every ``every``-th epoch (not the first):
    new weights drawn from each layer's initialiser (seeded by the run's seed and the epoch,
    so a resumed run draws the same ones) and a fresh optimizer state (Adam's moments and step
    count; its learning rate is kept)."""

    def __init__(self, every: int, seed: int = 0):
        super().__init__()
        self.every, self.seed = int(every), int(seed)

    def on_epoch_begin(self, epoch, logs=None):
        if self.every > 0 and epoch > 0 and epoch % self.every == 0:
            reset_adversary(self.model, self.seed * 1000 + epoch)


class StopOnNonFinite(keras.callbacks.Callback):
    """Raises TrainingDiverged naming the loss and the step when a loss is NaN or infinite."""

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                raise TrainingDiverged(
                    f"loss '{name}' became {value} at epoch {self.epoch + 1}, step {batch + 1}. "
                    "Training stopped; the last good checkpoint is kept. Lower "
                    "train.learning_rate or the loss weights and resume or start again.")


class DisentanglementMonitor(keras.callbacks.Callback):
    """Adds validation diagnostics to the epoch logs (and so to the CSV and TensorBoard logs).

    - ``mon_code_std``: mean per-dimension standard deviation of the style code;
    - ``mon_leak_mlp``: accuracy of a fresh MLP probe (fitted on half of the images' codes,
      scored on the other half) predicting the digit from the style code;
    - ``mon_swap_acc``: how often the content head (trained on real images only) recognises
      label j in generate(style_i, j) for all ten j;
    - ``mon_recon_mse``: reconstruction error with the true labels.
    The in-training adversary's loss is not a leakage measure; these are.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, seed: int = 0):
        super().__init__()
        self.images, self.labels, self.seed = images, labels, seed

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or len(self.labels) < 40:
            return
        # E.g. the cycle-consistent VAE's class codes, from these images until the end of
        # training sets them from the training images.
        self.model.finalise(self.images, self.labels)
        logs.update(monitor_metrics(self.model, self.images, self.labels, self.seed))


def monitor_metrics(model, images, labels, seed=0) -> dict[str, float]:
    """The monitor's figures (see DisentanglementMonitor) on validation images."""
    run = Run(None, model, model.config)
    codes = run.encode_style(images)
    half = len(labels) // 2
    leak = probe_accuracy(codes[:half], labels[:half], codes[half:], labels[half:], "mlp", seed)
    subset = codes[:500]
    hits = sum(int(np.sum(run.predict_content(generated).argmax(1) == label))
               for label, generated in run.each_label(subset))
    recon = run.reconstruct(images, labels)
    return {"mon_code_std": float(codes.std(axis=0).mean()), "mon_leak_mlp": leak,
            "mon_swap_acc": hits / (run.num_classes * len(subset)),
            "mon_recon_mse": float(np.mean((recon - images) ** 2))}
